import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blobPath,
  decodeHeader,
  encodeHeader,
  MANIFEST_FILE,
  packBundle,
  readManifestBytes,
  readTarManifest,
  unpackBundle,
  verifyBundleDir,
  verifyBundleTar,
} from '../../protocol/src/fs/index.js';
import { addSignature } from '../../protocol/src/index.js';
import { craftTar, createWorld, makeBundle, NOW, tempDir, trust } from './fixtures.js';

const w = createWorld();
const opts = { trust: trust(w), now: NOW, device: { unit: '08/02500' } };
let tmp: { dir: string; cleanup: () => Promise<void> };
let bundle: string;
let manifestBytes: Buffer;
let blobs: { sha256: string; size: number; data: Buffer }[];
let n = 0;

beforeAll(async () => {
  tmp = await tempDir();
  bundle = await makeBundle(tmp.dir, 'src', [w.editor], { sizes: [70_000, 513, 512] });
  manifestBytes = await readManifestBytes(bundle);
  const m = JSON.parse(manifestBytes.toString());
  blobs = await Promise.all(
    m.items.map(async (i: { blob: { sha256: string; size: number } }) => ({
      ...i.blob,
      data: await readFile(blobPath(bundle, i.blob.sha256)),
    })),
  );
});
afterAll(async () => {
  await tmp.cleanup();
});

const good = () => [
  { name: MANIFEST_FILE, data: manifestBytes },
  ...blobs.map((b) => ({ name: `blobs/${b.sha256}`, data: b.data })),
];

async function writeTar(buf: Buffer): Promise<string> {
  const p = join(tmp.dir, `t${++n}.tar`);
  await writeFile(p, buf);
  return p;
}

/** Unpacks into a fresh destination; returns the reason code and whether anything was left. */
async function tryUnpack(tar: string): Promise<{ code: string | undefined; leftovers: string[] }> {
  const parent = join(tmp.dir, `dest-parent-${++n}`);
  await mkdir(parent);
  let code: string | undefined;
  try {
    await unpackBundle(tar, join(parent, 'out'), opts);
  } catch (e) {
    code = (e as { code?: string }).code;
  }
  return { code, leftovers: await readdir(parent) };
}

describe('tar pack', () => {
  it('writes manifest.json first; GNU tar reads the archive and gets identical files', async () => {
    const tar = join(tmp.dir, 'packed.tar');
    await packBundle(bundle, tar);
    const list = execFileSync('tar', ['tf', tar]).toString().trim().split('\n');
    expect(list[0]).toBe(MANIFEST_FILE);
    expect(list.slice(1).sort()).toEqual(blobs.map((b) => `blobs/${b.sha256}`).sort());
    const x = join(tmp.dir, 'gnu-extract');
    await mkdir(x);
    execFileSync('tar', ['xf', tar, '-C', x]);
    for (const b of blobs) expect((await readFile(blobPath(x, b.sha256))).equals(b.data)).toBe(true);
    expect((await readTarManifest(tar)).equals(manifestBytes)).toBe(true);
    expect((await verifyBundleTar(tar, opts)).manifest.id).toBe('ban-tin-sang');
  });

  it('reads an archive made by GNU tar (with a blobs/ directory entry)', async () => {
    const tar = join(tmp.dir, 'gnu.tar');
    execFileSync('tar', ['--format=ustar', '-cf', tar, '-C', bundle, MANIFEST_FILE, 'blobs']);
    expect((await verifyBundleTar(tar, opts)).manifest.version).toBe(5);
    const out = join(tmp.dir, 'from-gnu');
    await unpackBundle(tar, out, opts);
    expect((await verifyBundleDir(out, opts)).manifest.version).toBe(5);
  });

  it('round-trips a header', () => {
    const h = encodeHeader({ name: 'blobs/abc', type: '0', size: 123456, mode: 0o644, mtime: 1_700_000_000 });
    expect(decodeHeader(h)).toEqual({
      name: 'blobs/abc',
      type: '0',
      size: 123456,
      mode: 0o644,
      mtime: 1_700_000_000,
      linkname: '',
    });
  });
});

