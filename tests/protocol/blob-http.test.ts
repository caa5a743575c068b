/**
 * The streaming blob verifier on a real HTTP download over loopback: a hostile server that
 * never stops sending (endless data) is cut off at the signed size, and nothing past it is written.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobVerifier } from '../../protocol/src/fs/index.js';
import { tempDir } from './fixtures.js';

const blob = randomBytes(300_000);
const ref = { sha256: createHash('sha256').update(blob).digest('hex'), size: blob.length };
let server: Server;
let base: string;
let tmp: { dir: string; cleanup: () => Promise<void> };
let endlessBytesSent = 0;
let endlessClosed: Promise<void>;

beforeAll(async () => {
  tmp = await tempDir();
  let closed: () => void = () => undefined;
  endlessClosed = new Promise((r) => {
    closed = r;
  });
  server = createServer((req, res) => {
    if (req.url === '/good') {
      res.end(blob);
      return;
    }
    // Endless: the right bytes first, then garbage for ever, as fast as the client reads.
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = randomBytes(64 * 1024);
    res.write(blob);
    endlessBytesSent = blob.length;
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) endlessBytesSent += chunk.length;
      if (!res.destroyed) {
        endlessBytesSent += chunk.length;
        res.once('drain', pump);
      }
    };
    res.on('close', () => closed());
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await tmp.cleanup();
});

function fetch(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(`${base}${path}`, resolve).on('error', reject));
}

describe('blob download through createBlobVerifier', () => {
  it('stores a good blob', async () => {
    const out = join(tmp.dir, 'good');
    await pipeline(await fetch('/good'), createBlobVerifier(ref), createWriteStream(out));
    expect((await stat(out)).size).toBe(ref.size);
  });

  it('cuts an endless response at the signed size and writes nothing beyond it', async () => {
    const out = join(tmp.dir, 'endless');
    const err = await pipeline(await fetch('/endless'), createBlobVerifier(ref), createWriteStream(out)).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).toBe('BLOB_SIZE_MISMATCH');
    await endlessClosed; // the connection was torn down, the server stopped sending
    expect((await stat(out)).size).toBeLessThanOrEqual(ref.size);
    // Only socket buffers' worth was ever sent beyond the blob, not an unbounded stream.
    expect(endlessBytesSent).toBeLessThan(ref.size + 64 * 1024 * 1024);
  });
});
