/**
 * Downloads one content-addressed blob over HTTP into a partial file, resuming with Range after
 * a broken connection, never accepting a byte past the signed size, with an idle timeout for
 * slow 4G and retries with backoff. The partial file is moved into the blob pool only once its
 * size and SHA-256 match the manifest.
 */
import { open, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LoaError, VerifyError } from '@loa/protocol';
import { type BlobExpectation, BlobHasher, fsyncDir, hashFileRange } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import type { HttpFetch } from '../../http/client.js';

export interface DownloadOptions {
  fetch: HttpFetch;
  /** Abort a request that receives nothing for this long (default 30 s). */
  idleTimeoutMs: number;
  /** Attempts per blob (default 6). */
  attempts: number;
  /** First retry delay; doubles each attempt, with jitter (default 1 s). */
  backoffMs: number;
  headers?: () => Record<string, string>;
  logger: Logger;
  /** Stops everything (store stopping). */
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Hashes what is already in the partial file; a longer-than-signed partial is discarded. */
async function resumeState(partial: string, exp: BlobExpectation): Promise<BlobHasher> {
  const have = await sizeOf(partial);
  const hasher = new BlobHasher(exp);
  if (have > exp.size) {
    await truncate(partial, 0);
    return hasher;
  }
  if (have === 0) return hasher;
  const fh = await open(partial, 'r');
  try {
    await hashFileRange(fh, 0, have, (c) => {
      hasher.update(c);
    });
  } finally {
    await fh.close();
  }
  return hasher;
}

/** One HTTP attempt; resolves when the partial file holds the whole blob (hash checked). */
async function attempt(
  url: string,
  partial: string,
  exp: BlobExpectation,
  o: DownloadOptions,
): Promise<void> {
  let hasher = await resumeState(partial, exp);
  let have = hasher.received;
  if (have < exp.size || exp.size === 0) {
    const ctrl = new AbortController();
    const onStop = () => ctrl.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', onStop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => ctrl.abort(new LoaError('DOWNLOAD_TIMEOUT', `no data for ${o.idleTimeoutMs} ms from ${url}`)),
        o.idleTimeoutMs,
      );
    };
    try {
      arm();
      const headers: Record<string, string> = { ...(o.headers?.() ?? {}) };
      if (have > 0) headers.range = `bytes=${have}-${exp.size - 1}`;
      const res = await o.fetch(url, { headers, signal: ctrl.signal });
      if (res.status === 416 && have > 0) {
        await res.body?.cancel();
        await truncate(partial, 0);
        throw new LoaError('DOWNLOAD_RANGE', 'the server refused the resume range; starting again');
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw new LoaError('DOWNLOAD_HTTP', `HTTP ${res.status} for ${url}`, {
          details: { status: res.status, retriable: res.status >= 500 || res.status === 429 },
        });
      }
      if (res.status === 200 && have > 0) {
        // The server ignored Range: start over.
        await truncate(partial, 0);
        hasher = new BlobHasher(exp);
        have = 0;
      } else if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (!m || Number(m[1]) !== have) {
          await res.body?.cancel();
          await truncate(partial, 0);
          throw new LoaError('DOWNLOAD_RANGE', 'the server answered a different range; starting again');
        }
      }
      const out = await open(partial, 'a', 0o644);
      try {
        if (res.body) {
          for await (const chunk of res.body) {
            arm();
            const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            hasher.update(buf); // throws BLOB_SIZE_MISMATCH before a byte past the size is written
            await out.write(buf);
            o.onProgress?.(hasher.received);
          }
        }
        await out.sync();
      } finally {
        await out.close();
      }
    } catch (e) {
      if (ctrl.signal.aborted && ctrl.signal.reason instanceof Error) throw ctrl.signal.reason;
      throw e;
    } finally {
      clearTimeout(idle);
      o.signal?.removeEventListener('abort', onStop);
    }
  }
  if (hasher.received < exp.size)
    throw new LoaError(
      'DOWNLOAD_SHORT',
      `the connection ended after ${hasher.received} of ${exp.size} bytes`,
    );
  hasher.finish(); // BLOB_HASH_MISMATCH
}

function retriable(e: unknown): boolean {
  if (e instanceof VerifyError) return true;
  if (e instanceof LoaError) return e.code !== 'DOWNLOAD_HTTP' || e.details?.retriable === true;
  return true; // network errors
}

/**
 * Downloads `url` into `dest` (the blob pool path) through `partial`. Throws the last error
 * after `attempts` failures; a blob whose hash is wrong twice in a row is rejected for good.
 */
export async function downloadBlob(
  url: string,
  partial: string,
  dest: string,
  exp: BlobExpectation,
  o: DownloadOptions,
): Promise<void> {
  let hashFailures = 0;
  for (let i = 1; ; i++) {
    try {
      await attempt(url, partial, exp, o);
      break;
    } catch (e) {
      if (o.signal?.aborted) throw e;
      if (e instanceof VerifyError) {
        await rm(partial, { force: true });
        hashFailures++;
        if (hashFailures >= 2) throw e;
      }
      if (!retriable(e) || i >= o.attempts) throw e;
      const delay = o.backoffMs * 2 ** (i - 1) * (0.5 + Math.random());
      o.logger.warn(
        { url, attempt: i, code: (e as LoaError).code, delayMs: Math.round(delay) },
        'blob retry',
      );
      await sleep(delay, o.signal);
    }
  }
  await rename(partial, dest);
  await fsyncDir(dirname(dest));
}