describe('tar unpack', () => {
  it('unpacks a good archive into DIR, atomically, with nothing else left', async () => {
    const tar = await writeTar(craftTar(good()));
    const r = await tryUnpack(tar);
    expect(r).toEqual({ code: undefined, leftovers: ['out'] });
  });

  const unsafeCases: [string, { name: string; type?: string; linkname?: string; data?: Buffer }][] = [
    ['absolute path', { name: '/etc/cron.d/evil' }],
    ['dot-dot', { name: '../evil' }],
    ['dot-dot inside blobs', { name: 'blobs/../../evil' }],
    ['symlink', { name: 'blobs/link', type: '2', linkname: '/etc/shadow' }],
    ['hard link', { name: 'blobs/hard', type: '1', linkname: 'manifest.json' }],
    ['character device', { name: 'blobs/tty', type: '3' }],
    ['block device', { name: 'blobs/sda', type: '4' }],
    ['fifo', { name: 'blobs/fifo', type: '6' }],
    [
      'pax header (could rename the next entry)',
      { name: 'PaxHeader', type: 'x', data: Buffer.from('30 path=../../evil\n') },
    ],
    ['GNU long name', { name: '././@LongLink', type: 'L', data: Buffer.from('../../evil') }],
    ['drive letter', { name: 'C:/evil' }],
    ['backslashes', { name: 'blobs\\..\\..\\evil' }],
  ];
  it.each(unsafeCases)('refuses %s (TAR_UNSAFE_ENTRY) and writes nothing', async (_label, entry) => {
    const entries: Parameters<typeof craftTar>[0] = good();
    entries.splice(2, 0, { ...entry, data: entry.data ?? Buffer.alloc(0) });
    const tar = await writeTar(craftTar(entries));
    expect(await tryUnpack(tar)).toEqual({ code: 'TAR_UNSAFE_ENTRY', leftovers: [] });
    await expect(verifyBundleTar(tar, opts)).rejects.toMatchObject({ code: 'TAR_UNSAFE_ENTRY' });
  });

  it('refuses damaged archives (TAR_MALFORMED)', async () => {
    const whole = craftTar(good());
    const cases: Buffer[] = [
      Buffer.alloc(0),
      randomBytes(4096),
      whole.subarray(0, 512 + 512 + 30_000), // cut inside the first blob
      craftTar(good(), { end: false }), // no end marker
      (() => {
        const b = Buffer.from(whole);
        b.write('9x', 124, 'ascii'); // size field not octal (checksum fixed below)
        b.fill(0x20, 148, 156);
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += b[i] as number;
        b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
        return b;
      })(),
      craftTar([good()[1] as { name: string; data: Buffer }, good()[0] as { name: string; data: Buffer }]), // manifest not first
    ];
    for (const c of cases) {
      const tar = await writeTar(c);
      expect(await tryUnpack(tar)).toEqual({ code: 'TAR_MALFORMED', leftovers: [] });
    }
  });

  it('checks blobs as they stream: extra, duplicate, missing, wrong size, wrong hash', async () => {
    const [m, b0, b1, b2] = good() as { name: string; data: Buffer }[];
    const tampered = Buffer.from(b1?.data as Buffer);
    tampered[0] = (tampered[0] as number) ^ 0xff;
    const cases: [string, Buffer][] = [
      ['EXTRA_FILE', craftTar([...good(), { name: 'blobs/unlisted', data: Buffer.from('x') }])],
      ['EXTRA_FILE', craftTar([...good(), { name: 'README.txt', data: Buffer.from('x') }])],
      ['EXTRA_FILE', craftTar([...good(), b0 as { name: string; data: Buffer }])],
      ['EXTRA_FILE', craftTar([...good(), { name: 'other', type: '5' }])],
      ['BLOB_MISSING', craftTar([m, b0, b2] as { name: string; data: Buffer }[])],
      [
        'BLOB_SIZE_MISMATCH',
        craftTar([
          m,
          b0,
          { name: b1?.name as string, data: Buffer.concat([b1?.data as Buffer, Buffer.from('more')]) },
          b2,
        ] as { name: string; data: Buffer }[]),
      ],
      [
        'BLOB_HASH_MISMATCH',
        craftTar([m, b0, { name: b1?.name as string, data: tampered }, b2] as {
          name: string;
          data: Buffer;
        }[]),
      ],
      ['MANIFEST_TOO_LARGE', craftTar([{ name: MANIFEST_FILE, data: Buffer.alloc(1024 * 1024 + 1, 0x20) }])],
    ];
    for (const [code, buf] of cases) {
      const tar = await writeTar(buf);
      expect(await tryUnpack(tar), code).toEqual({ code, leftovers: [] });
    }
  });

  it('verifies the manifest before writing anything', async () => {
    const forged = addSignature(
      { ...JSON.parse(manifestBytes.toString()), signatures: [] },
      w.stranger.privateKey,
    );
    const tar = await writeTar(
      craftTar([{ name: MANIFEST_FILE, data: Buffer.from(JSON.stringify(forged)) }, ...good().slice(1)]),
    );
    expect(await tryUnpack(tar)).toEqual({ code: 'KEY_UNKNOWN', leftovers: [] });
    expect(await readTarManifest(tar)).toBeInstanceOf(Buffer);
  });

  it('refuses a destination that already holds files', async () => {
    const tar = await writeTar(craftTar(good()));
    const dest = join(tmp.dir, 'busy');
    await mkdir(dest);
    await writeFile(join(dest, 'keep.txt'), 'mine');
    await expect(unpackBundle(tar, dest, opts)).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(await readdir(dest)).toEqual(['keep.txt']);
  });
});
