/**
 * Targets narrowed to devices or groups are notified on device topics only; the trust policy's
 * key scope is enforced even when the user's role scope would allow the unit; a channel cannot
 * publish an older version after a newer one; the routes are in the OpenAPI document.
 */
import { deviceSubscriptions, deviceTopic, type Notify, unitTopic } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { waitFor } from '../app/harness.js';
import {
  type Harness,
  nextMessage,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

type Err = { error: { code: string } };

describe('targets and key scope', () => {
  let h: Harness;
  let editor: TestUser;
  let approver: TestUser;
  let text: ContentRecord;
  let a: TestDevice;
  let b: TestDevice;
  let c: TestDevice;

  beforeAll(async () => {
    h = await startHarness();
    editor = await h.user('bientap.huyen', 'editor', ['08']);
    approver = await h.user('duyet.huyen', 'approver', ['08']);
    const ke = await h.api<{ publicKey: string }>(editor, 'POST', '/api/v1/signing-keys/me');
    const ka = await h.api<{ publicKey: string }>(approver, 'POST', '/api/v1/signing-keys/me');
    // the editor's KEY only covers commune 02500 although the editor's role scope is the province
    await h.installTrust([
      { pub: ke.body.publicKey, roles: ['content'], scope: ['08/02500'] },
      { pub: ka.body.publicKey, roles: ['content'], scope: ['08'] },
    ]);
    text = (
      await h.api<ContentRecord>(editor, 'POST', '/api/v1/content/text', {
        title: 'Họp tổ dân phố',
        unit: '08/02500',
        text: 'Họp lúc 19 giờ tại nhà văn hoá.',
      })
    ).body;
    a = await h.device('st-a', '08/02500', ['cho']);
    b = await h.device('st-b', '08/02500', ['truong']);
    c = await h.device('st-c', '08/02500');
  });
  afterAll(async () => {
    await h?.stop();
  });

  const compose = (targets: unknown[], channel = 'xa-02500') =>
    h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
      channel,
      items: [{ content: text.id }],
      targets,
    });

  it('refuses to sign with a key whose delegated scope does not cover the target', async () => {
    const r = await compose([{ unit: '08/02600' }], 'xa-02600');
    expect(r.status).toBe(201);
    const s = await h.api<Err>(editor, 'POST', `/api/v1/bundles/${r.body.id}/submit`, { sign: true });
    expect(s.status).toBe(422);
    expect(s.body.error.code).toBe('SCOPE_NOT_COVERED');
    expect((await h.server.deps.store.bundles.get(r.body.id))?.state).toBe('draft');
  });

  it('notifies device- and group-narrowed targets on their device topics only', async () => {
    const ca = await h.connect(a, deviceSubscriptions(a.id, a.unit));
    const cb = await h.connect(b, deviceSubscriptions(b.id, b.unit));
    const cc = await h.connect(c, deviceSubscriptions(c.id, c.unit));
    const seenByC: string[] = [];
    cc.on('message', (t) => seenByC.push(t));
    const r = await compose([{ unit: '08/02500', devices: ['st-a'], groups: ['truong'] }]);
    await h.api(editor, 'POST', `/api/v1/bundles/${r.body.id}/submit`, { sign: true });
    await h.api(approver, 'POST', `/api/v1/bundles/${r.body.id}/approve`, { sign: true });
    const na = nextMessage<Notify>(ca, deviceTopic(a.id, 'notify'));
    const nb = nextMessage<Notify>(cb, deviceTopic(b.id, 'notify'));
    const p = await h.api<BundleRecord>(approver, 'POST', `/api/v1/bundles/${r.body.id}/publish`);
    expect(p.status).toBe(200);
    expect((await na).bundleId).toBe(r.body.id);
    expect((await nb).bundleId).toBe(r.body.id);
    expect(await h.svc.notifier.topicsFor(p.body.manifest.targets, 'notify')).toEqual([
      deviceTopic('st-a', 'notify'),
      deviceTopic('st-b', 'notify'),
    ]);
    expect(seenByC).not.toContain(unitTopic('08/02500', 'notify'));
    const roll = await h.api<{ summary: { total: number; notified: number } }>(
      approver,
      'GET',
      `/api/v1/bundles/${r.body.id}/rollout`,
    );
    expect(roll.body.summary).toMatchObject({ total: 2, notified: 2 });
    // device c is not a target: it may not read the manifest
    const res = await fetch(`${h.server.url}/bundles/${r.body.id}/manifest.json`, {
      headers: { authorization: c.basic },
    });
    expect(res.status).toBe(403);
  });

  it('refuses to publish an older version of a channel after a newer one', async () => {
    const older = await compose([{ unit: '08/02500' }], 'xa-02500-tin');
    const newer = await compose([{ unit: '08/02500' }], 'xa-02500-tin');
    for (const x of [older, newer]) {
      await h.api(editor, 'POST', `/api/v1/bundles/${x.body.id}/submit`, { sign: true });
      await h.api(approver, 'POST', `/api/v1/bundles/${x.body.id}/approve`, { sign: true });
    }
    expect((await h.api(approver, 'POST', `/api/v1/bundles/${newer.body.id}/publish`)).status).toBe(200);
    const stale = await h.api<Err>(approver, 'POST', `/api/v1/bundles/${older.body.id}/publish`);
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('BUNDLE_VERSION_CONFLICT');
  });

  it('a station that was offline catches up: notified after its first health report', async () => {
    const d = await h.device('st-d', '08/02500');
    const cd = await h.connect(d, deviceSubscriptions(d.id, d.unit));
    const n = nextMessage<Notify>(cd, deviceTopic(d.id, 'notify'), (m) => m.channel === 'xa-02500-tin');
    const health = {
      at: new Date().toISOString(),
      seq: 1,
      agentVersion: '0.1.0',
      uptimeS: 5,
      inputs: { mains: true, door: 'closed', ampFault: false },
      relays: { amplifier: false },
      onAir: null,
      bundles: [],
      clock: { trusted: true, source: 'ntp' },
    };
    await cd.publishAsync(deviceTopic(d.id, 'health'), JSON.stringify(health), { qos: 1 });
    expect((await n).version).toBe(2);
    // the row is written right after the notify goes out: the test may read before it lands
    await waitFor(async () => (await h.server.deps.store.rollouts.forDevice(d.id)).length > 0);
    const rows = await h.server.deps.store.rollouts.forDevice(d.id);
    expect(rows.map((r) => r.state)).toEqual(['notified']);
    // a station that already runs the newest version is not notified again
    expect(await h.svc.publisher.catchUp(d.id, [{ channel: 'xa-02500-tin', version: 2 }])).toEqual([]);
  });

  it('lists the content-side routes in the OpenAPI document', async () => {
    const doc = await h.api<{ paths: Record<string, unknown> }>(null, 'GET', '/api/openapi.json');
    for (const p of [
      '/api/v1/content/upload',
      '/api/v1/bundles/{id}/approve',
      '/api/v1/bundles/{id}/rollout',
      '/api/v1/emergency',
      '/api/v1/trust',
      '/api/v1/alerts/{id}/ack',
      '/api/v1/ingest/proofs',
      '/api/v1/webhooks',
    ])
      expect(doc.body.paths, p).toHaveProperty([p]);
  });
});
