/**
 * The USB export of a published bundle on a real server: GET /api/v1/bundles/:id/tar gives the
 * tar `loa bundle pack` makes, which verifies with the protocol against the trust policy and is
 * what a station imports from a stick; a user outside the bundle's units gets nothing, and the
 * programmes page offers the download.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, type Manifest, manifestBlobs, rawPublicKey, type TrustPolicy } from '@loa/protocol';
import { blobPath, verifyBundleTar } from '@loa/protocol/fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasesPlugin } from '../../../fleet-server/src/plugins/releases.js';
import { makeBundleDir } from '../../agent/services/bundle-fixtures.js';
import { cleanupTempDirs, tempDir } from '../../agent/services/helpers.js';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';

describe('published bundle as a USB tar', () => {
  let h: Harness;
  let admin: TestUser;
  let outsider: TestUser;
  let trust: TrustPolicy;
  let manifest: Manifest;
  const content = generateKeyPair();

  beforeAll(async () => {
    h = await startHarness({ plugins: (c) => [releasesPlugin({ content: c })] });
    admin = await h.user('admin', 'administrator', ['08']);
    outsider = await h.user('other', 'viewer', ['09']);
    trust = await h.installTrust([
      { pub: rawPublicKey(content.publicKey).toString('base64'), roles: ['content'], scope: ['08'] },
    ]);
    const work = await tempDir('loa-tar-export-');
    manifest = await makeBundleDir(work, join(work, 'b'), {
      version: 3,
      channel: 'xa-02500',
      unit: '08/02500',
      signer: content.privateKey,
      files: [{ name: 'tin.wav', data: Buffer.alloc(5000, 3) }],
    });
    for (const b of manifestBlobs(manifest)) {
      const staged = h.svc.blobs.tempPath('.wav');
      await copyFile(blobPath(join(work, 'b'), b.sha256), staged);
      await h.svc.blobs.importFile(staged);
    }
    const now = new Date().toISOString();
    await h.server.deps.store.bundles.insert({
      id: manifest.id,
      channel: manifest.channel,
      version: manifest.version,
      state: 'published',
      manifest,
      units: ['08/02500'],
      createdBy: admin.id,
      createdAt: now,
      updatedAt: now,
      publishedBy: admin.id,
      publishedAt: now,
    });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    await cleanupTempDirs();
  });

  it('exports the tar a station verifies and imports; refuses a user outside its units', async () => {
    const res = await h.server.app.request(`/api/v1/bundles/${manifest.id}/tar`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const tar = join(await tempDir('loa-tar-got-'), 'usb.tar');
    await writeFile(tar, Buffer.from(await res.arrayBuffer()));
    const v = await verifyBundleTar(tar, { trust, now: new Date(), device: { unit: '08/02500' } });
    expect(v.manifest.id).toBe(manifest.id);
    expect((await readFile(tar)).subarray(0, 13).toString()).toBe('manifest.json');
    const other = await h.server.app.request(`/api/v1/bundles/${manifest.id}/tar`, {
      headers: { authorization: `Bearer ${outsider.token}` },
    });
    expect(other.status).toBe(403);
  });
});
