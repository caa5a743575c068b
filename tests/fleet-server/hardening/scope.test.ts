/**
 * Scope and privacy: a commune administrator's webhooks, another commune's content in a bundle,
 * blob downloads checked against the units that reference the blob, and out-of-scope devices
 * answered exactly like absent ones.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, startHarness, type TestDevice, type TestUser } from '../publish/harness.js';

const run = promisify(execFile);
type Err = { error: { code: string } };

describe('scope and privacy', () => {
  let h: Harness;
  let province: TestUser;
  let communeAdmin: TestUser;
  let editorA: TestUser;
  let editorB: TestUser;
  let image: ContentRecord;
  let devA: TestDevice;
  let devB: TestDevice;

  beforeAll(async () => {
    h = await startHarness();
    province = await h.user('quantri.tinh', 'administrator', ['08']);
    communeAdmin = await h.user('quantri.xa', 'administrator', ['08/02500']);
    editorA = await h.user('bientap.a', 'editor', ['08/02500']);
    editorB = await h.user('bientap.b', 'editor', ['08/02600']);
    const png = join(h.dir, 'dot.png');
    await run('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=16x16',
      '-frames:v',
      '1',
      '-y',
      png,
    ]);
    const up = await h.api<ContentRecord>(
      editorA,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title: 'Ảnh', name: 'dot.png' })}`,
      new Uint8Array(await readFile(png)),
      { 'content-type': 'application/octet-stream' },
    );
    expect(up.status).toBe(201);
    image = up.body;
    devA = await h.device('st-a', '08/02500');
    devB = await h.device('st-b', '08/02600');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("a commune administrator sees, lists deliveries of and deletes only the commune's own webhooks", async () => {
    const wide = await h.api<{ id: string }>(province, 'POST', '/api/v1/webhooks', {
      url: 'http://127.0.0.1:9/tinh',
      events: ['alert.opened'],
    });
    const mine = await h.api<{ id: string; scope: string[] }>(communeAdmin, 'POST', '/api/v1/webhooks', {
      url: 'http://127.0.0.1:9/xa',
      events: ['alert.opened'],
    });
    expect(mine.body.scope).toEqual(['08/02500']);
    const listed = await h.api<{ id: string }[]>(communeAdmin, 'GET', '/api/v1/webhooks');
    expect(listed.body.map((w) => w.id)).toEqual([mine.body.id]);
    expect(
      (await h.api<{ id: string }[]>(province, 'GET', '/api/v1/webhooks')).body.map((w) => w.id).sort(),
    ).toEqual([wide.body.id, mine.body.id].sort());
    // an event of another commune reaches the province hook only
    h.svc.webhooks.emit('alert.opened', { id: 'a-1', unit: '08/02600' }, ['08/02600']);
    const all = h.svc.webhooks.deliveries();
    expect(all.filter((d) => d.webhookId === wide.body.id)).toHaveLength(1);
    expect(all.filter((d) => d.webhookId === mine.body.id)).toHaveLength(0);
    // an event of the commune reaches both
    h.svc.webhooks.emit('alert.opened', { id: 'a-2', unit: '08/02500/x' }, ['08/02500']);
    const seen = await h.api<{ webhookId: string }[]>(communeAdmin, 'GET', '/api/v1/webhooks/deliveries');
    expect(seen.body.map((d) => d.webhookId)).toEqual([mine.body.id]);
    // the province's hook cannot be deleted from the commune (answered as absent)
    const del = await h.api<Err>(communeAdmin, 'DELETE', `/api/v1/webhooks/${wide.body.id}`);
    expect(del.status).toBe(404);
    expect(h.svc.webhooks.list().map((w) => w.id)).toContain(wide.body.id);
  });

  it("an editor cannot put another commune's content into a bundle by id", async () => {
    const r = await h.api<Err>(editorB, 'POST', '/api/v1/bundles', {
      channel: 'xa-02600',
      items: [{ content: image.id }],
      targets: [{ unit: '08/02600' }],
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.error.code).toBe('CONTENT_NOT_FOUND');
    // the owner's commune may
    const ok = await h.api(editorA, 'POST', '/api/v1/bundles', {
      channel: 'xa-02500',
      items: [{ content: image.id }],
      targets: [{ unit: '08/02500' }],
    });
    expect(ok.status).toBe(201);
  });

  it('blobs are served only within the units that reference them, else 404 as if absent', async () => {
    const sha = image.sha256 as string;
    const get = (headers: Record<string, string>) => fetch(`${h.server.url}/blobs/${sha}`, { headers });
    expect((await get({ authorization: `Bearer ${editorA.token}` })).status).toBe(200);
    const other = await get({ authorization: `Bearer ${editorB.token}` });
    expect(other.status).toBe(404);
    expect(((await other.json()) as Err).error.code).toBe('BLOB_NOT_FOUND');
    const absent = await get({ authorization: `Bearer ${editorB.token}` });
    expect(absent.status).toBe(404);
    // devices: no published bundle targets either of them yet
    expect((await get({ authorization: devA.basic })).status).toBe(404);
    expect((await get({ authorization: devB.basic })).status).toBe(404);
  });

  it('/devices/:id/proofs answers 404 DEVICE_NOT_FOUND for an out-of-scope device, as for an absent one', async () => {
    const out = await h.api<Err>(editorA, 'GET', `/api/v1/devices/${devB.id}/proofs`);
    const none = await h.api<Err>(editorA, 'GET', '/api/v1/devices/khong-co/proofs');
    expect(out.status).toBe(404);
    expect(none.status).toBe(404);
    expect(out.body).toEqual(none.body);
    expect((await h.api(editorA, 'GET', `/api/v1/devices/${devA.id}/proofs`)).status).toBe(200);
    // content entries of another commune too
    expect((await h.api<Err>(editorB, 'GET', `/api/v1/content/${image.id}`)).status).toBe(404);
  });
});
