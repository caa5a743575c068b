import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../../fleet-server/src/services/blob-store.js';

async function collect(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe('BlobStore.readWeb', () => {
  let dir: string;
  let store: BlobStore;
  // larger than two read pieces and not a multiple of one
  const data = randomBytes(700 * 1024 + 13);
  const sha = createHash('sha256').update(data).digest('hex');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loa-blob-web-'));
    store = new BlobStore(dir);
    await store.start();
    const staged = store.tempPath();
    await writeFile(staged, data);
    expect((await store.importFile(staged)).sha256).toBe(sha);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the whole blob in large pieces', async () => {
    const { bytes, chunks } = await collect(store.readWeb(sha));
    expect(bytes.equals(data)).toBe(true);
    expect(chunks).toBe(3);
  });

  it('streams inclusive ranges, across piece boundaries and at the very end', async () => {
    for (const [start, end] of [
      [100, 600_000],
      [262_143, 262_144],
      [data.length - 1, data.length - 1],
      [0, 0],
    ] as const) {
      const { bytes } = await collect(store.readWeb(sha, { start, end }));
      expect(bytes.equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  it('yields one 256 KiB piece per read and can be cancelled midway', async () => {
    const reader = store.readWeb(sha).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(first.value?.byteLength).toBe(256 * 1024);
    await reader.cancel();
    const after = await reader.read();
    expect(after.done).toBe(true);
  });

  it('errors the stream for a missing blob and refuses a malformed id', async () => {
    const missing = '0'.repeat(64);
    await expect(collect(store.readWeb(missing))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => store.readWeb('nope')).toThrow(expect.objectContaining({ code: 'BLOB_ID_INVALID' }));
  });
});
