/** keepInHistory: which health reports the server writes to the history. */
import type { Health } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { keepInHistory } from '../../../fleet-server/src/domain/ingest.js';

const base: Health = {
  at: '2026-11-26T05:30:00.000Z',
  seq: 1,
  agentVersion: '0.1.0',
  uptimeS: 100,
  modem: { rssiDbm: -80, operator: 'Viettel', registration: 'home' },
  inputs: { mains: true, door: 'closed', ampFault: false },
  relays: { amplifier: false },
  onAir: null,
  bundles: [{ channel: 'xa-02500', id: 'b1', version: 3 }],
  clock: { trusted: true, source: 'ntp' },
};
const T = Date.parse('2026-11-26T05:30:00Z');
const EVERY = 300_000;

describe('keepInHistory', () => {
  it('keeps the first report, then one per interval while nothing notable changes', () => {
    expect(keepInHistory(undefined, base, T, EVERY)).toBe(true);
    const last = { atMs: T, health: base };
    const same = { ...base, seq: 2, uptimeS: 160, cpuTempC: 55, load1: 0.4 };
    expect(keepInHistory(last, same, T + 60_000, EVERY)).toBe(false);
    expect(keepInHistory(last, same, T + EVERY, EVERY)).toBe(true);
    // a server clock stepped back: keep rather than go silent for the length of the step
    expect(keepInHistory(last, same, T - 1000, EVERY)).toBe(true);
  });

  it('keeps a report at once when something an operator looks at changed', () => {
    const last = { atMs: T, health: base };
    const soon = T + 10_000;
    const changes: Partial<Health>[] = [
      { inputs: { ...base.inputs, door: 'open' } },
      { relays: { amplifier: true } },
      { onAir: { kind: 'bundle', itemId: 'ban-tin-sang', since: base.at } },
      { modem: { rssiDbm: -80, operator: 'Viettel', registration: 'searching' } },
      { clock: { trusted: false, source: 'persisted' } },
      { bundles: [{ channel: 'xa-02500', id: 'b2', version: 4 }] },
      { deadAir: true },
      { volume: 40 },
      { lastError: { code: 'BUNDLE_REJECTED', message: 'chữ ký không hợp lệ', at: base.at } },
    ];
    for (const c of changes) expect(keepInHistory(last, { ...base, ...c }, soon, EVERY)).toBe(true);
    // signal strength moving a little is not notable (the interval samples it)
    const rssi = { ...base, modem: { ...base.modem, rssiDbm: -83 } } as Health;
    expect(keepInHistory(last, rssi, soon, EVERY)).toBe(false);
  });

  it('keeps every report when the interval is 0', () => {
    expect(keepInHistory({ atMs: T, health: base }, base, T + 1, 0)).toBe(true);
  });
});
