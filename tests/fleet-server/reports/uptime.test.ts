import { describe, expect, it } from 'vitest';
import type { PresenceEntry } from '../../../fleet-server/src/domain/model.js';
import {
  CLAMP_PART,
  type PresenceClamp,
  type PresenceSum,
  presenceParts,
  SUM_PART,
} from '../../../fleet-server/src/domain/reports/rollup.js';
import {
  type DeviceUptimeFold,
  emptyPresenceState,
  foldPresence,
  uptimeOf,
} from '../../../fleet-server/src/domain/reports/uptime.js';

const D1 = Date.parse('2026-11-24T00:00:00Z');
const H = 3600_000;
const at = (hms: string, day = '2026-11-24') => `${day}T${hms}Z`;
const ev = (t: string, event: PresenceEntry['event'], deviceId?: string): PresenceEntry => ({
  at: at(t),
  event,
  ...(deviceId ? { deviceId } : {}),
});

// A hand-checked day: a short and a long outage, a clean restart, a crash, a station that never connects.
const DAY1: PresenceEntry[] = [
  ev('00:00:00', 'server-start'),
  ev('00:00:30', 'connect', 'A'), // 30 s after the start: within the reconnect grace
  ev('00:01:00', 'connect', 'B'), // 60 s: within the grace
  ev('02:00:00', 'disconnect', 'A'),
  ev('02:00:20', 'connect', 'A'), // short outage: 20 s
  ev('06:00:00', 'disconnect', 'B'),
  ev('10:00:00', 'connect', 'B'), // long outage: 4 h
  ev('12:00:00', 'server-stop'), // clean stop: 12:00–13:00 unknown
  ev('13:00:00', 'server-start'),
  ev('13:00:10', 'connect', 'A'), // grace 10 s
  ev('13:05:00', 'connect', 'B'), // 5 min: past the 2 min grace, B was offline meanwhile
  ev('20:00:00', 'server-alive'),
  // the server dies here with no stop; 20:00–22:00 unknown
  ev('22:00:00', 'server-start'),
  ev('22:00:05', 'connect', 'A'),
  ev('22:00:05', 'connect', 'B'),
];

describe('uptime from presence intervals', () => {
  const { state, fold } = foldPresence(emptyPresenceState(), DAY1, D1, D1 + 24 * H);

  it('counts server time up only: 12 h + 7 h + 2 h, with a clean stop and a crash bounded by the last alive mark', () => {
    expect(fold.serverUp).toEqual([
      [D1, D1 + 12 * H],
      [D1 + 13 * H, D1 + 20 * H],
      [D1 + 22 * H, D1 + 24 * H],
    ]);
    expect(fold.serverStarts).toBe(3);
  });

  it('gives each station its online time against the time it could be observed (hand-checked seconds)', () => {
    const u = uptimeOf(
      [fold],
      [
        { id: 'A', since: 0 },
        { id: 'B', since: 0 },
        { id: 'C', since: 0 },
        { id: 'C2', since: D1 + 13 * H }, // enrolled at 13:00, never connected
      ],
      D1,
      D1 + 24 * H,
    );
    const by = Object.fromEntries(u.map((x) => [x.deviceId, x]));
    // A: 21 h observed less 30 + 10 + 5 s of reconnect grace; offline only for its 20 s outage
    expect(by.A?.knownMs).toBe((75_600 - 45) * 1000);
    expect(by.A?.onlineMs).toBe(75_535 * 1000);
    expect(by.A?.outages).toBe(1);
    expect(by.A?.longestOutageMs).toBe(20_000);
    // B: less 60 + 5 s of grace; offline 4 h (outage) + 5 min (slow reconnect after the restart)
    expect(by.B?.knownMs).toBe((75_600 - 65) * 1000);
    expect(by.B?.onlineMs).toBe((75_535 - 14_400 - 300) * 1000);
    expect(by.B?.outages).toBe(1);
    expect(by.B?.longestOutageMs).toBe(4 * H);
    expect(by.B?.uptime).toBeCloseTo(60_835 / 75_535, 9);
    // C never connected: observed the whole 21 h, online 0
    expect(by.C?.knownMs).toBe(21 * H);
    expect(by.C?.uptime).toBe(0);
    // C2 counts from its enrolment: 13:00–20:00 and 22:00–24:00
    expect(by.C2?.knownMs).toBe(9 * H);
  });

  it('carries open connections over the day boundary, and a quiet next day is fully up', () => {
    const D2 = D1 + 24 * H;
    const next = foldPresence(state, [], D2, D2 + 24 * H);
    expect(next.fold.serverUp).toEqual([[D2, D2 + 24 * H]]);
    const u = uptimeOf([fold, next.fold], [{ id: 'A', since: 0 }], D2, D2 + 24 * H);
    expect(u[0]?.onlineMs).toBe(24 * H);
    expect(u[0]?.uptime).toBe(1);
    // over both days A's figures add up
    const both = uptimeOf([fold, next.fold], [{ id: 'A', since: 0 }], D1, D2 + 24 * H);
    expect(both[0]?.onlineMs).toBe((75_535 + 86_400) * 1000);
  });

  it('a crash right after a start with no alive mark closes the connections at the last event seen', () => {
    const events = [
      ev('00:00:00', 'server-start'),
      ev('00:00:01', 'connect', 'A'),
      ev('03:00:00', 'disconnect', 'A'),
      ev('05:00:00', 'server-start'),
    ];
    const r = foldPresence(emptyPresenceState(), events, D1, D1 + 6 * H);
    expect(r.fold.serverUp).toEqual([
      [D1, D1 + 3 * H],
      [D1 + 5 * H, D1 + 6 * H],
    ]);
    const u = uptimeOf([r.fold], [{ id: 'A', since: 0 }], D1, D1 + 6 * H);
    // A was observed 4 h (less its 1 s grace), online 3 h less 1 s
    expect(u[0]?.knownMs).toBe(4 * H - 1000);
    expect(u[0]?.onlineMs).toBe(3 * H - 1000);
  });
});

describe('presence totals of a rollup part', () => {
  it('adds up a day per part and names the devices whose online time exceeds what could be observed', () => {
    const { fold, state } = foldPresence(emptyPresenceState(), DAY1, D1, D1 + 24 * H);
    // C is not in the hand-checked day: it is given 22 h online in a day the server was up 21 h
    fold.devices.C = { onlineMs: 22 * H, grace: [], outages: 0, outageMs: 0, longestOutageMs: 0 };
    const parts = presenceParts(fold, state, { A: '08/02500', B: '08/02500', C: '08/02503' });
    const sum = parts[SUM_PART] as PresenceSum;
    const a = fold.devices.A as DeviceUptimeFold;
    const b = fold.devices.B as DeviceUptimeFold;
    const graceOf = (d: DeviceUptimeFold) => d.grace.reduce((n, [x, y]) => n + (y - x), 0);
    expect(sum.u['08/02500']).toEqual({
      ids: ['A', 'B'],
      g: graceOf(a) + graceOf(b),
      on: a.onlineMs + b.onlineMs,
      o: a.outages + b.outages,
      om: a.outageMs + b.outageMs,
      lo: Math.max(a.longestOutageMs, b.longestOutageMs),
    });
    // A (75,555 s observed, 75,535 s online) and B stay within the server's 21 h less their grace
    expect((parts[CLAMP_PART] as PresenceClamp).u).toEqual({ '08/02503': ['C'] });
  });
});
