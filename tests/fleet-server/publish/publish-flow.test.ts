/**
 * Publishing end to end on a real server: trust policy upload, server-held keys, audio upload
 * (real ffmpeg), compose, approval with two signatures, publish, MQTT notify to the targeted
 * unit, device downloads (HTTP Basic, Range, ETag) verified with the protocol, rollout view.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addSignature,
  deviceSubscriptions,
  generateKeyPair,
  type Manifest,
  type Notify,
  rawPublicKey,
  type TrustPolicy,
  unitTopic,
  verifyManifest,
} from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import {
  eventually,
  type Harness,
  makeSine,
  nextMessage,
  run,
  startHarness,
  type TestDevice,
  type TestUser,
} from './harness.js';

describe('publishing: compose → approve → publish → notify → download → rollout', () => {
  let h: Harness;
  let editor: TestUser;
  let approver: TestUser;
  let admin: TestUser;
  let d1: TestDevice;
  let d2: TestDevice;
  let trust: TrustPolicy;
  let audio: ContentRecord;
  let bundle: BundleRecord;

  beforeAll(async () => {
    h = await startHarness();
    editor = await h.user('bientap.xa02500', 'editor', ['08/02500']);
    approver = await h.user('duyet.tinh', 'approver', ['08']);
    admin = await h.user('quantri', 'administrator', ['*']);
    d1 = await h.device('st-02500-01', '08/02500');
    d2 = await h.device('st-02600-01', '08/02600');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a trust policy not signed by the pinned root, accepts the real one', async () => {
    const e = await h.api<{ publicKey: string }>(editor, 'POST', '/api/v1/signing-keys/me');
    const a = await h.api<{ publicKey: string }>(approver, 'POST', '/api/v1/signing-keys/me');
    const m = await h.api<{ publicKey: string }>(admin, 'POST', '/api/v1/signing-keys/me');
    expect(e.status).toBe(201);
    const keys = [
      { pub: e.body.publicKey, roles: ['content' as const], scope: ['08/02500'], name: 'Biên tập xã 02500' },
      { pub: a.body.publicKey, roles: ['content' as const, 'emergency' as const], scope: ['08'] },
      { pub: m.body.publicKey, roles: ['content' as const], scope: ['08'] },
    ];
    const rogue = generateKeyPair();
    const forged = addSignature({ ...h.policy(keys, { content: 2 }), signatures: [] }, rogue.privateKey);
    const bad = await h.api<{ error: { code: string } }>(admin, 'PUT', '/api/v1/trust', forged);
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('TRUST_ROOT_MISMATCH');
    expect((await h.api<{ policy: null }>(admin, 'GET', '/api/v1/trust')).body.policy).toBeNull();
    // an editor may not upload a policy
    const p = h.policy(keys, { content: 2 });
    expect((await h.api(editor, 'PUT', '/api/v1/trust', p)).status).toBe(403);
    expect((await h.api(admin, 'PUT', '/api/v1/trust', p)).status).toBe(200);
    trust = p;
    const me = await h.api<{ delegation: { scope: string[] } }>(editor, 'GET', '/api/v1/signing-keys/me');
    expect(me.body.delegation.scope).toEqual(['08/02500']);
  });

  it('uploads audio: transcoded to Opus 48 kHz mono and normalised to about -16 LUFS', async () => {
    const src = join(h.dir, 'src.wav');
    await makeSine(src, 3, 440, 0.05);
    const bytes = await readFile(src);
    const q = new URLSearchParams({
      title: 'Bản tin sáng <b>xã</b>',
      unit: '08/02500',
      lang: 'vi',
      name: 'ban-tin.wav',
    });
    const r = await h.api<ContentRecord>(editor, 'POST', `/api/v1/content/upload?${q}`, bytes, {
      'content-type': 'application/octet-stream',
    });
    expect(r.status).toBe(201);
    audio = r.body;
    expect(audio.kind).toBe('audio');
    expect(audio.mediaType).toBe('audio/ogg');
    expect(audio.title).toBe('Bản tin sáng <b>xã</b>');
    expect(Math.abs((audio.loudnessLufs as number) + 16)).toBeLessThan(1.5);
    expect(audio.durationMs).toBeGreaterThan(2900);
    const stored = h.svc.blobs.path(audio.sha256 as string);
    const file = await readFile(stored);
    expect(createHash('sha256').update(file).digest('hex')).toBe(audio.sha256);
    const probe = JSON.parse(
      (await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', stored])).stdout,
    ) as { streams: { codec_name: string; sample_rate: string; channels: number }[] };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'opus', sample_rate: '48000', channels: 1 });
  });

  it('an editor of commune 02500 cannot target commune 02600; nothing is written', async () => {
    const before = await h.server.deps.store.bundles.count();
    const r = await h.api<{ error: { code: string } }>(editor, 'POST', '/api/v1/bundles', {
      channel: 'xa-02600',
      items: [{ content: audio.id }],
      targets: [{ unit: '08/02600' }],
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_SCOPE');
    expect(await h.server.deps.store.bundles.count()).toBe(before);
  });

  it("composes a draft and submits it signed with the editor's server-held key", async () => {
    const r = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
      channel: 'xa-02500',
      items: [{ content: audio.id, id: 'ban-tin-sang' }],
      schedule: [{ id: 'sang', items: ['ban-tin-sang'], rule: { type: 'daily', times: ['06:00'] } }],
      quietHours: [{ start: '22:00', end: '05:00' }],
      targets: [{ unit: '08/02500' }],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'draft', version: 1, channel: 'xa-02500' });
    expect(r.body.manifest.items[0]?.blob?.sha256).toBe(audio.sha256);
    // publishing a draft is refused
    const early = await h.api<{ error: { code: string } }>(
      approver,
      'POST',
      `/api/v1/bundles/${r.body.id}/publish`,
    );
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('BUNDLE_STATE_CONFLICT');
    const s = await h.api<BundleRecord>(editor, 'POST', `/api/v1/bundles/${r.body.id}/submit`, {
      sign: true,
    });
    expect(s.status).toBe(200);
    expect(s.body.state).toBe('submitted');
    expect(s.body.manifest.signatures).toHaveLength(1);
    bundle = s.body;
  });

  it('one signature is not enough: verifyManifest refuses before approval', () => {
    expect(() => verifyManifest(bundle.manifest, { trust, now: new Date(h.now()) })).toThrow(
      /THRESHOLD|signature/i,
    );
  });

  it('an administrator cannot approve a bundle they composed when the policy needs two people', async () => {
    const r = await h.api<BundleRecord>(admin, 'POST', '/api/v1/bundles', {
      channel: 'tinh-08',
      items: [{ content: audio.id }],
      targets: [{ unit: '08' }],
    });
    expect(r.status).toBe(201);
    expect((await h.api(admin, 'POST', `/api/v1/bundles/${r.body.id}/submit`, { sign: true })).status).toBe(
      200,
    );
    const self = await h.api<{ error: { code: string } }>(
      admin,
      'POST',
      `/api/v1/bundles/${r.body.id}/approve`,
      { sign: true },
    );
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await h.server.deps.store.bundles.get(r.body.id))?.state).toBe('submitted');
  });

  it('approves with the second signature, publishes, notifies only the targeted unit', async () => {
    const c1 = await h.connect(d1, deviceSubscriptions(d1.id, d1.unit));
    const a = await h.api<BundleRecord>(approver, 'POST', `/api/v1/bundles/${bundle.id}/approve`, {
      sign: true,
    });
    expect(a.status).toBe(200);
    expect(a.body.state).toBe('approved');
    expect(a.body.manifest.signatures).toHaveLength(2);
    const got = nextMessage<Notify>(c1, unitTopic('08/02500', 'notify'));
    const p = await h.api<BundleRecord>(approver, 'POST', `/api/v1/bundles/${bundle.id}/publish`);
    expect(p.status).toBe(200);
    expect(p.body.state).toBe('published');
    const n = await got;
    expect(n).toMatchObject({ bundleId: bundle.id, channel: 'xa-02500', version: 1 });
    expect(n.manifestUrl).toBe(`${h.server.url}/bundles/${bundle.id}/manifest.json`);
    expect(await h.svc.notifier.topicsFor(p.body.manifest.targets, 'notify')).toEqual([
      unitTopic('08/02500', 'notify'),
    ]);
    const metrics = await (await h.server.app.request('/metrics')).text();
    expect(metrics).toMatch(/^loa_bundles_published_total 1$/m);
    bundle = p.body;
  });

  it('the device downloads and verifies the manifest and the blob over HTTP (Basic, Range, ETag)', async () => {
    const url = `${h.server.url}/bundles/${bundle.id}/manifest.json`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: d2.basic } })).status).toBe(403);
    const res = await fetch(url, { headers: { authorization: d1.basic } });
    expect(res.status).toBe(200);
    const manifest = (await res.json()) as Manifest;
    const v = verifyManifest(manifest, {
      trust,
      now: new Date(h.now()),
      device: { unit: d1.unit, deviceId: d1.id },
    });
    expect(v.signers).toHaveLength(2);
    const etag = res.headers.get('etag') as string;
    expect((await fetch(url, { headers: { authorization: d1.basic, 'if-none-match': etag } })).status).toBe(
      304,
    );

    const blob = manifest.items[0]?.blob as { sha256: string; size: number };
    const burl = `${h.server.url}/blobs/${blob.sha256}`;
    const full = await fetch(burl, { headers: { authorization: d1.basic } });
    expect(full.status).toBe(200);
    const body = Buffer.from(await full.arrayBuffer());
    expect(body.length).toBe(blob.size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(blob.sha256);
    expect(full.headers.get('etag')).toBe(`"${blob.sha256}"`);
    const part = await fetch(burl, { headers: { authorization: d1.basic, range: 'bytes=100-' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-${blob.size - 1}/${blob.size}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100))).toBe(true);
    const cached = await fetch(burl, {
      headers: { authorization: d1.basic, 'if-none-match': `"${blob.sha256}"` },
    });
    expect(cached.status).toBe(304);
    const beyond = await fetch(burl, { headers: { authorization: d1.basic, range: `bytes=${blob.size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${blob.size}`);
    const wrong = await fetch(burl, {
      headers: { authorization: `Basic ${Buffer.from(`${d1.id}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('device statuses build the rollout view (downloading → active; a late report does not go back)', async () => {
    const c1 = await h.connect({ ...d1 }, []);
    const status = (state: string, at: number) =>
      JSON.stringify({
        bundleId: bundle.id,
        channel: 'xa-02500',
        version: 1,
        state,
        at: new Date(at).toISOString(),
      });
    const t = Date.now();
    await c1.publishAsync(`loa/v1/d/${d1.id}/status`, status('downloading', t), { qos: 1 });
    await c1.publishAsync(`loa/v1/d/${d1.id}/status`, status('active', t + 1000), { qos: 1 });
    await c1.publishAsync(`loa/v1/d/${d1.id}/status`, status('downloading', t + 2000), { qos: 1 });
    const view = await eventually(async () => {
      const r = await h.api<{
        summary: Record<string, number>;
        devices: { deviceId: string; state: string }[];
      }>(approver, 'GET', `/api/v1/bundles/${bundle.id}/rollout`);
      return r.body.devices.find((d) => d.deviceId === d1.id)?.state === 'active' ? r.body : undefined;
    });
    expect(view.summary).toMatchObject({ total: 1, active: 1 });
    // a failure with its reason is shown
    await c1.publishAsync(
      `loa/v1/d/${d1.id}/status`,
      JSON.stringify({
        bundleId: bundle.id,
        channel: 'xa-02500',
        version: 1,
        state: 'failed',
        reason: 'BLOB_HASH_MISMATCH',
        at: new Date(t + 3000).toISOString(),
      }),
      { qos: 1 },
    );
    const failed = await eventually(async () => {
      const rows = await h.server.deps.store.rollouts.forBundle(bundle.id);
      return rows.find((r) => r.state === 'failed');
    });
    expect(failed.reason).toBe('BLOB_HASH_MISMATCH');
  });

  it('accepts a signature made offline (`loa bundle sign`) and refuses a forged one', async () => {
    const offline = generateKeyPair();
    const pub = rawPublicKey(offline.publicKey).toString('base64');
    const keys = trust.keys.map((k) => ({ pub: k.publicKey, roles: k.roles, scope: k.scope }));
    trust = await h.installTrust([...keys, { pub, roles: ['content'], scope: ['08/02500'] }], { content: 2 });
    const r = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
      channel: 'xa-02500',
      items: [{ content: audio.id }],
      targets: [{ unit: '08/02500' }],
    });
    expect(r.body.version).toBe(2);
    const m = (await h.api<Manifest>(editor, 'GET', `/api/v1/bundles/${r.body.id}/manifest`)).body;
    const signed = addSignature(m, offline.privateKey);
    const forged = {
      signatures: [{ keyid: signed.signatures[0]?.keyid, sig: Buffer.alloc(64, 7).toString('base64') }],
    };
    const bad = await h.api<{ error: { code: string } }>(
      editor,
      'POST',
      `/api/v1/bundles/${r.body.id}/signatures`,
      forged,
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('SIGNATURE_INVALID');
    const ok = await h.api<BundleRecord>(editor, 'POST', `/api/v1/bundles/${r.body.id}/signatures`, signed);
    expect(ok.status).toBe(200);
    expect(ok.body.manifest.signatures.map((s) => s.keyid)).toEqual([signed.signatures[0]?.keyid]);
  });

  it('keeps per-device rollout rows for the newest two versions of a channel; older ones keep their counts', async () => {
    const publishVersion = async () => {
      const r = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
        channel: 'xa-02500',
        items: [{ content: audio.id }],
        targets: [{ unit: '08/02500' }],
      });
      expect(r.status).toBe(201);
      expect(
        (await h.api(editor, 'POST', `/api/v1/bundles/${r.body.id}/submit`, { sign: true })).status,
      ).toBe(200);
      expect(
        (await h.api(approver, 'POST', `/api/v1/bundles/${r.body.id}/approve`, { sign: true })).status,
      ).toBe(200);
      const p = await h.api<BundleRecord>(approver, 'POST', `/api/v1/bundles/${r.body.id}/publish`);
      expect(p.status).toBe(200);
      return p.body;
    };
    type View = { summary: Record<string, number>; devices: { deviceId: string }[]; archived?: boolean };
    const before = await h.api<View>(approver, 'GET', `/api/v1/bundles/${bundle.id}/rollout`);
    expect(before.body.devices.length).toBeGreaterThan(0);
    const second = await publishVersion();
    // version 1 is now the previous version: its rows stay
    expect((await h.server.deps.store.rollouts.forBundle(bundle.id)).length).toBe(before.body.devices.length);
    const third = await publishVersion();
    expect(third.version).toBe(second.version + 1);
    // two behind: the rows are gone, the counts remain
    expect(await h.server.deps.store.rollouts.forBundle(bundle.id)).toEqual([]);
    const after = await h.api<View>(approver, 'GET', `/api/v1/bundles/${bundle.id}/rollout`);
    expect(after.body.archived).toBe(true);
    expect(after.body.devices).toEqual([]);
    expect(after.body.summary).toMatchObject({ ...before.body.summary, pending: 0 });
    expect((await h.server.deps.store.rollouts.forBundle(second.id)).length).toBeGreaterThan(0);
    expect((await h.server.deps.store.rollouts.forDevice(d1.id)).map((r) => r.bundleId)).not.toContain(
      bundle.id,
    );
    // a late status report for the retired version does not bring a row back
    const c1 = await h.connect({ ...d1 }, []);
    await c1.publishAsync(
      `loa/v1/d/${d1.id}/status`,
      JSON.stringify({
        bundleId: bundle.id,
        channel: 'xa-02500',
        version: 1,
        state: 'failed',
        reason: 'LATE',
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    await c1.publishAsync(
      `loa/v1/d/${d1.id}/status`,
      JSON.stringify({
        bundleId: third.id,
        channel: 'xa-02500',
        version: third.version,
        state: 'active',
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    await eventually(
      async () => (await h.server.deps.store.rollouts.get(third.id, d1.id))?.state === 'active',
    );
    expect(await h.server.deps.store.rollouts.forBundle(bundle.id)).toEqual([]);
  });
});
