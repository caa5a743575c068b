import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClockStateSchema } from '@loa/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  agentNow,
  applySample,
  type ClockReading,
  clockState,
  raiseFloor,
  trustedNow,
} from '../../agent/src/domain/clock-trust.js';
import { createQuectelModem } from '../../agent/src/drivers/modem/quectel.js';
import { SimModemDevice, SimModemTransport } from '../../agent/src/drivers/modem/sim.js';
import { type ModemClock, TrustedClock } from '../../agent/src/services/station/clock.js';
import { ModemSupervisor } from '../../agent/src/services/station/modem-supervisor.js';

const T = Date.parse('2026-11-26T05:00:00Z');
const log = pino({ level: 'silent' });

describe('clock trust rules', () => {
  test('untrusted until a source speaks; then trusted time follows the monotonic clock', () => {
    const r0: ClockReading = { wallMs: Date.UTC(1970, 0, 1, 0, 1), monoMs: 1000 };
    expect(trustedNow({}, r0)).toBeUndefined();
    expect(clockState({})).toEqual({ trusted: false, source: 'none' });
    const v = applySample({}, { source: 'modem', timeMs: T }, r0);
    expect(v.accepted).toBe(true);
    // The system clock jumps by a day; the trusted time does not.
    const r1 = { wallMs: r0.wallMs + 86_400_000, monoMs: 61_000 };
    expect(trustedNow(v.state, r1)).toBe(T + 60_000);
    expect(ClockStateSchema.parse(clockState(v.state))).toMatchObject({ trusted: true, source: 'modem' });
  });

  test('implausible samples (modem before registration) and samples before the last trusted time are rejected', () => {
    const r = { wallMs: T, monoMs: 0 };
    const v1 = applySample({}, { source: 'modem', timeMs: Date.UTC(2000, 0, 1) }, r);
    expect(v1).toMatchObject({ accepted: false, reason: 'implausible' });
    const floor = { lastTrustedMs: T, lastTrustedSource: 'ntp' as const };
    const v2 = applySample(floor, { source: 'server', timeMs: T - 3600_000 }, r);
    expect(v2).toMatchObject({ accepted: false, reason: 'before-last-trusted' });
    // the same source that set the floor cannot move it back either
    expect(applySample(floor, { source: 'ntp', timeMs: T - 3600_000 }, r)).toMatchObject({
      accepted: false,
      reason: 'before-last-trusted',
    });
  });

  test('a modem that reported a time years ahead cannot keep the station in the future: NTP or the server corrects it', () => {
    const boot = { wallMs: Date.UTC(1970, 0, 1), monoMs: 0 };
    // a bad NITZ: the modem says 2031 and is the first source after a power cut
    const bogus = Date.parse('2031-03-01T00:00:00Z');
    const poisoned = applySample({}, { source: 'modem', timeMs: bogus }, boot);
    expect(poisoned.state).toMatchObject({ lastTrustedMs: bogus, lastTrustedSource: 'modem' });
    // the server's time, once the link is up, is believed over the modem, backwards
    const r = { wallMs: T, monoMs: 30_000 };
    const fixed = applySample(poisoned.state, { source: 'server', timeMs: T }, r);
    expect(fixed).toMatchObject({ accepted: true, state: { lastTrustedMs: T, lastTrustedSource: 'server' } });
    expect(fixed.accepted && fixed.correctedBackMs).toBe(bogus - T);
    expect(agentNow(fixed.state, r)).toBe(T);
    // the modem repeating its bad time now is a weaker source against a fresh anchor
    expect(
      applySample(fixed.state, { source: 'modem', timeMs: bogus + 60_000 }, { wallMs: T, monoMs: 90_000 }),
    ).toMatchObject({
      accepted: false,
    });
    // a floor persisted by an older agent (no source recorded) counts as the weakest source
    const old = applySample({ lastTrustedMs: bogus }, { source: 'ntp', timeMs: T }, r);
    expect(old).toMatchObject({ accepted: true, state: { lastTrustedMs: T, lastTrustedSource: 'ntp' } });
  });

  test('a worse source moves a better anchor only once it is stale, and only if it disagrees by more than the threshold', () => {
    const r = { wallMs: T, monoMs: 0 };
    const ntp = applySample({}, { source: 'ntp', timeMs: T }, r).state;
    // fresh NTP anchor: the modem is not believed, however far off it is
    expect(applySample(ntp, { source: 'modem', timeMs: T + 800 }, r)).toMatchObject({
      accepted: false,
      reason: 'not-better',
    });
    expect(applySample(ntp, { source: 'modem', timeMs: T + 60_000 }, r)).toMatchObject({
      accepted: false,
      reason: 'not-better',
    });
    // NTP silent for 7 hours: the modem may re-anchor when it disagrees by more than 5 s
    const later = { wallMs: T, monoMs: 7 * 3600_000 };
    const trusted = T + 7 * 3600_000;
    expect(applySample(ntp, { source: 'modem', timeMs: trusted + 800 }, later)).toMatchObject({
      accepted: false,
      reason: 'not-better',
    });
    expect(applySample(ntp, { source: 'modem', timeMs: trusted + 60_000 }, later).accepted).toBe(true);
  });

  test('server times that agree within their delay noise do not move the clock; a real disagreement or an hour-old anchor does', () => {
    const r0 = { wallMs: T, monoMs: 0 };
    const first = applySample({}, { source: 'server', timeMs: T }, r0).state;
    // acks arrive 40–180 ms after the server stamped them: early by a different amount each time
    const r1 = { wallMs: T + 60_000, monoMs: 60_000 };
    for (const delay of [40, 180, 95])
      expect(applySample(first, { source: 'server', timeMs: T + 60_000 - delay }, r1)).toMatchObject({
        accepted: false,
        reason: 'not-better',
      });
    expect(trustedNow(first, r1)).toBe(T + 60_000);
    // two seconds off: the clock is corrected
    expect(applySample(first, { source: 'server', timeMs: T + 62_000 }, r1).accepted).toBe(true);
    // an hour on, a sample within the noise refreshes the anchor (crystal drift)
    const r2 = { wallMs: T + 3700_000, monoMs: 3700_000 };
    expect(applySample(first, { source: 'server', timeMs: T + 3700_000 - 120 }, r2).accepted).toBe(true);
    // NTP (the disciplined system clock, no delay) re-anchors at every poll
    const ntp = applySample({}, { source: 'ntp', timeMs: T }, r0).state;
    expect(applySample(ntp, { source: 'ntp', timeMs: T + 60_020 }, r1).accepted).toBe(true);
  });

  test('the agent never runs on a clock earlier than the persisted last trusted time', () => {
    const state = { lastTrustedMs: T };
    expect(agentNow(state, { wallMs: Date.UTC(1970, 0, 2), monoMs: 5 })).toBe(T);
    expect(clockState(state)).toEqual({
      trusted: false,
      source: 'persisted',
      lastTrusted: new Date(T).toISOString(),
    });
  });

  test('while untrusted, time runs on from the floor with the monotonic clock; a signed creation time raises it; a source replaces it', () => {
    const boot = { wallMs: Date.UTC(2022, 2, 1), monoMs: 1000 };
    const state = { lastTrustedMs: T, floor: { ms: T, monoMs: 1000 } };
    // the system clock is years behind: the agent's time does not stand still at the floor
    expect(agentNow(state, boot)).toBe(T);
    expect(agentNow(state, { wallMs: boot.wallMs + 3000, monoMs: 4000 })).toBe(T + 3000);
    // a bundle signed later than the floor moves it up (never down)
    const signed = T + 86_400_000;
    const raised = raiseFloor(state, signed, { wallMs: boot.wallMs + 3000, monoMs: 4000 });
    expect(agentNow(raised, { wallMs: boot.wallMs + 5000, monoMs: 6000 })).toBe(signed + 2000);
    expect(raiseFloor(raised, T, { wallMs: boot.wallMs, monoMs: 6000 })).toBe(raised);
    expect(clockState(raised).trusted).toBe(false);
    // a trusted source decides from then on, even behind the signed creation time
    const v = applySample(
      raised,
      { source: 'modem', timeMs: signed - 3600_000 },
      { wallMs: 0, monoMs: 7000 },
    );
    expect(v.accepted).toBe(true);
    expect(agentNow(v.state, { wallMs: 0, monoMs: 8000 })).toBe(signed - 3600_000 + 1000);
    expect(raiseFloor(v.state, signed, { wallMs: 0, monoMs: 8000 })).toBe(v.state);
  });
});

