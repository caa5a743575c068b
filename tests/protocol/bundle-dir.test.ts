import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobHasher,
  blobPath,
  buildBundleDir,
  createBlobVerifier,
  hashFile,
  MANIFEST_FILE,
  publishDir,
  readManifestBytes,
  signBundleDir,
  verifyBlobFile,
  verifyBundleDir,
} from '../../protocol/src/fs/index.js';
import { createWorld, makeBundle, manifestBody, NOW, tempDir, trust } from './fixtures.js';

const w = createWorld();
const opts = { trust: trust(w), now: NOW, device: { unit: '08/02500' } };
let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
const fresh = (signers = [w.editor]) => makeBundle(tmp.dir, `b${++n}`, signers);

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const firstBlob = async (dir: string) => JSON.parse((await readManifestBytes(dir)).toString()).items[0].blob;

describe('bundle directory', () => {
  it('builds, signs and verifies; the layout is manifest.json + blobs/<sha256>', async () => {
    const dir = await fresh();
    const v = await verifyBundleDir(dir, opts);
    expect(v.manifest.items).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual(['blobs', MANIFEST_FILE]);
    for (const it of v.manifest.items) {
      const bytes = await readFile(blobPath(dir, it.blob?.sha256 as string));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(it.blob?.sha256);
      expect(bytes.length).toBe(it.blob?.size);
    }
  });

  it('stores identical files once', async () => {
    const a = join(tmp.dir, 'same-a.mp3');
    const b = join(tmp.dir, 'same-b.mp3');
    const data = randomBytes(5000);
    await writeFile(a, data);
    await writeFile(b, data);
    const out = join(tmp.dir, 'dedup');
    await buildBundleDir(out, {
      files: [a, b],
      manifest: (blobs) =>
        manifestBody({
          items: blobs.map((x, i) => ({
            id: `i${i}`,
            title: 't',
            kind: 'audio' as const,
            priority: 'normal' as const,
            lang: 'vi',
            blob: { sha256: x.sha256, size: x.size, mediaType: 'audio/mpeg' },
          })),
          schedule: [],
        }),
    });
    expect(await readdir(join(out, 'blobs'))).toHaveLength(1);
  });

  it('refuses an invalid manifest at build time and leaves nothing behind', async () => {
    const f = join(tmp.dir, 'x.mp3');
    await writeFile(f, 'abc');
    const before = await readdir(tmp.dir);
    const out = join(tmp.dir, 'never');
    const code = await codeOf(
      buildBundleDir(out, { files: [f], manifest: () => ({ ...manifestBody(), version: 0 }) }),
    );
    expect(code).toBe('MANIFEST_MALFORMED');
    expect((await readdir(tmp.dir)).sort()).toEqual(before.sort());
  });

  it('refuses to build into a non-empty directory (DEST_EXISTS)', async () => {
    const dir = await fresh();
    expect(await codeOf(buildBundleDir(dir, { files: [], manifest: () => manifestBody() }))).toBe(
      'DEST_EXISTS',
    );
  });

  it('publishing never deletes files that appeared in the destination meanwhile', async () => {
    const staging = join(tmp.dir, 'staging-x');
    const target = join(tmp.dir, 'target-x');
    await mkdir(staging);
    await writeFile(join(staging, 'new'), 'new');
    await mkdir(target);
    await writeFile(join(target, 'theirs'), 'keep me');
    expect(await codeOf(publishDir(staging, target))).toBe('DEST_EXISTS');
    expect(await readFile(join(target, 'theirs'), 'utf8')).toBe('keep me');
    await unlink(join(target, 'theirs'));
    await publishDir(staging, target);
    expect(await readdir(target)).toEqual(['new']);
  });

  it('a signer refuses to sign content that does not match the manifest', async () => {
    const dir = await fresh([]);
    const blob = await firstBlob(dir);
    await writeFile(blobPath(dir, blob.sha256), randomBytes(blob.size));
    expect(await codeOf(signBundleDir(dir, w.editor.privateKey))).toBe('BLOB_HASH_MISMATCH');
  });

  it('rejects a symlinked blob, an extra directory, a missing or oversized manifest', async () => {
    const a = await fresh();
    const blob = await firstBlob(a);
    const copy = join(tmp.dir, 'outside-copy');
    await writeFile(copy, await readFile(blobPath(a, blob.sha256)));
    await unlink(blobPath(a, blob.sha256));
    await symlink(copy, blobPath(a, blob.sha256));
    expect(await codeOf(verifyBundleDir(a, opts))).toBe('BLOB_MISSING');

    const b = await fresh();
    await mkdir(join(b, 'scripts'));
    expect(await codeOf(verifyBundleDir(b, opts))).toBe('EXTRA_FILE');

    const c = await fresh();
    await unlink(join(c, MANIFEST_FILE));
    expect(await codeOf(verifyBundleDir(c, opts))).toBe('MANIFEST_MALFORMED');

    const d = await fresh();
    await truncate(join(d, MANIFEST_FILE), 2 * 1024 * 1024);
    expect(await codeOf(verifyBundleDir(d, opts))).toBe('MANIFEST_TOO_LARGE');
  });

  it('rejects a huge (sparse) blob by its size without reading it', async () => {
    const dir = await fresh();
    const blob = await firstBlob(dir);
    await truncate(blobPath(dir, blob.sha256), 64 * 1024 ** 3);
    expect(await codeOf(verifyBundleDir(dir, opts))).toBe('BLOB_SIZE_MISMATCH');
    expect(await codeOf(verifyBlobFile(blobPath(dir, blob.sha256), blob))).toBe('BLOB_SIZE_MISMATCH');
  });

  it('hashFile agrees with node:crypto on a multi-chunk file', async () => {
    const f = join(tmp.dir, 'big.bin');
    const data = randomBytes(9 * 1024 * 1024 + 7);
    await writeFile(f, data);
    expect(await hashFile(f)).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      size: data.length,
    });
    await verifyBlobFile(f, { sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
  });
});

