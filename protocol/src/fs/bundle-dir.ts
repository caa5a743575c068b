import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LoaError, VerifyError } from '../errors.js';
import { keyId } from '../keys.js';
import { MAX_MANIFEST_BYTES, type Manifest, ManifestSchema, manifestBlobs } from '../manifest.js';
import { addSignature } from '../signing.js';
import { type VerifiedManifest, type VerifyManifestOptions, verifyManifest } from '../verify.js';
import { fsyncDir, makeStagingDir, writeFileAtomic } from './atomic.js';
import { HASH_CHUNK_BYTES, ReadBuffers, short, verifyBlobFile } from './blob.js';

/** Bundle directory layout: DIR/manifest.json and DIR/blobs/<sha256>, nothing else. */
export const MANIFEST_FILE = 'manifest.json';
export const BLOBS_DIR = 'blobs';

export function blobPath(dir: string, sha256: string): string {
  return join(dir, BLOBS_DIR, sha256);
}

/**
 * Reads DIR/manifest.json as bytes, refusing (MANIFEST_TOO_LARGE) a file over `maxBytes`
 * without reading it whole.
 */
export async function readManifestBytes(dir: string, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(join(dir, MANIFEST_FILE), 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new VerifyError('MANIFEST_MALFORMED', `${dir} holds no ${MANIFEST_FILE}`, { cause });
    throw cause;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new VerifyError('MANIFEST_MALFORMED', `${MANIFEST_FILE} is not a regular file`);
    if (st.size > maxBytes)
      throw new VerifyError(
        'MANIFEST_TOO_LARGE',
        `the manifest is ${st.size} bytes, more than the ${maxBytes} allowed`,
      );
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Parses a manifest (signed or not) without checking signatures: for builders and signers. */
export function parseManifestUnverified(bytes: Buffer | string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString());
  } catch (cause) {
    throw new VerifyError('MANIFEST_MALFORMED', `not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = ManifestSchema.safeParse(doc);
  if (!parsed.success)
    throw new VerifyError(
      'MANIFEST_MALFORMED',
      parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`)
        .join('; '),
    );
  return parsed.data;
}

/**
 * Checks the files of a bundle directory against a manifest: no entry besides manifest.json and
 * blobs/ (EXTRA_FILE), every listed blob present (BLOB_MISSING) with its exact size and hash
 * (BLOB_SIZE_MISMATCH, BLOB_HASH_MISMATCH), no unlisted blob (EXTRA_FILE). Cheap checks (listing,
 * sizes) run before any content is hashed.
 */
export async function checkBundleFiles(dir: string, manifest: Pick<Manifest, 'items'>): Promise<void> {
  const blobs = manifestBlobs(manifest);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === MANIFEST_FILE && e.isFile()) continue;
    if (e.name === BLOBS_DIR && e.isDirectory()) continue;
    throw new VerifyError('EXTRA_FILE', `the bundle holds "${e.name}", which the manifest does not list`, {
      details: { path: e.name },
    });
  }
  let names: string[] = [];
  try {
    names = await readdir(join(dir, BLOBS_DIR));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const wanted = new Set(blobs.map((b) => b.sha256));
  for (const n of names)
    if (!wanted.has(n))
      throw new VerifyError(
        'EXTRA_FILE',
        `the bundle holds "${BLOBS_DIR}/${n}", which the manifest does not list`,
        {
          details: { path: `${BLOBS_DIR}/${n}` },
        },
      );
  const present = new Set(names);
  for (const b of blobs) {
    if (!present.has(b.sha256))
      throw new VerifyError('BLOB_MISSING', `blob ${short(b.sha256)} is missing`, {
        details: { sha256: b.sha256 },
      });
    const st = await lstat(blobPath(dir, b.sha256));
    if (!st.isFile())
      throw new VerifyError('BLOB_MISSING', `blob ${short(b.sha256)} is not a regular file`, {
        details: { sha256: b.sha256 },
      });
    if (st.size !== b.size)
      throw new VerifyError(
        'BLOB_SIZE_MISMATCH',
        `blob ${short(b.sha256)} has ${st.size} bytes, ${b.size} signed`,
        {
          details: { sha256: b.sha256, size: b.size, received: st.size },
        },
      );
  }
  const buffers = ReadBuffers.forSizes(blobs.map((b) => b.size));
  for (const b of blobs) await verifyBlobFile(blobPath(dir, b.sha256), b, { buffers });
}

