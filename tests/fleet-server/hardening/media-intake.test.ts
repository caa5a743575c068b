/**
 * Media intake: an upload is one self-contained media file. An HLS playlist that points at a file
 * on the server's own disk, and a PNG signature followed by garbage, are refused; real files of
 * the accepted formats still pass (real ffmpeg on real files).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, makeSine, startHarness, type TestUser } from '../publish/harness.js';

const run = promisify(execFile);
type Err = { error: { code: string } };

describe('media intake', () => {
  let h: Harness;
  let editor: TestUser;
  const upload = async (bytes: Uint8Array, name: string) =>
    h.api<ContentRecord | Err>(
      editor,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title: 'Tệp', name })}`,
      bytes,
      { 'content-type': 'application/octet-stream' },
    );

  beforeAll(async () => {
    h = await startHarness();
    editor = await h.user('bientap', 'editor', ['08/02500']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses an HLS playlist that points at a media file on the server disk', async () => {
    const secret = join(h.dir, 'server-side.mp3');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-y', secret]);
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n${secret}\n#EXT-X-ENDLIST\n`;
    const r = await upload(Buffer.from(playlist), 'list.m3u8');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect((r.body as Err).error.code).toMatch(/^MEDIA_(UNSUPPORTED|UNDECODABLE)$/);
    expect(await h.server.deps.store.content.count()).toBe(0);
  });

  it('refuses a PNG signature that does not decode (8 bytes, and a truncated file)', async () => {
    const png = join(h.dir, 'a.png');
    await run('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=blue:s=32x32',
      '-frames:v',
      '1',
      '-y',
      png,
    ]);
    const bytes = await readFile(png);
    for (const cut of [8, 60]) {
      const r = await upload(bytes.subarray(0, cut), 'anh.png');
      expect(r.status, `cut at ${cut}`).toBe(422);
      expect((r.body as Err).error.code).toBe('MEDIA_UNDECODABLE');
    }
    expect(await h.server.deps.store.content.count()).toBe(0);
    // the whole file is an image
    const ok = await upload(bytes, 'anh.png');
    expect(ok.status).toBe(201);
    expect((ok.body as ContentRecord).kind).toBe('image');
  });

  it('still accepts real audio (WAV) and transcodes it', async () => {
    const wav = join(h.dir, 'tone.wav');
    await makeSine(wav, 2);
    const r = await upload(new Uint8Array(await readFile(wav)), 'tone.wav');
    expect(r.status).toBe(201);
    expect((r.body as ContentRecord).kind).toBe('audio');
    // an ADTS AAC file (no magic number of its own family) is decoded by an allowed demuxer too
    const aac = join(h.dir, 'tone.aac');
    await run('ffmpeg', ['-v', 'error', '-i', wav, '-c:a', 'aac', '-f', 'adts', '-y', aac]);
    const a = await upload(new Uint8Array(await readFile(aac)), 'tone.aac');
    expect(a.status).toBe(201);
  });
});
