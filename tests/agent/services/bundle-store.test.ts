import { randomBytes } from 'node:crypto';
import { readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Status } from '@loa/protocol';
import { packBundle, verifyBlobFile } from '@loa/protocol/fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BundleStore } from '../../../agent/src/services/content/bundle-store.js';
import {
  makeBundleDir,
  makeTrust,
  notifyFor,
  type ServerControl,
  startBlobServer,
} from './bundle-fixtures.js';
import { cleanupTempDirs, silent, tempDir } from './helpers.js';

const fx = makeTrust();
const now = Date.parse('2026-11-26T05:00:00Z');
let server: ServerControl | undefined;

function store(dir: string, extra: Partial<ConstructorParameters<typeof BundleStore>[0]> = {}) {
  return new BundleStore({
    dir,
    trust: () => fx.trust,
    device: () => ({ unit: '08/02500', deviceId: 'dev-1' }),
    clock: { now: () => now },
    logger: silent,
    backoffMs: 10,
    idleTimeoutMs: 5000,
    ...extra,
  });
}

const audio = (n: number) => randomBytes(n);
let work: string;
beforeAll(async () => {
  work = await tempDir('loa-bundles-');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await cleanupTempDirs();
  work = await tempDir('loa-bundles-');
});

describe('BundleStore', () => {
  it('fetches a notified bundle blob by blob, verifies and activates it', async () => {
    server = await startBlobServer();
    const shared = audio(50_000);
    const m1 = await makeBundleDir(work, join(work, 'v1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [
        { name: 'a.wav', data: shared },
        { name: 'b.wav', data: audio(300_000) },
      ],
    });
    server.bundles.set('v1', join(work, 'v1'));
    const s = store(join(work, 'store'));
    const statuses: Status[] = [];
    s.on('status', (st: Status) => statuses.push(st));
    await s.start();
    const active = await s.fetchNotified(notifyFor(server, 'v1', m1));
    expect(active?.version).toBe(1);
    expect(s.active().map((b) => [b.channel, b.version])).toEqual([['main', 1]]);
    for (const it of m1.items) if (it.blob) await verifyBlobFile(s.blobFile(it.blob.sha256), it.blob);
    expect(statuses.map((x) => x.state)).toContain('downloading');
    expect(statuses.at(-1)?.state).toBe('active');
    // A second notify for the same version is a no-op.
    expect(await s.fetchNotified(notifyFor(server, 'v1', m1))).toBeUndefined();

    // v2 shares a blob: only the new one is downloaded; v1 stays as the previous bundle.
    const m2 = await makeBundleDir(work, join(work, 'v2'), {
      version: 2,
      signer: fx.content.privateKey,
      files: [
        { name: 'a.wav', data: shared },
        { name: 'c.wav', data: audio(10_000) },
      ],
    });
    server.bundles.set('v2', join(work, 'v2'));
    const before = server.requests;
    await s.fetchNotified(notifyFor(server, 'v2', m2));
    expect(server.requests - before).toBe(2); // manifest + one blob
    expect(s.active()[0]?.version).toBe(2);
    await s.stop();

    const again = store(join(work, 'store'));
    await again.start();
    expect(again.active()[0]?.version).toBe(2);
    const rolled = await again.rollback('main');
    expect(rolled.version).toBe(1);
    await again.stop();
  });

  it('resumes a broken download with Range and never accepts more than the signed size', async () => {
    server = await startBlobServer();
    const m = await makeBundleDir(work, join(work, 'v1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [{ name: 'big.wav', data: audio(400_000) }],
    });
    server.bundles.set('v1', join(work, 'v1'));
    server.throttle = { chunk: 16 * 1024, delayMs: 0 };
    server.cutAfter = { bytes: 150_000, times: 2 };
    const s = store(join(work, 'store'));
    await s.start();
    await s.fetchNotified(notifyFor(server, 'v1', m));
    expect(server.rangeRequests).toBeGreaterThanOrEqual(1);
    expect(s.active()[0]?.version).toBe(1);

    // A server that pushes junk past the signed size: rejected, v1 stays active.
    const m2 = await makeBundleDir(work, join(work, 'v2'), {
      version: 2,
      signer: fx.content.privateKey,
      files: [{ name: 'x.wav', data: audio(20_000) }],
    });
    server.bundles.set('v2', join(work, 'v2'));
    server.cutAfter = undefined;
    server.overlong = true;
    await expect(s.fetchNotified(notifyFor(server, 'v2', m2))).rejects.toMatchObject({
      code: 'BLOB_SIZE_MISMATCH',
    });
    expect(s.lastError?.code).toBe('BLOB_SIZE_MISMATCH');
    expect(s.active()[0]?.version).toBe(1);
    await s.stop();
  });

  it('rejects unauthorised, mistargeted and rolled-back bundles, keeping the old one', async () => {
    server = await startBlobServer();
    const s = store(join(work, 'store'));
    await s.start();
    const good = await makeBundleDir(work, join(work, 'v5'), {
      version: 5,
      signer: fx.content.privateKey,
      files: [{ name: 'a.wav', data: audio(1000) }],
    });
    server.bundles.set('v5', join(work, 'v5'));
    await s.fetchNotified(notifyFor(server, 'v5', good));

    const cases: [string, Parameters<typeof makeBundleDir>[2], string][] = [
      [
        'outsider',
        { version: 6, signer: fx.outsider.privateKey, files: [{ name: 'a', data: audio(10) }] },
        'KEY_UNKNOWN',
      ],
      [
        'elsewhere',
        {
          version: 7,
          unit: '09/00100',
          signer: fx.content.privateKey,
          files: [{ name: 'a', data: audio(10) }],
        },
        'SCOPE_NOT_COVERED',
      ],
      [
        'other-commune',
        {
          version: 8,
          unit: '08/09999',
          signer: fx.content.privateKey,
          files: [{ name: 'a', data: audio(10) }],
        },
        'TARGET_MISMATCH',
      ],
      [
        'old',
        { version: 3, signer: fx.content.privateKey, files: [{ name: 'a', data: audio(10) }] },
        'VERSION_ROLLBACK',
      ],
    ];
    for (const [name, spec, code] of cases) {
      const m = await makeBundleDir(work, join(work, name), spec);
      server.bundles.set(name, join(work, name));
      const n = notifyFor(server, name, m);
      if (code === 'VERSION_ROLLBACK') {
        // Notify for an older version is skipped; an inline install is verified and refused.
        expect(await s.fetchNotified(n)).toBeUndefined();
        await expect(s.installInline(m, n.blobBase)).rejects.toMatchObject({ code });
      } else {
        await expect(s.fetchNotified(n)).rejects.toMatchObject({ code });
      }
      expect(s.lastError?.code).toBe(code);
      expect(s.active()[0]?.version).toBe(5);
    }
    await s.stop();
  });

  it('imports from a directory and from a .tar, collecting unreferenced blobs', async () => {
    const s = store(join(work, 'store'));
    await s.start();
    const uniq1 = audio(2000);
    await makeBundleDir(work, join(work, 'v1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [{ name: 'a', data: uniq1 }],
    });
    await makeBundleDir(work, join(work, 'v2'), {
      version: 2,
      signer: fx.content.privateKey,
      files: [{ name: 'b', data: audio(2000) }],
    });
    const m3 = await makeBundleDir(work, join(work, 'v3'), {
      version: 3,
      signer: fx.content.privateKey,
      files: [{ name: 'c', data: audio(2000) }],
    });
    await packBundle(join(work, 'v3'), join(work, 'v3.tar'));
    await s.importPath(join(work, 'v1'));
    await s.importPath(join(work, 'v2'));
    expect((await readdir(join(work, 'store', 'blobs'))).length).toBe(2);
    await s.importPath(join(work, 'v3.tar'));
    expect(s.active()[0]?.version).toBe(3);
    const blobs = await readdir(join(work, 'store', 'blobs'));
    expect(blobs).toHaveLength(2); // v3 current + v2 previous; v1's blob collected
    expect(blobs).toContain(m3.items[0]?.blob?.sha256);
    expect((await readdir(join(work, 'store', 'manifests'))).length).toBe(2);
    await s.stop();
  });

  it('a station whose clock is years behind and not trusted imports a USB bundle and learns its signing time', async () => {
    const m = await makeBundleDir(work, join(work, 'em'), {
      version: 1,
      channel: 'canh-bao',
      priority: 'emergency',
      rule: null,
      signer: fx.emergency.privateKey,
      files: [{ name: 'lu.wav', data: audio(2000) }],
    });
    await packBundle(join(work, 'em'), join(work, 'em.tar'));
    const behind = Date.parse('2022-03-01T08:00:00Z');
    // the clock's word alone: refused as not valid yet (what a trusted clock must say)
    const strict = store(join(work, 'strict'), { clock: { now: () => behind } });
    await strict.start();
    await expect(strict.importPath(join(work, 'em.tar'))).rejects.toMatchObject({ code: 'NOT_YET_VALID' });
    await strict.stop();
    // untrusted: imported; the clock hears the creation time before the bundle is activated
    let clockMs = behind;
    const heard: [number, string][] = [];
    const s = store(join(work, 'store'), {
      clock: { now: () => clockMs },
      clockTrusted: () => false,
      signedTime: (ms, what) => {
        heard.push([ms, what]);
        clockMs = Math.max(clockMs, ms);
      },
    });
    await s.start();
    const active = await s.importPath(join(work, 'em.tar'));
    expect(heard).toEqual([[Date.parse(m.created), m.id]]);
    expect(Date.parse(active?.activatedAt ?? '')).toBe(Date.parse(m.created));
    await s.stop();
    // at the next start the held bundles' creation times are heard again (the floor is not persisted)
    heard.length = 0;
    clockMs = behind;
    await s.start();
    expect(heard).toEqual([[Date.parse(m.created), m.id]]);
    await s.stop();
  });

  it("takes an emergency's audio from the message itself, checked against the signed manifest", async () => {
    server = await startBlobServer();
    const speech = audio(20_000);
    const m = await makeBundleDir(work, join(work, 'em'), {
      version: 1,
      channel: 'emergency',
      id: 'lu-quet-1',
      priority: 'emergency',
      rule: { type: 'immediate' },
      signer: fx.emergency.privateKey,
      files: [{ name: 'canh-bao.ogg', data: speech }],
    });
    server.bundles.set('em', join(work, 'em'));
    const blob = m.items[0]?.blob as { sha256: string; size: number };
    const s = store(join(work, 'store'));
    await s.start();
    // carried inline: installed without a single request to the blob server
    const b = await s.installInline(m, `${server.url}/b/em/blobs`, [
      { sha256: blob.sha256, data: speech.toString('base64') },
    ]);
    expect(b?.manifest.id).toBe('lu-quet-1');
    expect(server.requests).toBe(0);
    await verifyBlobFile(join(work, 'store', 'blobs', blob.sha256), blob);
    // the same message delivered again (QoS 1 redelivery): not activated a second time
    const activatedAt = s.active()[0]?.activatedAt;
    expect(await s.installInline(m, `${server.url}/b/em/blobs`)).toBeUndefined();
    expect(s.active()).toHaveLength(1);
    expect(s.active()[0]?.activatedAt).toBe(activatedAt);
    await s.stop();

    // a copy that is not the manifest's blob (changed on the way) is not written: downloaded instead
    const s2 = store(join(work, 'store2'));
    await s2.start();
    const forged = Buffer.from(speech);
    forged[100] = (forged[100] as number) ^ 0xff;
    const b2 = await s2.installInline(m, `${server.url}/b/em/blobs`, [
      { sha256: blob.sha256, data: forged.toString('base64') },
    ]);
    expect(b2?.manifest.id).toBe('lu-quet-1');
    expect(server.requests).toBeGreaterThan(0);
    await verifyBlobFile(join(work, 'store2', 'blobs', blob.sha256), blob);
    await s2.stop();

    // and with no blob server to fall back on, a forged copy never becomes playable audio
    const s3 = store(join(work, 'store3'), { attempts: 1 });
    await s3.start();
    await expect(
      s3.installInline(m, 'http://127.0.0.1:9/blobs', [
        { sha256: blob.sha256, data: forged.toString('base64') },
      ]),
    ).rejects.toThrow();
    expect(s3.active()).toEqual([]);
    expect(await readdir(join(work, 'store3', 'blobs'))).not.toContain(blob.sha256);
    await s3.stop();
  });

  it('falls back to the previous bundle when the active one is damaged on disk', async () => {
    const s = store(join(work, 'store'));
    await s.start();
    await makeBundleDir(work, join(work, 'v1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [{ name: 'a', data: audio(3000) }],
    });
    const m2 = await makeBundleDir(work, join(work, 'v2'), {
      version: 2,
      signer: fx.content.privateKey,
      files: [{ name: 'b', data: audio(3000) }],
    });
    await s.importPath(join(work, 'v1'));
    await s.importPath(join(work, 'v2'));
    await s.stop();
    await truncate(s.blobFile(m2.items[0]?.blob?.sha256 as string), 100);
    const again = store(join(work, 'store'));
    await again.start();
    expect(again.active()[0]?.version).toBe(1);
    await again.stop();
  });

  it('refuses bundles while the station has no trust policy', async () => {
    const s = store(join(work, 'store'), { trust: () => undefined });
    await s.start();
    await makeBundleDir(work, join(work, 'v1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [{ name: 'a', data: audio(10) }],
    });
    await expect(s.importPath(join(work, 'v1'))).rejects.toMatchObject({ code: 'TRUST_MISSING' });
    expect(s.active()).toEqual([]);
    await s.stop();
  });

  it('lets --import refuse while the agent owns the store, and take over a stale lock', async () => {
    const dir = join(work, 'store');
    const owner = store(dir);
    await owner.start();
    await owner.stop(); // removes its lock
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const sleeper = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, '.lock'), `${sleeper.pid}\n`);
      const importer = store(dir, { lock: 'exclusive' });
      await expect(importer.start()).rejects.toMatchObject({ code: 'BUNDLE_STORE_BUSY' });
      // The agent itself never refuses: it takes the store over.
      const agent = store(dir);
      await agent.start();
      await agent.stop();
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((r) => sleeper.once('exit', r));
    await writeFile(join(dir, '.lock'), `${sleeper.pid}\n`); // now a dead pid
    const importer = store(dir, { lock: 'exclusive' });
    await importer.start();
    await importer.stop();
  });
});
