/**
 * Emergency escalation and repeat/extend: a station that never confirms is sent the emergency
 * again on its own topic, then named to the operator on duty (event, webhook path, audit); a
 * station that confirmed is left alone. The operator repeats or extends an emergency in progress,
 * signed like the original; bad requests get stable codes. Real server, real aedes, real mqtt.js.
 */
import {
  deviceSubscriptions,
  deviceTopic,
  type Emergency,
  type TrustPolicy,
  unitTopic,
  verifyManifest,
} from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ESCALATION,
  type EmergencyDeviceState,
  escalationDue,
} from '../../../fleet-server/src/domain/emergency.js';
import type { EmergencyEvent, EmergencyView } from '../../../fleet-server/src/services/emergency-service.js';
import {
  type Harness,
  nextMessage,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

const state = (deviceId: string, stage: EmergencyDeviceState['stage']): EmergencyDeviceState => ({
  deviceId,
  unit: '08/02500',
  stage,
  plays: 0,
  updatedAt: '2026-12-08T00:00:00Z',
});

describe('escalationDue (pure)', () => {
  const states = [state('a', 'sent'), state('b', 'received'), state('c', 'failed'), state('d', 'withdrawn')];
  const fresh = { resent: false, alerted: false };
  it.each([
    ['before the re-send', 10_000, fresh, { resend: [], alert: [], next: 30_000 }],
    ['at the re-send', 30_000, fresh, { resend: ['a', 'c'], alert: [], next: 90_000 }],
    [
      'after the re-send, before the alert',
      60_000,
      { resent: true, alerted: false },
      { resend: [], alert: [], next: 90_000 },
    ],
    ['at the alert', 90_000, { resent: true, alerted: false }, { resend: [], alert: ['a', 'c'] }],
    ['once both are done', 200_000, { resent: true, alerted: true }, { resend: [], alert: [] }],
  ])('%s', (_what, now, done, expected) => {
    expect(escalationDue(states, 0, now, done, DEFAULT_ESCALATION)).toEqual(expected);
  });
  it('nothing to escalate when every station confirmed', () => {
    expect(escalationDue([state('b', 'playing')], 0, 100_000, fresh)).toEqual({ resend: [], alert: [] });
  });
});

describe('emergency escalation and repeat, real server', () => {
  let h: Harness;
  let operator: TestUser;
  let editor: TestUser;
  let d1: TestDevice;
  let d2: TestDevice;
  let trust: TrustPolicy;
  const events: EmergencyEvent[] = [];
  let view: EmergencyView;

  beforeAll(async () => {
    h = await startHarness({ escalation: { resendAfterMs: 1500, alertAfterMs: 4000 } });
    operator = await h.user('vanhanh.truc', 'operator', ['08/02500']);
    editor = await h.user('bientap.xa', 'editor', ['08/02500']);
    const k = await h.api<{ publicKey: string }>(operator, 'POST', '/api/v1/signing-keys/me');
    trust = await h.installTrust([{ pub: k.body.publicKey, roles: ['emergency'], scope: ['08/02500'] }]);
    d1 = await h.device('st-02500-31', '08/02500');
    d2 = await h.device('st-02500-32', '08/02500');
    h.svc.emergency.on((e) => events.push(e));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('re-sends to the station that did not confirm, then names it to the operator; the confirmed one is left alone', async () => {
    const c1 = await h.connect(d1, deviceSubscriptions(d1.id, d1.unit));
    const c2 = await h.connect(d2, deviceSubscriptions(d2.id, d2.unit));
    const first = nextMessage<Emergency>(c1, unitTopic('08/02500', 'emergency'));
    const r = await h.api<EmergencyView>(operator, 'POST', '/api/v1/emergency', {
      unit: '08/02500',
      title: 'Cảnh báo sạt lở đất',
      text: 'Cảnh báo sạt lở đất tại thôn Tân Lập. Bà con không đi qua khu vực đồi Cây Thông.',
      repeat: 2,
      gapSeconds: 5,
    });
    expect(r.status).toBe(201);
    view = r.body;
    await first;
    // station 1 confirms (installed it); station 2 stays silent
    await c1.publishAsync(
      deviceTopic(d1.id, 'status'),
      JSON.stringify({
        bundleId: view.bundle.id,
        channel: 'emergency',
        version: view.bundle.version,
        state: 'active',
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    const resent = await nextMessage<Emergency>(c2, deviceTopic(d2.id, 'emergency'), () => true, 30_000);
    expect(resent.manifest.id).toBe(view.bundle.id);
    expect(() => verifyManifest(resent.manifest, { trust, now: new Date(h.now()) })).not.toThrow();
    await expect
      .poll(() => events.find((e) => e.type === 'emergency.unconfirmed' && e.bundleId === view.bundle.id), {
        timeout: 30_000,
      })
      .toMatchObject({
        unit: '08/02500',
        title: 'Cảnh báo sạt lở đất',
        devices: [{ id: d2.id, name: d2.record.name, unit: '08/02500' }],
      });
    // station 1 was never re-sent it on its own topic
    let again = false;
    c1.on('message', (t) => {
      if (t === deviceTopic(d1.id, 'emergency')) again = true;
    });
    const audit = await h.server.deps.store.audit.query({ action: 'emergency.unconfirmed' });
    expect(audit.map((e) => [e.target?.id, e.details?.devices])).toEqual([[view.bundle.id, d2.record.name]]);
    expect(again).toBe(false);
    await c1.endAsync(true);
    await c2.endAsync(true);
  });

  it('repeats and extends an emergency in progress, signed like the original, with the same audio', async () => {
    const c = await h.connect(d1, deviceSubscriptions(d1.id, d1.unit));
    const next = nextMessage<Emergency>(
      c,
      unitTopic('08/02500', 'emergency'),
      (m) => m.manifest.id !== view.bundle.id,
    );
    const r = await h.api<EmergencyView>(operator, 'POST', `/api/v1/emergency/${view.bundle.id}/repeat`, {
      repeat: 5,
      validMinutes: 240,
    });
    expect(r.status).toBe(201);
    const m = (await next).manifest;
    expect(m.version).toBe(view.bundle.version + 1);
    expect(m.schedule?.[0]?.repeat).toEqual({ count: 5, gapSeconds: 5 });
    expect(Date.parse(m.expires) - Date.parse(m.created)).toBe(240 * 60_000);
    expect(m.items.find((i) => i.id === 'alert-audio')?.blob).toEqual(
      view.bundle.manifest.items.find((i) => i.id === 'alert-audio')?.blob,
    );
    expect(() => verifyManifest(m, { trust, now: new Date(h.now()) })).not.toThrow();
    expect((await h.server.deps.store.bundles.get(m.id))?.meta?.repeatOf).toBe(view.bundle.id);
    await c.endAsync(true);
  });

  it('refuses bad repeats with stable codes and sends nothing', async () => {
    const before = await h.server.deps.store.bundles.count();
    const cases: [TestUser, string, unknown, number, string][] = [
      [operator, '/api/v1/emergency/emergency-v999/repeat', {}, 404, 'EMERGENCY_NOT_FOUND'],
      [operator, `/api/v1/emergency/${view.bundle.id}/repeat`, { repeat: 0 }, 400, 'VALIDATION_FAILED'],
      [operator, `/api/v1/emergency/${view.bundle.id}/repeat`, { unit: '08' }, 400, 'VALIDATION_FAILED'],
      [editor, `/api/v1/emergency/${view.bundle.id}/repeat`, {}, 403, 'FORBIDDEN_ROLE'],
    ];
    for (const [u, path, body, status, code] of cases) {
      const r = await h.api<{ error: { code: string } }>(u, 'POST', path, body);
      expect([r.status, r.body.error?.code], `${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    // a cancelled emergency cannot be repeated
    const recall = await h.api(operator, 'POST', `/api/v1/bundles/${view.bundle.id}/recall`, {
      reason: 'Báo nhầm',
    });
    expect(recall.status).toBe(200);
    const r = await h.api<{ error: { code: string } }>(
      operator,
      'POST',
      `/api/v1/emergency/${view.bundle.id}/repeat`,
      {},
    );
    expect([r.status, r.body.error.code]).toEqual([409, 'EMERGENCY_CANCELLED']);
    expect(await h.server.deps.store.bundles.count()).toBe(before);
  });
});