describe('streaming blob verifier', () => {
  const data = randomBytes(200_000);
  const ref = { sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
  const chunks = (buf: Buffer, size = 16_384) => {
    const out: Buffer[] = [];
    for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
    return out;
  };
  const sink = () => {
    let bytes = 0;
    const s = new Writable({
      write(c: Buffer, _e, cb) {
        bytes += c.length;
        cb();
      },
    });
    return { s, bytes: () => bytes };
  };

  it('passes exactly the signed bytes through', async () => {
    const out = sink();
    await pipeline(Readable.from(chunks(data)), createBlobVerifier(ref), out.s);
    expect(out.bytes()).toBe(data.length);
  });

  it('stops an endless stream as soon as it passes the signed size, never forwarding the excess', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 65_536;
        this.push(randomBytes(65_536));
      },
    });
    const out = sink();
    const err = await pipeline(endless, createBlobVerifier(ref), out.s).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).toBe('BLOB_SIZE_MISMATCH');
    expect(out.bytes()).toBeLessThanOrEqual(ref.size);
    expect(produced).toBeLessThan(ref.size + 64 * 65_536);
  });

  it('rejects a short stream (size) and a wrong one (hash)', async () => {
    const short = await pipeline(
      Readable.from(chunks(data.subarray(0, 1000))),
      createBlobVerifier(ref),
      sink().s,
    ).catch((e) => e);
    expect(short.code).toBe('BLOB_SIZE_MISMATCH');
    const wrong = Buffer.from(data);
    wrong[5] = (wrong[5] as number) ^ 1;
    const bad = await pipeline(Readable.from(chunks(wrong)), createBlobVerifier(ref), sink().s).catch(
      (e) => e,
    );
    expect(bad.code).toBe('BLOB_HASH_MISMATCH');
  });

  it('resumes: a hasher fed with the bytes already on disk continues with the rest', async () => {
    const hasher = new BlobHasher(ref);
    hasher.update(data.subarray(0, 70_001));
    const out = sink();
    await pipeline(Readable.from(chunks(data.subarray(70_001))), createBlobVerifier(ref, { hasher }), out.s);
    expect(out.bytes()).toBe(data.length - 70_001);
    expect(hasher.received).toBe(data.length);
  });
});
