/**
 * Content-addressed blob storage in the data directory: `<dir>/<sha256>`, written through a
 * staging file in `<dir>/.tmp/` (fsync, rename, fsync dir), so a blob is either complete or absent.
 * Uploads stream to disk with a byte limit; nothing is read whole into memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoaError, Sha256Schema } from '@loa/protocol';
import { fsyncDir } from '@loa/protocol/fs';

/** Read size when serving blobs: large pieces mean few reads, stream chunks and socket writes. */
const READ_CHUNK = 256 * 1024;

export interface StoredBlob {
  sha256: string;
  size: number;
}

export class BlobStore {
  readonly dir: string;
  readonly #tmp: string;

  constructor(dir: string) {
    this.dir = dir;
    this.#tmp = join(dir, '.tmp');
  }

  /** Creates the directories and removes staging files a crash left behind. */
  async start(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
    for (const name of await readdir(this.#tmp))
      await rm(join(this.#tmp, name), { force: true, recursive: true });
  }

  /** A fresh staging path (inside the store, so the final rename never crosses file systems). */
  tempPath(suffix = ''): string {
    return join(this.#tmp, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}${suffix}`);
  }

  /** Path of a blob; throws BLOB_ID_INVALID for anything but 64 lowercase hex characters. */
  path(sha256: string): string {
    if (!Sha256Schema.safeParse(sha256).success)
      throw new LoaError('BLOB_ID_INVALID', 'mã tệp phải là SHA-256 (64 ký tự hex thường)');
    return join(this.dir, sha256);
  }

  async stat(sha256: string): Promise<StoredBlob | undefined> {
    try {
      const s = await stat(this.path(sha256));
      return s.isFile() ? { sha256, size: s.size } : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  /** Streams a blob (inclusive byte range when given). */
  read(sha256: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.path(sha256), {
      highWaterMark: READ_CHUNK,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  /**
   * A blob (inclusive byte range when given) as a web stream for an HTTP response body: pulled
   * in READ_CHUNK pieces with one piece read ahead, so a slow client holds one chunk in memory
   * (Node 20's Readable.toWeb reads a whole file ahead) and a fast one costs few large writes.
   * The file is opened at the first pull and closed at the end, on error and on cancel.
   */
  readWeb(sha256: string, range?: { start: number; end: number }): ReadableStream<Uint8Array> {
    const path = this.path(sha256);
    let pos = range?.start ?? 0;
    const end = range ? range.end + 1 : Number.POSITIVE_INFINITY;
    let fh: FileHandle | undefined;
    const close = async () => {
      const h = fh;
      fh = undefined;
      await h?.close().catch(() => undefined);
    };
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            fh ??= await open(path, 'r');
            const want = Math.min(READ_CHUNK, end - pos);
            const buf = Buffer.allocUnsafe(want);
            const { bytesRead } = await fh.read(buf, 0, want, pos);
            pos += bytesRead;
            if (bytesRead > 0) controller.enqueue(buf.subarray(0, bytesRead));
            if (bytesRead === 0 || pos >= end) {
              await close();
              controller.close();
            }
          } catch (e) {
            await close();
            controller.error(e);
          }
        },
        cancel: close,
      },
      { highWaterMark: 1 },
    );
  }

  /**
   * Moves a finished staging file into the store under its SHA-256 (hashing it by streaming).
   * Idempotent: an existing blob with the same hash is kept and the staging file removed.
   */
  async importFile(staged: string): Promise<StoredBlob> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(staged, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const sha256 = hash.digest('hex');
    const dest = this.path(sha256);
    if (await this.has(sha256)) {
      await rm(staged, { force: true });
      return { sha256, size };
    }
    const fh = await open(staged, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(staged, dest);
    await fsyncDir(this.dir);
    return { sha256, size };
  }

  /**
   * Streams a request body to a staging file, failing with UPLOAD_TOO_LARGE (and deleting the
   * partial file) as soon as more than `maxBytes` arrive.
   */
  async receive(
    body: ReadableStream<Uint8Array> | null,
    maxBytes: number,
    suffix = '',
  ): Promise<{ path: string; size: number }> {
    if (!body) throw new LoaError('UPLOAD_EMPTY', 'Không có dữ liệu tải lên');
    const path = this.tempPath(suffix);
    const fh = await open(path, 'wx', 0o600);
    let size = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new LoaError(
            'UPLOAD_TOO_LARGE',
            `Tệp vượt quá giới hạn ${Math.round(maxBytes / 1048576)} MB`,
            {
              details: { maxBytes },
            },
          );
        }
        await fh.write(value);
      }
      if (size === 0) throw new LoaError('UPLOAD_EMPTY', 'Tệp tải lên rỗng');
      await fh.close();
      return { path, size };
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(path, { force: true });
      throw e;
    }
  }

  async removeTemp(path: string): Promise<void> {
    if (path.startsWith(this.#tmp)) await rm(path, { force: true });
  }
}
