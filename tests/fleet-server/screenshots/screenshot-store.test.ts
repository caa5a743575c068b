/**
 * The screenshot store on a real directory: PNG/JPEG recognised by their bytes, the size cap,
 * a declared type that does not match, the last N kept per device (newest first), concurrent
 * uploads of one device, and nothing stored lost when a bad picture is refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ScreenshotStore, sniffScreenshot } from '../../../fleet-server/src/services/screenshot-store.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'loa-shots-'));
  dirs.push(d);
  return d;
}

/** A real PNG and JPEG from ffmpeg's test source. */
async function pictures(dir: string): Promise<{ png: Buffer; jpeg: Buffer }> {
  const png = join(dir, 'a.png');
  const jpeg = join(dir, 'a.jpg');
  for (const out of [png, jpeg])
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180', '-frames:v', '1', out]);
  return { png: await readFile(png), jpeg: await readFile(jpeg) };
}

describe('ScreenshotStore', () => {
  it('recognises PNG and JPEG by their first bytes and nothing else', async () => {
    const { png, jpeg } = await pictures(await tmp());
    expect(sniffScreenshot(png)).toBe('image/png');
    expect(sniffScreenshot(jpeg)).toBe('image/jpeg');
    expect(sniffScreenshot(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffScreenshot(png.subarray(0, 5))).toBeUndefined();
    expect(sniffScreenshot(Buffer.alloc(0))).toBeUndefined();
  });

  it('keeps the last N per device, newest first, and serves each picture back byte for byte', async () => {
    const dir = await tmp();
    const { png, jpeg } = await pictures(dir);
    let now = Date.parse('2026-12-07T08:00:00Z');
    const store = new ScreenshotStore({ dir: join(dir, 'store'), now: () => now, keep: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      const rec = await store.add('bang-tin-1', i % 2 ? jpeg : png, {
        takenAt: new Date(now - 500).toISOString(),
        ...(i === 4 ? { commandId: '0b6f1b1e-8a7c-4c8e-9d7e-2f7f5b3c2a10' } : {}),
      });
      ids.push(rec.id);
    }
    const list = await store.list('bang-tin-1');
    expect(list.map((m) => m.id)).toEqual(ids.slice(2).reverse());
    expect(list[0]).toMatchObject({
      deviceId: 'bang-tin-1',
      mediaType: 'image/png',
      size: png.length,
      takenAt: new Date(now - 500).toISOString(),
      receivedAt: new Date(now).toISOString(),
      commandId: '0b6f1b1e-8a7c-4c8e-9d7e-2f7f5b3c2a10',
    });
    // the pruned pictures are gone from disk with their records
    const files = await readdir(join(dir, 'store', 'bang-tin-1'));
    expect(files.sort()).toEqual(
      ids
        .slice(2)
        .flatMap((id, i) => [`${id}.json`, `${id}.${i % 2 ? 'jpg' : 'png'}`])
        .sort(),
    );
    const back = await store.read('bang-tin-1', ids[3] as string);
    expect(back?.meta.mediaType).toBe('image/jpeg');
    expect(back?.bytes.equals(jpeg)).toBe(true);
    expect(await store.read('bang-tin-1', ids[0] as string)).toBeUndefined();
    expect(await store.read('bang-tin-1', '../../etc/passwd')).toBeUndefined();
    // another device's pictures are its own
    expect(await store.list('bang-tin-2')).toEqual([]);
  });

  it('refuses what is not a picture, too large or mislabelled, and loses nothing already stored', async () => {
    const dir = await tmp();
    const { png, jpeg } = await pictures(dir);
    const store = new ScreenshotStore({
      dir: join(dir, 'store'),
      now: () => Date.now(),
      maxBytes: 64 * 1024,
    });
    const kept = await store.add('bang-tin-1', png, { declaredType: 'image/png' });
    const refusals: [Uint8Array, Record<string, string>, string][] = [
      [Buffer.from('<html>not a picture</html>'), {}, 'SCREENSHOT_NOT_IMAGE'],
      [Buffer.alloc(0), {}, 'SCREENSHOT_EMPTY'],
      [Buffer.concat([png, Buffer.alloc(70 * 1024)]), {}, 'SCREENSHOT_TOO_LARGE'],
      [jpeg, { declaredType: 'image/png' }, 'SCREENSHOT_TYPE_MISMATCH'],
    ];
    for (const [bytes, meta, code] of refusals)
      await expect(store.add('bang-tin-1', bytes, meta)).rejects.toMatchObject({ code });
    await expect(store.add('../evil', png, {})).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    expect((await store.list('bang-tin-1')).map((m) => m.id)).toEqual([kept.id]);
    expect((await store.read('bang-tin-1', kept.id))?.bytes.equals(png)).toBe(true);
  });

  it('stores concurrent uploads of one device one after the other and keeps exactly N', async () => {
    const dir = await tmp();
    const { png } = await pictures(dir);
    let n = Date.parse('2026-12-07T08:00:00Z');
    const store = new ScreenshotStore({ dir: join(dir, 'store'), now: () => ++n, keep: 4 });
    const seen: string[] = [];
    const off = store.onAdded((m) => seen.push(m.id));
    const recs = await Promise.all(Array.from({ length: 10 }, () => store.add('bang-tin-1', png, {})));
    off();
    expect(seen).toHaveLength(10);
    const list = await store.list('bang-tin-1');
    expect(list).toHaveLength(4);
    expect(list.map((m) => m.id)).toEqual(
      recs
        .map((r) => r.id)
        .sort()
        .reverse()
        .slice(0, 4),
    );
    expect(await readdir(join(dir, 'store', 'bang-tin-1'))).toHaveLength(8);
  });
});
