/** The pure alert rules and the open → acknowledged → resolved life cycle. */
import type { Health } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  acknowledgeAlert,
  DEFAULT_ALERT_RULES,
  evaluateAlerts,
  reconcileAlerts,
} from '../../../fleet-server/src/domain/alerts.js';
import {
  applyHealth,
  applyPresence,
  applyProof,
  type DeviceLiveState,
  emptyLiveState,
} from '../../../fleet-server/src/domain/ingest.js';

const T0 = Date.parse('2026-11-26T00:00:00Z');
const ok: Health = {
  at: '2026-11-26T07:00:00+07:00',
  seq: 1,
  agentVersion: '0.1.0',
  uptimeS: 3600,
  diskFreeMb: 4000,
  inputs: { mains: true, door: 'closed', ampFault: false },
  relays: { amplifier: false },
  onAir: null,
  bundles: [],
  clock: { trusted: true, source: 'ntp' },
  modem: { rssiDbm: -80, operator: 'VNPT', registration: 'home' },
};
const online = (): DeviceLiveState => applyPresence(emptyLiveState('st-1', '08/02500', T0), true, T0);
const rules = (s: DeviceLiveState, now = T0) =>
  evaluateAlerts(s, now, DEFAULT_ALERT_RULES)
    .map((c) => c.rule)
    .sort();

describe('alert rules', () => {
  it('a healthy online station raises nothing', () => {
    expect(rules(applyHealth(online(), ok, T0))).toEqual([]);
  });

  it('each sensor rule fires on its own condition', () => {
    const cases: [Partial<Health>, string][] = [
      [{ inputs: { ...ok.inputs, ampFault: true } }, 'amp-fault'],
      [{ inputs: { ...ok.inputs, mains: false } }, 'mains-lost'],
      [{ inputs: { ...ok.inputs, door: 'open' } }, 'door-open'],
      [{ modem: { rssiDbm: -113, operator: null, registration: 'searching' } }, 'weak-signal'],
      [{ clock: { trusted: false, source: 'none' } }, 'clock-untrusted'],
      [{ deadAir: true }, 'dead-air'],
      [{ diskFreeMb: 12 }, 'disk-low'],
    ];
    for (const [over, rule] of cases)
      expect(rules(applyHealth(online(), { ...ok, ...over }, T0)), rule).toEqual([rule]);
  });

  it('right after boot, conditions that a starting station shows (mains, clock, door, signal) wait for the grace period', () => {
    const booting: Health = {
      ...ok,
      uptimeS: 0,
      inputs: { mains: false, door: 'open', ampFault: true },
      clock: { trusted: false, source: 'none' },
      modem: { rssiDbm: -113, operator: null, registration: 'searching' },
    };
    const s = applyHealth(online(), booting, T0);
    // The amplifier fault is real at any uptime; the others are what a booting station shows.
    expect(rules(s, T0)).toEqual(['amp-fault']);
    // Still so five minutes after boot (the last report kept saying so): now they are alerts.
    expect(rules(s, T0 + 301_000)).toEqual([
      'amp-fault',
      'clock-untrusted',
      'door-open',
      'mains-lost',
      'weak-signal',
    ]);
  });

  it('unknown sensor values (null) raise nothing; a stale report stops driving sensor alerts', () => {
    const unknown = {
      ...ok,
      inputs: { mains: null, door: null, ampFault: null },
      modem: { rssiDbm: null, operator: null, registration: 'unknown' as const },
    };
    expect(rules(applyHealth(online(), unknown, T0))).toEqual([]);
    const s = applyHealth(online(), { ...ok, deadAir: true }, T0);
    expect(rules(s, T0 + 31 * 60_000)).toEqual([]);
  });

  it('offline only after N minutes', () => {
    const s = applyPresence(online(), false, T0);
    expect(rules(s, T0 + 9 * 60_000)).toEqual([]);
    expect(rules(s, T0 + 11 * 60_000)).toEqual(['offline']);
  });

  it('a failed playback raises until a later one succeeds', () => {
    const proof = { seq: 1, outcome: 'failed' as const, reason: 'ffmpeg exited 1' } as Parameters<
      typeof applyProof
    >[1];
    const failed = applyProof(online(), proof, T0);
    expect(rules(failed)).toEqual(['playback-failed']);
    const good = applyProof(failed, { ...proof, seq: 2, outcome: 'completed' }, T0 + 1000);
    expect(rules(good)).toEqual([]);
  });

  it('reconcile opens new conditions once, keeps acknowledged ones, resolves cleared ones', () => {
    let n = 0;
    const id = () => `a${++n}`;
    const s = applyHealth(online(), { ...ok, deadAir: true, inputs: { ...ok.inputs, door: 'open' } }, T0);
    const first = reconcileAlerts([], s, evaluateAlerts(s, T0, DEFAULT_ALERT_RULES), new Date(T0), id);
    expect(first.opened.map((a) => a.rule).sort()).toEqual(['dead-air', 'door-open']);
    const acked = first.opened.map((a) =>
      a.rule === 'door-open' ? acknowledgeAlert(a, 'vanhanh', new Date(T0 + 1)) : a,
    );
    const again = reconcileAlerts(acked, s, evaluateAlerts(s, T0, DEFAULT_ALERT_RULES), new Date(T0 + 2), id);
    expect(again).toEqual({ opened: [], resolved: [] });
    const fixed = applyHealth(s, { ...ok, inputs: { ...ok.inputs, door: 'open' } }, T0 + 3);
    const third = reconcileAlerts(
      acked,
      fixed,
      evaluateAlerts(fixed, T0 + 3, DEFAULT_ALERT_RULES),
      new Date(T0 + 3),
      id,
    );
    expect(third.opened).toEqual([]);
    expect(third.resolved.map((a) => [a.rule, a.state])).toEqual([['dead-air', 'resolved']]);
    expect(() => acknowledgeAlert(third.resolved[0] as Alert, 'x', new Date())).toThrow(/giải quyết/);
  });
});
