/**
 * Content uploads on a real server with real ffmpeg: recognised by bytes, refused with a clear
 * code and Vietnamese message when bad (path traversal in the name, unknown bytes, undecodable or
 * silent audio, too large, wrong kind, out of scope), and nothing is stored when refused.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, makeSine, run, startHarness, type TestUser } from '../publish/harness.js';

type Err = { error: { code: string; message: string } };
const MAX = 256 * 1024;

describe('content uploads', () => {
  let h: Harness;
  let editor: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    h = await startHarness({ maxUploadBytes: MAX });
    editor = await h.user('bientap.noidung', 'editor', ['08/02500']);
    viewer = await h.user('xem.noidung', 'viewer', ['08/02600']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const upload = <T = ContentRecord | Err>(
    bytes: Uint8Array | ReadableStream<Uint8Array>,
    meta: Record<string, string>,
    u = editor,
  ) =>
    h.api<T>(
      u,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title: 'Tệp', ...meta })}`,
      bytes,
      {
        'content-type': 'application/octet-stream',
      },
    );

  /** Nothing stored: no content record, no blob, no staging file. */
  async function nothingStored(): Promise<void> {
    expect(await h.server.deps.store.content.count()).toBe(0);
    expect((await readdir(h.svc.blobs.dir)).filter((n) => n !== '.tmp')).toEqual([]);
    expect(await readdir(join(h.svc.blobs.dir, '.tmp'))).toEqual([]);
  }

  it('refuses path traversal and other unsafe names with 400 NAME_INVALID', async () => {
    const wav = join(h.dir, 'ok.wav');
    await makeSine(wav, 1);
    const bytes = await readFile(wav);
    for (const name of ['../../etc/passwd', '..\\..\\boot.ini', 'a/b.wav', 'x\u0000.wav', '..']) {
      const r = await upload<Err>(bytes, { name });
      expect(r.status, name).toBe(400);
      expect(r.body.error.code).toBe('NAME_INVALID');
      expect(r.body.error.message).toMatch(/Tên tệp không hợp lệ/);
    }
    await nothingStored();
  });

  it('refuses bytes that are not media (415), whatever the name says', async () => {
    const html = new TextEncoder().encode('<html><script>alert(1)</script></html>');
    const r = await upload<Err>(html, { name: 'ban-tin.mp3' });
    expect(r.status, JSON.stringify(r.body)).toBe(415);
    expect(r.body.error.code).toBe('MEDIA_UNSUPPORTED');
    await nothingStored();
  });

  it('refuses audio ffmpeg cannot decode (422) and silent audio (422)', async () => {
    const fake = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), randomBytes(4000)]);
    const r = await upload<Err>(fake, { name: 'hong.wav' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('MEDIA_UNDECODABLE');
    const silent = join(h.dir, 'silent.wav');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=44100:cl=mono',
      '-t',
      '2',
      silent,
    ]);
    const s = await upload<Err>(await readFile(silent), { name: 'im-lang.wav' });
    expect(s.status).toBe(422);
    expect(s.body.error.code).toBe('AUDIO_SILENT');
    await nothingStored();
  });

  it('refuses an upload over the size limit while streaming (413), without keeping a partial file', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= MAX * 4) return ctl.close();
        sent += 64 * 1024;
        ctl.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const r = await upload<Err>(stream, { name: 'lon.wav' });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('UPLOAD_TOO_LARGE');
    expect(sent).toBeLessThan(MAX * 4);
    await nothingStored();
    // over a real socket, a declared Content-Length over the limit is refused before reading
    const res = await fetch(`${h.server.url}/api/v1/content/upload?unit=08/02500&title=x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor.token}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(MAX + 1),
    });
    expect(res.status).toBe(413);
    await nothingStored();
  });

  it('refuses out-of-scope units and roles without content.write', async () => {
    const wav = join(h.dir, 'scope.wav');
    await makeSine(wav, 1);
    const bytes = await readFile(wav);
    const out = await upload<Err>(bytes, { unit: '08/02600' });
    expect(out.status).toBe(403);
    expect(out.body.error.code).toBe('FORBIDDEN_SCOPE');
    expect((await upload<Err>(bytes, { unit: '08/02600' }, viewer)).status).toBe(403);
    await nothingStored();
  });

  it('recognises a PNG by its bytes, keeps it as uploaded, and refuses it when audio was expected', async () => {
    const png = join(h.dir, 'anh.png');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x180:rate=1',
      '-frames:v',
      '1',
      png,
    ]);
    const bytes = await readFile(png);
    const wrong = await upload<Err>(bytes, { name: 'anh.mp3', kind: 'audio' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('CONTENT_KIND_MISMATCH');
    const r = await upload<ContentRecord>(bytes, {
      name: 'anh.mp3',
      title: 'Ảnh <img src=x onerror=alert(1)>',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: 'image',
      mediaType: 'image/png',
      size: bytes.length,
      originalName: 'anh.mp3',
    });
    // HTML in a title is data: returned as JSON exactly as typed, never interpreted
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body.title).toBe('Ảnh <img src=x onerror=alert(1)>');
  });

  it('keeps an MP4 video and records its duration and size', async () => {
    const mp4 = join(h.dir, 'video.mp4');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=10',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      mp4,
    ]);
    const r = await upload<ContentRecord>(await readFile(mp4), { name: 'video.mp4', title: 'Phóng sự' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'video', mediaType: 'video/mp4' });
    expect(r.body.durationMs).toBeGreaterThan(900);
  });

  it('stores a text bulletin and lists content by scope', async () => {
    const t = await h.api<ContentRecord>(editor, 'POST', '/api/v1/content/text', {
      title: 'Thông báo tiêm chủng',
      unit: '08/02500',
      text: 'Trạm y tế xã tổ chức tiêm chủng vào sáng thứ Bảy.',
    });
    expect(t.status).toBe(201);
    expect(t.body.kind).toBe('text');
    const bad = await h.api<Err>(editor, 'POST', '/api/v1/content/text', {
      title: '',
      unit: '08/02500',
      text: 'x',
    });
    expect(bad.status).toBe(400);
    const mine = await h.api<ContentRecord[]>(editor, 'GET', '/api/v1/content');
    expect(mine.body.map((c) => c.kind).sort()).toEqual(['image', 'text', 'video']);
    expect((await h.api<ContentRecord[]>(viewer, 'GET', '/api/v1/content')).body).toEqual([]);
    expect((await h.api(viewer, 'GET', `/api/v1/content/${t.body.id}`)).status).toBe(403);
  });
});