describe('TrustedClock service', () => {
  let dir: string;
  let reading: ClockReading;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loa-clock-'));
    reading = { wallMs: Date.UTC(1970, 0, 1), monoMs: 0 };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const make = (exec: (c: string, a: string[]) => Promise<string>, modem?: ModemClock) =>
    new TrustedClock(
      { dataDir: dir, ntpPollMs: 3600_000, checkpointMs: 3600_000, ...(modem ? { modem } : {}) },
      { logger: log, exec, reading: () => reading },
    );
  /** A modem whose network time is `utcMs` (no readings of its own). */
  const modemAt = (utcMs: number): ModemClock => ({
    networkNow: () => ({ utcMs }),
    on: () => () => undefined,
  });

  test('NTPSynchronized=yes from timedatectl makes time trusted', async () => {
    reading = { wallMs: T, monoMs: 0 };
    const calls: string[][] = [];
    const c = make(async (cmd, args) => {
      calls.push([cmd, ...args]);
      return 'yes\n';
    });
    await c.start();
    expect(calls[0]).toEqual(['timedatectl', 'show', '-p', 'NTPSynchronized', '--value']);
    expect(c.trusted()).toBe(true);
    expect(c.state().source).toBe('ntp');
    await c.stop();
  });

  test('without timedatectl, the modem time makes it trusted; it is persisted (fsync, rename) and survives a reboot', async () => {
    const c = make(async () => {
      throw Object.assign(new Error('spawn timedatectl ENOENT'), { code: 'ENOENT' });
    }, modemAt(T));
    let changes = 0;
    c.on('change', () => changes++);
    await c.start();
    expect(c.trusted()).toBe(true);
    expect(changes).toBe(1);
    reading = { wallMs: reading.wallMs + 5000, monoMs: 5000 };
    expect(c.now()).toBe(T + 5000);
    await c.stop();
    expect(JSON.parse(await readFile(join(dir, 'clock.json'), 'utf8'))).toEqual({
      lastTrustedMs: T + 5000,
      source: 'modem',
    });

    // Reboot without an RTC: the system clock is back in 1970, no source answers yet.
    reading = { wallMs: Date.UTC(1970, 0, 1), monoMs: 0 };
    const c2 = make(async () => 'no\n');
    await c2.start();
    expect(c2.trusted()).toBe(false);
    expect(c2.state()).toEqual({
      trusted: false,
      source: 'persisted',
      lastTrusted: new Date(T + 5000).toISOString(),
    });
    expect(c2.now()).toBe(T + 5000);
    // the offline minutes pass on the monotonic clock, not on the system clock that is stuck in 1970
    reading = { wallMs: Date.UTC(1970, 0, 1), monoMs: 40_000 };
    expect(c2.now()).toBe(T + 45_000);
    // a verified bundle signed later moves the untrusted clock up to its creation, not to trust
    c2.noteSignedTime(T + 50_000, 'b-canh-bao-1');
    expect(c2.now()).toBe(T + 50_000);
    expect(c2.trusted()).toBe(false);
    let changed = 0;
    c2.on('change', () => changed++);
    c2.reportServerTime(T + 60_000, 200);
    expect(c2.trusted()).toBe(true);
    expect(c2.now()).toBe(T + 60_100);
    expect(changed).toBe(1);
    await c2.stop();
  });

  test('a modem time years ahead, persisted, is corrected by the server after a reboot and the fix is persisted', async () => {
    const bogus = Date.parse('2031-03-01T00:00:00Z');
    const c = make(async () => 'no\n', modemAt(bogus));
    await c.start();
    await c.stop();
    expect(JSON.parse(await readFile(join(dir, 'clock.json'), 'utf8'))).toMatchObject({
      lastTrustedMs: bogus,
      source: 'modem',
    });
    reading = { wallMs: Date.UTC(1970, 0, 1), monoMs: 0 };
    const c2 = make(async () => 'no\n');
    await c2.start();
    expect(c2.now()).toBe(bogus);
    let changed = 0;
    c2.on('change', () => changed++);
    c2.reportServerTime(T, 0);
    expect(c2.now()).toBe(T);
    expect(c2.state()).toMatchObject({ trusted: true, source: 'server' });
    expect(changed).toBe(1);
    await c2.stop();
    expect(JSON.parse(await readFile(join(dir, 'clock.json'), 'utf8'))).toEqual({
      lastTrustedMs: T,
      source: 'server',
    });
  });

  test('a corrupt clock.json is ignored with a warning, not a crash', async () => {
    await writeFile(join(dir, 'clock.json'), '{"lastTrustedMs": "soon"');
    const c = make(async () => 'no\n');
    await c.start();
    expect(c.state()).toEqual({ trusted: false, source: 'none' });
    await c.stop();
  });

  test('an offline pole: the modem trusts the clock as soon as it answers, not at the next 10-minute poll; until then the log and the technician text say what was tried', async () => {
    const lines: { code?: string; msg: string; modem?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    reading = { wallMs: Date.UTC(1970, 0, 1), monoMs: 0 }; // no RTC, no NTP
    const device = new SimModemDevice({ latencyMs: 5, bootMs: 300 });
    device.setPowered(false); // the modem is still booting when the agent starts
    const { modem } = createQuectelModem(new SimModemTransport({ device }), { logger, timeoutMs: 300 });
    // The supervisor polls the modem often (a minute on a station); the clock's own re-read is 10 min.
    const sup = new ModemSupervisor({ modem, logger, pollMs: 500 });
    const c = new TrustedClock(
      { dataDir: dir, ntpPollMs: 3600_000, checkpointMs: 3600_000, modem: sup },
      {
        logger,
        exec: async () => {
          throw Object.assign(new Error('spawn timedatectl ENOENT'), { code: 'ENOENT' });
        },
        reading: () => ({ wallMs: Date.UTC(1970, 0, 1) + performance.now(), monoMs: performance.now() }),
      },
    );
    await c.start();
    expect(c.trusted()).toBe(false);
    expect(c.waiting()).toBe(
      'Đang chờ đồng hồ tin cậy: đã thử NTP (không có dịch vụ NTP), máy chủ (chưa liên lạc được), modem (chưa trả lời)',
    );
    expect(lines.some((l) => l.code === 'CLOCK_WAITING' && l.modem === 'no-answer')).toBe(true);
    const t0 = performance.now();
    await sup.start();
    device.setPowered(true);
    for (let i = 0; i < 200 && !c.trusted(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(c.trusted()).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(c.state().source).toBe('modem');
    expect(Math.abs(c.now() - Date.now())).toBeLessThan(2000);
    expect(c.waiting()).toBeUndefined();
    await sup.stop();
    await c.stop();
  });
});
