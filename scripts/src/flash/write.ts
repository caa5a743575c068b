/**
 * Writes an image stream onto a target and verifies it: every byte goes through SHA-256 on the
 * way out, the target is fsynced (and, for a block device, its buffer cache dropped with
 * `blockdev --flushbufs` so the read-back comes from the card, not from memory), then the same
 * length is read back and hashed. A mismatch is FLASH_VERIFY_MISMATCH.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LoaError } from '@loa/protocol';

export interface Progress {
  phase: 'write' | 'verify';
  done: number;
  total: number | undefined;
}

const CHUNK = 4 * 1024 * 1024;

/** Gathers a stream into CHUNK-sized buffers (a card writes best in large aligned blocks). */
async function* chunks(stream: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    pending.push(piece);
    size += piece.length;
    while (size >= CHUNK) {
      const all = Buffer.concat(pending, size);
      yield all.subarray(0, CHUNK);
      pending = [all.subarray(CHUNK)];
      size -= CHUNK;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

export interface WriteResult {
  bytes: number;
  sha256: string;
}

/** Writes `stream` at offset 0 of `target` (opened r+ for a device, w for a file). */
export async function writeImage(
  stream: Readable,
  target: string,
  opts: { block: boolean; total: number | undefined; capacity?: number; onProgress: (p: Progress) => void },
): Promise<WriteResult> {
  let fh: FileHandle;
  try {
    fh = await open(target, opts.block ? 'r+' : 'w');
  } catch (cause) {
    throw new LoaError('TARGET_OPEN_FAILED', `không mở được ${target} để ghi: ${(cause as Error).message}`, {
      cause,
    });
  }
  const hash = createHash('sha256');
  let pos = 0;
  try {
    for await (const chunk of chunks(stream)) {
      if (opts.capacity !== undefined && pos + chunk.length > opts.capacity)
        throw new LoaError(
          'TARGET_TOO_SMALL',
          `ảnh lớn hơn dung lượng của ${target} (${opts.capacity} byte)`,
        );
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, pos + off);
        off += bytesWritten;
      }
      hash.update(chunk);
      pos += chunk.length;
      opts.onProgress({ phase: 'write', done: pos, total: opts.total });
    }
    await fh.sync();
  } catch (e) {
    stream.destroy();
    if (e instanceof LoaError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new LoaError(
      err.code === 'ENOSPC' ? 'TARGET_TOO_SMALL' : 'FLASH_WRITE_FAILED',
      `ghi lỗi ở byte ${pos}: ${err.message}`,
      {
        cause: e,
      },
    );
  } finally {
    await fh.close();
  }
  if (pos < 512) throw new LoaError('IMAGE_TOO_SMALL', `ảnh chỉ có ${pos} byte, không phải ảnh đĩa`);
  if (opts.total !== undefined && pos !== opts.total)
    throw new LoaError('IMAGE_CORRUPT', `ảnh có ${pos} byte thay vì ${opts.total} như tệp nén ghi`);
  return { bytes: pos, sha256: hash.digest('hex') };
}

/** Drops the kernel's cached copy of a block device (util-linux blockdev). */
export function flushBuffers(device: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('blockdev', ['--flushbufs', device], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', (cause) =>
      reject(new LoaError('BLOCKDEV_MISSING', 'không chạy được blockdev (gói util-linux)', { cause })),
    );
    p.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new LoaError('FLASH_FLUSH_FAILED', `blockdev --flushbufs: ${err.trim()}`)),
    );
  });
}

/** Reads back `bytes` from the start of `target` and returns their SHA-256. */
export async function hashTarget(
  target: string,
  bytes: number,
  onProgress: (p: Progress) => void,
): Promise<string> {
  const fh = await open(target, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  let pos = 0;
  try {
    while (pos < bytes) {
      const want = Math.min(CHUNK, bytes - pos);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0)
        throw new LoaError('FLASH_VERIFY_SHORT', `chỉ đọc lại được ${pos} trong ${bytes} byte`);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      onProgress({ phase: 'verify', done: pos, total: bytes });
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
