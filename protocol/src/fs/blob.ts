import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { VerifyError } from '../errors.js';

/** What a blob must be: its signed SHA-256 (lowercase hex) and exact size in bytes. */
export interface BlobExpectation {
  sha256: string;
  size: number;
}

/** Read buffer for hashing files: large reads keep verification close to raw SHA-256 speed. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Incremental blob check. `update()` throws BLOB_SIZE_MISMATCH as soon as more than the signed
 * size arrives (endless-data defence), `finish()` throws BLOB_SIZE_MISMATCH when fewer bytes came
 * and BLOB_HASH_MISMATCH when the digest differs. For a resumed download, feed the bytes already
 * on disk first, then the rest.
 */
export class BlobHasher {
  readonly expected: BlobExpectation;
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private done = false;

  constructor(expected: BlobExpectation) {
    this.expected = expected;
  }

  /** Bytes seen so far. */
  get received(): number {
    return this.count;
  }

  update(chunk: Uint8Array): void {
    if (this.done) throw new Error('BlobHasher: update() after finish()');
    if (this.count + chunk.length > this.expected.size)
      throw new VerifyError(
        'BLOB_SIZE_MISMATCH',
        `blob ${short(this.expected.sha256)} is longer than its signed size of ${this.expected.size} bytes`,
        { details: { sha256: this.expected.sha256, size: this.expected.size } },
      );
    this.hash.update(chunk);
    this.count += chunk.length;
  }

  /** Checks size and hash once all bytes are in; returns the hex digest. */
  finish(): string {
    if (this.done) throw new Error('BlobHasher: finish() twice');
    this.done = true;
    if (this.count !== this.expected.size)
      throw new VerifyError(
        'BLOB_SIZE_MISMATCH',
        `blob ${short(this.expected.sha256)} has ${this.count} bytes, ${this.expected.size} signed`,
        { details: { sha256: this.expected.sha256, size: this.expected.size, received: this.count } },
      );
    const digest = this.hash.digest('hex');
    if (digest !== this.expected.sha256)
      throw new VerifyError(
        'BLOB_HASH_MISMATCH',
        `blob ${short(this.expected.sha256)} has SHA-256 ${short(digest)}`,
        { details: { sha256: this.expected.sha256, actual: digest } },
      );
    return digest;
  }
}

/**
 * A pass-through stream that verifies a blob while it flows (e.g. an HTTP download piped into a
 * file): it errors with BLOB_SIZE_MISMATCH before passing on the first byte past the signed size,
 * and at the end with BLOB_SIZE_MISMATCH or BLOB_HASH_MISMATCH. Pass `hasher` to continue a
 * check that already saw the start of the blob (Range resume).
 */
export function createBlobVerifier(expected: BlobExpectation, opts: { hasher?: BlobHasher } = {}): Transform {
  const hasher = opts.hasher ?? new BlobHasher(expected);
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        hasher.update(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      try {
        hasher.finish();
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}

/**
 * A pair of read buffers reused across files. Fresh large buffers cost a page fault per 4 KB on
 * first touch, about as much as copying the data, so a verifier of many blobs allocates one pair.
 */
export class ReadBuffers {
  readonly pair: [Buffer, Buffer];
  constructor(size = HASH_CHUNK_BYTES) {
    this.pair = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  }

  /** Buffers big enough for the largest of `sizes` (at most HASH_CHUNK_BYTES each). */
  static forSizes(sizes: readonly number[]): ReadBuffers {
    return new ReadBuffers(Math.min(HASH_CHUNK_BYTES, Math.max(1, ...sizes)));
  }
}

/**
 * Hashes `length` bytes of an open file from `position` into `sink`, with two buffers so that
 * the next read runs while the current chunk is hashed. Stops early at end of file and returns
 * the number of bytes read. Never reads past `position + length`. The sink may be async; the
 * chunk's buffer is reused once the sink returns (or its promise settles). Pass `buffers` to
 * reuse read buffers across calls (one call at a time per ReadBuffers).
 */
export async function hashFileRange(
  fh: FileHandle,
  position: number,
  length: number,
  sink: (chunk: Buffer) => void | Promise<void>,
  buffers?: ReadBuffers,
): Promise<number> {
  const size = Math.min(HASH_CHUNK_BYTES, Math.max(length, 1));
  const bufs = buffers?.pair ?? [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let done = 0;
  let which = 0;
  const readNext = (at: number, buf: Buffer) =>
    fh.read(buf, 0, Math.min(buf.length, length - (at - position)), at);
  let pending = length > 0 ? readNext(position, bufs[0] as Buffer) : null;
  while (pending) {
    const { bytesRead, buffer } = await pending;
    if (bytesRead === 0) break;
    done += bytesRead;
    which ^= 1;
    pending = done < length ? readNext(position + done, bufs[which] as Buffer) : null;
    try {
      const r = sink(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      if (r) await r;
    } catch (e) {
      await pending?.catch(() => undefined);
      throw e;
    }
  }
  return done;
}

/**
 * Verifies a blob file: size from fstat first (a longer or shorter file is rejected without
 * reading it), then SHA-256 over exactly the signed number of bytes.
 */
export async function verifyBlobFile(
  path: string,
  expected: BlobExpectation,
  opts: { buffers?: ReadBuffers } = {},
): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VerifyError('BLOB_MISSING', `blob ${short(expected.sha256)} is missing`, { cause });
    throw cause;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new VerifyError('BLOB_MISSING', `blob ${short(expected.sha256)} is not a regular file`);
    if (st.size !== expected.size)
      throw new VerifyError(
        'BLOB_SIZE_MISMATCH',
        `blob ${short(expected.sha256)} has ${st.size} bytes, ${expected.size} signed`,
        { details: { sha256: expected.sha256, size: expected.size, received: st.size } },
      );
    const hasher = new BlobHasher(expected);
    await hashFileRange(fh, 0, expected.size, (c) => hasher.update(c), opts.buffers);
    hasher.finish();
  } finally {
    await fh.close();
  }
}

/** SHA-256 (hex) and size of a whole file. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const hash = createHash('sha256');
    const size = await hashFileRange(fh, 0, st.size, (c) => {
      hash.update(c);
    });
    return { sha256: hash.digest('hex'), size };
  } finally {
    await fh.close();
  }
}

export function short(sha: string): string {
  return `${sha.slice(0, 12)}…`;
}
