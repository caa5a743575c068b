/**
 * Agent release artifacts: the agent's install tree as a gzip-compressed ustar. `packRelease`
 * writes one from a directory (regular files and directories only; symbolic links such as
 * node_modules/.bin are left out, the agent never runs them); `unpackRelease` extracts one into
 * a fresh directory with every file and directory fsynced, through a staging directory renamed
 * into place, so the destination either holds the whole tree or does not exist.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { VerifyError } from '../errors.js';
import { fsyncDir, makeStagingDir } from './atomic.js';
import { safeEntryPath } from './bundle-tar.js';
import { BLOCK, encodeHeader, MAX_USTAR_SIZE, padding, TarReader } from './tar.js';

/** The file written last into an extracted release: its presence means the tree is whole. */
export const RELEASE_COMPLETE_FILE = '.loa-release-complete';

async function* tarStream(root: string): AsyncGenerator<Buffer> {
  const walk = async function* (rel: string): AsyncGenerator<Buffer> {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, r));
      if (st.isSymbolicLink()) continue;
      const mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        yield encodeHeader({ name: `${r}/`, type: '5', size: 0, mode: 0o755, mtime });
        yield* walk(r);
      } else if (st.isFile()) {
        if (st.size > MAX_USTAR_SIZE) throw new RangeError(`${r} is too large for a ustar archive`);
        yield encodeHeader({
          name: r,
          type: '0',
          size: st.size,
          mode: st.mode & 0o111 ? 0o755 : 0o644,
          mtime,
        });
        const fh = await open(join(root, r), 'r');
        try {
          let left = st.size;
          const buf = Buffer.alloc(64 * 1024);
          while (left > 0) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), st.size - left);
            if (bytesRead === 0) throw new VerifyError('BLOB_SIZE_MISMATCH', `${r} changed while packing`);
            left -= bytesRead;
            yield Buffer.from(buf.subarray(0, bytesRead));
          }
        } finally {
          await fh.close();
        }
        const pad = padding(st.size);
        if (pad) yield Buffer.alloc(pad);
      }
    }
  };
  yield* walk('');
  yield Buffer.alloc(2 * BLOCK);
}

/** Packs `dir` into `outPath` (.tar.gz), written to a temporary sibling, fsynced and renamed. */
export async function packRelease(dir: string, outPath: string): Promise<void> {
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
  const tmp = join(dirname(outPath), `.${basename(outPath)}.tmp`);
  await pipeline(tarStream(dir), createGzip({ level: 9 }), createWriteStream(tmp, { mode: 0o644 }));
  const fh = await open(tmp, 'r+');
  await fh.sync();
  await fh.close();
  await rename(tmp, outPath);
  await fsyncDir(dirname(outPath));
}

export interface UnpackReleaseOptions {
  /** Called after each durable step (tests use it to cut the power in between). */
  onStep?: (step: string) => void | Promise<void>;
  /** Largest uncompressed tree accepted (default 512 MiB). */
  maxBytes?: number;
}

/**
 * Extracts a release artifact (already checked against its signed SHA-256) into `dest`, which
 * must not exist. Unsafe entries (links, devices, absolute or ".." paths) are TAR_UNSAFE_ENTRY,
 * a damaged archive TAR_MALFORMED. Leaves nothing behind on failure.
 */
export async function unpackRelease(
  artifact: string,
  dest: string,
  opts: UnpackReleaseOptions = {},
): Promise<void> {
  const max = opts.maxBytes ?? 512 * 1024 * 1024;
  const staging = await makeStagingDir(dest);
  const tarPath = `${staging}.tar`;
  try {
    try {
      await pipeline(createReadStream(artifact), createGunzip(), createWriteStream(tarPath));
    } catch (cause) {
      throw new VerifyError(
        'TAR_MALFORMED',
        `the release artifact is not gzip: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    const size = (await stat(tarPath)).size;
    if (size > max) throw new VerifyError('TAR_MALFORMED', `the release is ${size} bytes, more than ${max}`);
    const src = await open(tarPath, 'r');
    const dirs = new Set<string>(['']);
    try {
      const reader = new TarReader(src, size);
      const buf = Buffer.alloc(64 * 1024);
      for (let e = await reader.next(); e; e = await reader.next()) {
        const rel = safeEntryPath(e);
        if (rel === RELEASE_COMPLETE_FILE) throw new VerifyError('TAR_UNSAFE_ENTRY', `${rel} is reserved`);
        const full = join(staging, rel);
        if (e.type === '5') {
          await mkdir(full, { recursive: true, mode: 0o755 });
          dirs.add(rel);
          continue;
        }
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        dirs.add(dirname(rel) === '.' ? '' : dirname(rel));
        const out = await open(full, 'wx', e.mode & 0o111 ? 0o755 : 0o644);
        try {
          let done = 0;
          while (done < e.size) {
            const n = Math.min(buf.length, e.size - done);
            const { bytesRead } = await src.read(buf, 0, n, e.dataOffset + done);
            if (bytesRead !== n) throw new VerifyError('TAR_MALFORMED', 'the archive is truncated');
            await out.write(buf, 0, n);
            done += n;
          }
          await out.sync();
        } finally {
          await out.close();
        }
      }
    } finally {
      await src.close();
    }
    await opts.onStep?.('files');
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsyncDir(join(staging, d));
    const marker = await open(join(staging, RELEASE_COMPLETE_FILE), 'wx', 0o644);
    await marker.sync();
    await marker.close();
    await fsyncDir(staging);
    await rm(tarPath, { force: true });
    await opts.onStep?.('staged');
    await rename(staging, dest);
    await fsyncDir(dirname(dest));
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    await rm(tarPath, { force: true });
    throw e;
  }
}
