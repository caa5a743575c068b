/**
 * Crash-safe file writes: the one implementation both programs use. Durability is Loa's core
 * promise (a station keeps its keys, bundles and proofs through power cuts; the server keeps
 * every acknowledged record), so every writer goes through these functions.
 *
 * The rule for whole-file writes: write a temporary sibling (`.<name>.<random>.tmp`, same
 * directory so the rename never crosses file systems), fsync it, rename it over the target,
 * fsync the directory. A crash at any moment leaves the old content or the new, never a mix;
 * a leftover temporary file is removed by `removeStaleTemps` at the next start.
 *
 * The rule for file systems that refuse a directory fsync (vfat on a USB stick or a Pi's boot
 * partition, some network and overlay file systems answer EINVAL, EPERM, ENOTSUP, EISDIR or
 * EBADF): the rename is still atomic there, so the write goes on and succeeds; how soon the
 * rename itself is on disk is then up to that file system. Every other error (EIO, ENOSPC,
 * EROFS, ...) is thrown: the caller must not acknowledge what may not be stored.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Error codes with which a file system refuses fsync on a directory (see the rule above). */
const DIR_FSYNC_REFUSED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP', 'EOPNOTSUPP']);

/** fsync a directory so that renames and creates inside it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!DIR_FSYNC_REFUSED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

export interface AtomicWriteOptions {
  /** File mode of a newly written file (default 0o644; use 0o600 for secrets). */
  mode?: number;
}

const TMP_SUFFIX = '.tmp';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`);
}

/**
 * Writes a file atomically and durably (temp sibling, fsync, rename, fsync dir). Resolves with
 * the number of bytes written once the new content is on disk; on any failure the target keeps
 * its old content and the temporary file is removed.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions | number = {},
): Promise<number> {
  const mode = typeof opts === 'number' ? opts : (opts.mode ?? 0o644);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
  return bytes.byteLength;
}

/** `writeFileAtomic` of pretty JSON with a trailing newline. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  opts: AtomicWriteOptions | number = {},
): Promise<number> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, opts);
}

/** Removes temporary files that an interrupted `writeFileAtomic(path)` may have left beside `path`. */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && n.endsWith(TMP_SUFFIX))
      .map((n) => rm(join(dir, n), { force: true })),
  );
}

/** A fresh staging directory next to `target` (same file system, so a rename can publish it). */
export async function makeStagingDir(target: string): Promise<string> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(target)}.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  return staging;
}