/**
 * Reads and verifies a bundle directory: the manifest with {@link verifyManifest} (trust,
 * signatures, time, versions, target), then every blob with {@link checkBundleFiles}.
 */
export async function verifyBundleDir(dir: string, opts: VerifyManifestOptions): Promise<VerifiedManifest> {
  const bytes = await readManifestBytes(dir, opts.maxBytes);
  const verified = verifyManifest(bytes, opts);
  await checkBundleFiles(dir, verified.manifest);
  return verified;
}

/** Writes manifest.json (2-space JSON; signatures cover the canonical form, not these bytes). */
export async function writeManifestFile(dir: string, manifest: object): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Copies a file into DIR/blobs/<sha256> while hashing it; identical files are stored once. */
export async function importBlob(dir: string, src: string): Promise<{ sha256: string; size: number }> {
  await mkdir(join(dir, BLOBS_DIR), { recursive: true });
  const tmp = join(dir, BLOBS_DIR, `.import-${randomBytes(8).toString('hex')}`);
  const input = await open(src, 'r');
  const output = await open(tmp, 'wx', 0o644);
  const hash = createHash('sha256');
  let size = 0;
  try {
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      await output.write(chunk, 0, bytesRead);
      size += bytesRead;
    }
    await output.sync();
  } catch (e) {
    await output.close();
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await input.close();
  }
  await output.close();
  const sha256 = hash.digest('hex');
  await rename(tmp, blobPath(dir, sha256));
  return { sha256, size };
}

export interface BuildBundleInput {
  /** Content files, copied into blobs/ in this order. */
  files: readonly string[];
  /** Builds the manifest body from the stored blobs (same order as `files`). */
  manifest: (blobs: { path: string; sha256: string; size: number }[]) => object;
}

/**
 * Builds an unsigned bundle directory at `outDir` (which must not exist or be empty): blobs are
 * copied in a staging directory, the manifest is validated, then the staging directory is renamed.
 */
export async function buildBundleDir(outDir: string, input: BuildBundleInput): Promise<Manifest> {
  await assertEmptyOrAbsent(outDir);
  const staging = await makeStagingDir(outDir);
  try {
    const stored = [];
    for (const path of input.files) stored.push({ path, ...(await importBlob(staging, path)) });
    const body = input.manifest(stored) as Record<string, unknown>;
    const manifest = parseManifestUnverified(JSON.stringify({ ...body, signatures: body.signatures ?? [] }));
    await writeManifestFile(staging, manifest);
    await checkBundleFiles(staging, manifest);
    await publishDir(staging, outDir);
    return manifest;
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Adds one signature to DIR/manifest.json (replacing an earlier one by the same key). The
 * blobs are checked first: a signer only signs content that matches the manifest.
 */
export async function signBundleDir(
  dir: string,
  privateKey: KeyObject,
): Promise<{ manifest: Manifest; keyid: string }> {
  const manifest = parseManifestUnverified(await readManifestBytes(dir));
  await checkBundleFiles(dir, manifest);
  const signed = addSignature(manifest, privateKey);
  await writeManifestFile(dir, signed);
  return { manifest: signed, keyid: keyId(privateKey) };
}

/**
 * Renames a finished staging directory to `target`. rename(2) replaces an empty directory and
 * fails on a non-empty one, so files someone put into `target` meanwhile are never deleted.
 */
export async function publishDir(staging: string, target: string): Promise<void> {
  try {
    await rename(staging, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR')
      throw new LoaError('DEST_EXISTS', `${target} already exists and is not empty`, { cause: e });
    throw e;
  }
  await fsyncDir(dirname(resolve(target)));
}

/** Throws DEST_EXISTS when `dir` exists and is not an empty directory. */
export async function assertEmptyOrAbsent(dir: string): Promise<void> {
  try {
    const entries = await readdir(dir);
    if (entries.length > 0)
      throw new LoaError('DEST_EXISTS', `${dir} already exists and is not empty`, { details: { path: dir } });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR')
      throw new LoaError('DEST_EXISTS', `${dir} already exists and is not a directory`, { cause: e });
    throw e;
  }
}
