import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve, sep } from 'node:path';
import { VerifyError } from '../errors.js';
import { MAX_MANIFEST_BYTES, type Manifest, manifestBlobs } from '../manifest.js';
import { type VerifiedManifest, type VerifyManifestOptions, verifyManifest } from '../verify.js';
import { fsyncDir, makeStagingDir, writeFileAtomic } from './atomic.js';
import { BlobHasher, hashFileRange, ReadBuffers, short } from './blob.js';
import {
  assertEmptyOrAbsent,
  BLOBS_DIR,
  blobPath,
  checkBundleFiles,
  MANIFEST_FILE,
  parseManifestUnverified,
  publishDir,
  readManifestBytes,
} from './bundle-dir.js';
import { BLOCK, encodeHeader, MAX_USTAR_SIZE, padding, type TarEntry, TarReader } from './tar.js';

/**
 * Packs a bundle directory into a ustar file: manifest.json first, then blobs/<sha256> in
 * manifest order. The directory is checked first (only listed blobs, right sizes and hashes);
 * the archive is written to a temporary sibling and renamed into place.
 */
export async function packBundle(dir: string, tarPath: string): Promise<Manifest> {
  const manifestBytes = await readManifestBytes(dir);
  const manifest = parseManifestUnverified(manifestBytes);
  await checkBundleFiles(dir, manifest);
  const mtime = Math.max(0, Math.floor(Date.parse(manifest.created) / 1000));
  const tmp = join(dirname(tarPath), `.${posix.basename(tarPath)}.${randomBytes(6).toString('hex')}.tmp`);
  await mkdir(dirname(tarPath), { recursive: true });
  const out = await open(tmp, 'w', 0o644);
  try {
    const writeEntry = async (name: string, size: number) => {
      if (size > MAX_USTAR_SIZE) throw new RangeError(`${name} is too large for a ustar archive`);
      await out.write(encodeHeader({ name, type: '0', size, mode: 0o644, mtime }));
    };
    const pad = async (size: number) => {
      const n = padding(size);
      if (n > 0) await out.write(Buffer.alloc(n));
    };
    await writeEntry(MANIFEST_FILE, manifestBytes.length);
    await out.write(manifestBytes);
    await pad(manifestBytes.length);
    const buffers = ReadBuffers.forSizes(manifestBlobs(manifest).map((b) => b.size));
    for (const b of manifestBlobs(manifest)) {
      await writeEntry(`${BLOBS_DIR}/${b.sha256}`, b.size);
      const src = await open(blobPath(dir, b.sha256), 'r');
      try {
        const copied = await hashFileRange(
          src,
          0,
          b.size,
          async (chunk) => {
            await out.write(chunk);
          },
          buffers,
        );
        if (copied !== b.size)
          throw new VerifyError('BLOB_SIZE_MISMATCH', `blob ${short(b.sha256)} changed while packing`);
      } finally {
        await src.close();
      }
      await pad(b.size);
    }
    await out.write(Buffer.alloc(2 * BLOCK));
    await out.sync();
    await out.close();
    await rename(tmp, tarPath);
    await fsyncDir(dirname(tarPath));
    return manifest;
  } catch (e) {
    await out.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

function unsafe(entry: TarEntry, why: string): VerifyError {
  return new VerifyError('TAR_UNSAFE_ENTRY', `archive entry "${entry.name}": ${why}`, {
    details: { path: entry.name, type: entry.type },
  });
}

/**
 * The path of an entry relative to the destination, after the safety checks: links, devices,
 * fifos and extension headers are refused, as are absolute names, "..", backslashes and
 * anything that would resolve outside the destination (TAR_UNSAFE_ENTRY).
 */
export function safeEntryPath(entry: TarEntry): string {
  if (entry.type === '1' || entry.type === '2') throw unsafe(entry, `a link (to "${entry.linkname}")`);
  if (entry.type === '3' || entry.type === '4') throw unsafe(entry, 'a device file');
  if (entry.type === '6') throw unsafe(entry, 'a fifo');
  if (entry.type !== '0' && entry.type !== '5')
    throw unsafe(entry, `entry type "${entry.type}" is not accepted`);
  const name = entry.name;
  if (name === '' || name.includes('\0')) throw unsafe(entry, 'an empty name');
  if (name.startsWith('/') || isAbsolute(name) || /^[A-Za-z]:/.test(name))
    throw unsafe(entry, 'an absolute path');
  if (name.includes('\\')) throw unsafe(entry, 'a backslash in the name');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(entry, '".." in the path');
  const rel = parts.join('/');
  const root = resolve('/dest');
  const full = resolve(root, rel);
  if (full !== root && !full.startsWith(root + sep))
    throw unsafe(entry, 'it would land outside the destination');
  return rel;
}

/** Opens a tar and returns the raw bytes of its first entry, which must be manifest.json. */
async function readFirstManifest(fh: FileHandle, reader: TarReader, maxBytes: number): Promise<Buffer> {
  const first = await reader.next();
  if (!first) throw new VerifyError('TAR_MALFORMED', 'the archive is empty');
  const rel = safeEntryPath(first);
  if (rel !== MANIFEST_FILE || first.type !== '0')
    throw new VerifyError('TAR_MALFORMED', `the first entry must be ${MANIFEST_FILE}, not "${first.name}"`);
  if (first.size > maxBytes)
    throw new VerifyError(
      'MANIFEST_TOO_LARGE',
      `the manifest is ${first.size} bytes, more than the ${maxBytes} allowed`,
    );
  const buf = Buffer.alloc(first.size);
  const { bytesRead } = await fh.read(buf, 0, first.size, first.dataOffset);
  if (bytesRead !== first.size) throw new VerifyError('TAR_MALFORMED', 'the archive is truncated');
  return buf;
}

async function openTar(tarPath: string): Promise<{ fh: FileHandle; reader: TarReader }> {
  const fh = await open(tarPath, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new VerifyError('TAR_MALFORMED', `${tarPath} is not a regular file`);
    return { fh, reader: new TarReader(fh, st.size) };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The raw manifest.json bytes of a bundle tar, without unpacking anything (USB import). */
export async function readTarManifest(tarPath: string, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer> {
  const { fh, reader } = await openTar(tarPath);
  try {
    return await readFirstManifest(fh, reader, maxBytes);
  } finally {
    await fh.close();
  }
}

/**
 * Walks the entries after the manifest: each must be a listed blob (or the blobs/ directory),
 * once, with its signed size; its bytes are hashed (never past the signed size) and handed to
 * `write` when given. Throws on the first problem; BLOB_MISSING for blobs never seen.
 */
async function walkBlobs(
  fh: FileHandle,
  reader: TarReader,
  manifest: Manifest,
  write?: (sha256: string) => Promise<{ chunk(c: Buffer): Promise<void>; done(): Promise<void> }>,
): Promise<void> {
  const wanted = new Map(manifestBlobs(manifest).map((b) => [b.sha256, b] as const));
  const seen = new Set<string>();
  const buffers = ReadBuffers.forSizes([...wanted.values()].map((b) => b.size));
  for (let e = await reader.next(); e; e = await reader.next()) {
    const rel = safeEntryPath(e);
    if (e.type === '5') {
      if (rel === BLOBS_DIR) continue;
      throw new VerifyError(
        'EXTRA_FILE',
        `the archive holds directory "${e.name}", which a bundle never has`,
        {
          details: { path: e.name },
        },
      );
    }
    const sha = rel.startsWith(`${BLOBS_DIR}/`) ? rel.slice(BLOBS_DIR.length + 1) : '';
    const ref = wanted.get(sha);
    if (!ref || seen.has(sha))
      throw new VerifyError(
        'EXTRA_FILE',
        `the archive holds "${e.name}"${seen.has(sha) ? ' twice' : ', which the manifest does not list'}`,
        { details: { path: e.name } },
      );
    seen.add(sha);
    if (e.size !== ref.size)
      throw new VerifyError(
        'BLOB_SIZE_MISMATCH',
        `blob ${short(sha)} has ${e.size} bytes, ${ref.size} signed`,
        {
          details: { sha256: sha, size: ref.size, received: e.size },
        },
      );
    const hasher = new BlobHasher(ref);
    const sink = write ? await write(sha) : undefined;
    await hashFileRange(
      fh,
      e.dataOffset,
      ref.size,
      async (chunk) => {
        hasher.update(chunk);
        if (sink) await sink.chunk(chunk);
      },
      buffers,
    );
    hasher.finish();
    if (sink) await sink.done();
  }
  for (const b of wanted.values())
    if (!seen.has(b.sha256))
      throw new VerifyError('BLOB_MISSING', `blob ${short(b.sha256)} is not in the archive`, {
        details: { sha256: b.sha256 },
      });
}

/** Verifies a bundle tar in place (manifest, trust, then every blob), writing nothing. */
export async function verifyBundleTar(
  tarPath: string,
  opts: VerifyManifestOptions,
): Promise<VerifiedManifest> {
  const { fh, reader } = await openTar(tarPath);
  try {
    const bytes = await readFirstManifest(fh, reader, opts.maxBytes ?? MAX_MANIFEST_BYTES);
    const verified = verifyManifest(bytes, opts);
    await walkBlobs(fh, reader, verified.manifest);
    return verified;
  } finally {
    await fh.close();
  }
}

/**
 * Unpacks a bundle tar into `destDir` (absent or empty). The manifest is verified before
 * anything is written; blobs stream into a staging directory next to `destDir` with size and
 * hash checks; the staging directory is renamed to `destDir` only when everything passed, and
 * removed on any failure (never a half bundle).
 */
export async function unpackBundle(
  tarPath: string,
  destDir: string,
  opts: VerifyManifestOptions,
): Promise<VerifiedManifest> {
  const { fh, reader } = await openTar(tarPath);
  try {
    const bytes = await readFirstManifest(fh, reader, opts.maxBytes ?? MAX_MANIFEST_BYTES);
    const verified = verifyManifest(bytes, opts);
    await assertEmptyOrAbsent(destDir);
    const staging = await makeStagingDir(destDir);
    let current: FileHandle | undefined;
    try {
      await mkdir(join(staging, BLOBS_DIR));
      await walkBlobs(fh, reader, verified.manifest, async (sha) => {
        const out = await open(blobPath(staging, sha), 'wx', 0o644);
        current = out;
        return {
          chunk: async (c) => {
            await out.write(c);
          },
          done: async () => {
            await out.sync();
            current = undefined;
            await out.close();
          },
        };
      });
      await writeFileAtomic(join(staging, MANIFEST_FILE), bytes);
      await fsyncDir(join(staging, BLOBS_DIR));
      await publishDir(staging, destDir);
      return verified;
    } catch (e) {
      await current?.close().catch(() => undefined);
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  } finally {
    await fh.close();
  }
}
