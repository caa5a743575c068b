/**
 * Recordings made in the browser arrive through the ordinary upload path marked
 * `source=recording` (Opus in WebM, as MediaRecorder makes them; here encoded by real ffmpeg) and
 * are held to the recording limits, measured server-side with ffmpeg: too short, too long and
 * silent recordings are refused with stable codes and nothing is stored; a good one is stored
 * transcoded and normalised, with its measured levels. An emergency's recording goes up through
 * the emergency API (for those who send emergencies, who may not write content), in the speech
 * profile, so that a short alert is small enough to ride inside the emergency message.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EMERGENCY_INLINE_MAX_BYTES } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';
import { measureAudio } from './audio-measure.js';

const run = promisify(execFile);
type Err = { error: { code: string; message: string } };

/** `seconds` of `source` (an ffmpeg lavfi graph) as Opus in WebM, like a browser recording. */
async function webm(path: string, source: string, seconds: number): Promise<Buffer> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    source,
    '-t',
    String(seconds),
    '-ac',
    '1',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
    '-f',
    'webm',
    path,
  ]);
  return readFile(path);
}

describe('recordings from the browser', () => {
  let h: Harness;
  let editor: TestUser;

  beforeAll(async () => {
    h = await startHarness({ recording: { maxMs: 8000 } });
    editor = await h.user('bientap.ghiam', 'editor', ['08/02500']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const upload = <T = ContentRecord | Err>(bytes: Uint8Array, meta: Record<string, string> = {}) =>
    h.api<T>(
      editor,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({
        unit: '08/02500',
        title: 'Thông báo sáng',
        name: 'ghi-am.webm',
        kind: 'audio',
        source: 'recording',
        ...meta,
      })}`,
      bytes,
      { 'content-type': 'audio/webm' },
    );

  async function nothingStored(): Promise<void> {
    expect(await h.server.deps.store.content.count()).toBe(0);
    expect((await readdir(h.svc.blobs.dir)).filter((n) => n !== '.tmp')).toEqual([]);
    expect(await readdir(join(h.svc.blobs.dir, '.tmp'))).toEqual([]);
  }

  it('refuses a recording that is too short, too long or silent, storing nothing', async () => {
    const tone = (f: number) => `sine=frequency=${f}:sample_rate=48000`;
    const cases: [string, number, string, RegExp][] = [
      [tone(1000), 0.8, 'RECORDING_TOO_SHORT', /quá ngắn/],
      [tone(1000), 11, 'RECORDING_TOO_LONG', /dài quá/],
      ['anullsrc=r=48000:cl=mono', 3, 'RECORDING_SILENT', /im lặng.*micrô/],
      // a microphone left muted still hisses a little: far below speech, refused too
      ['anoisesrc=r=48000:a=0.002:c=white', 3, 'RECORDING_SILENT', /im lặng/],
      // four seconds of which half a second is a voice: the button pressed by mistake
      [
        'sine=frequency=440:sample_rate=48000:duration=0.5,adelay=2000,apad=pad_dur=1.5',
        4,
        'RECORDING_TOO_SHORT',
        /tiếng nói/,
      ],
    ];
    for (const [source, seconds, code, message] of cases) {
      const bytes = await webm(join(h.dir, `${code}.webm`), source, seconds);
      const r = await upload<Err>(bytes);
      expect([r.status, r.body.error.code], code).toEqual([422, code]);
      expect(r.body.error.message).toMatch(message);
    }
    await nothingStored();
  }, 120_000);

  it('stores a good recording transcoded to the station format, normalised, with its measured levels', async () => {
    // speech-like: a 300 Hz tone whose loudness swells and fades three times a second
    const bytes = await webm(
      join(h.dir, 'good.webm'),
      'sine=frequency=300:sample_rate=48000,volume=2*(0.6+0.4*sin(2*PI*3*t)):eval=frame',
      4,
    );
    const r = await upload<ContentRecord>(bytes);
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    expect(r.body).toMatchObject({ kind: 'audio', mediaType: 'audio/ogg', originalName: 'ghi-am.webm' });
    const rec = r.body.meta?.recording as { durationMs: number; maxDb: number; meanDb: number };
    expect(Math.abs(rec.durationMs - 4000)).toBeLessThan(100);
    // the levels the server recorded are those ffmpeg measures on the file the browser sent
    const sent = await measureAudio(join(h.dir, 'good.webm'));
    expect(Math.abs(rec.maxDb - sent.maxDb)).toBeLessThan(0.5);
    expect(Math.abs(rec.meanDb - sent.meanDb)).toBeLessThan(0.5);
    expect(rec.maxDb).toBeGreaterThan(-15);
    expect(rec.meanDb).toBeLessThan(rec.maxDb);
    const m = await measureAudio(h.svc.blobs.path(r.body.sha256 as string));
    expect(Math.abs(m.durationMs - 4000)).toBeLessThan(150);
    expect(Math.abs(m.lufs - -16)).toBeLessThan(1.5);
    expect(Math.abs(m.lufs - (r.body.loudnessLufs ?? 0))).toBeLessThan(0.5);
    // an image is not a recording
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=32x32',
      '-frames:v',
      '1',
      join(h.dir, 'red.png'),
    ]);
    const img = await upload<Err>(await readFile(join(h.dir, 'red.png')), { kind: 'image', name: 'red.png' });
    expect([img.status, img.body.error.code]).toEqual([422, 'CONTENT_KIND_MISMATCH']);
    expect(await h.server.deps.store.content.count()).toBe(1);
  }, 120_000);

  it('cuts the silent head and tail of a recording (the wait after pressing the button), not its pauses', async () => {
    // 2 s of silence, 1.5 s of tone, a 1 s pause, 1.5 s of tone, then 2.5 s of silence
    const tone = 'sine=frequency=440:sample_rate=48000:duration=1.5';
    const src = `${tone}[a];${tone}[b];[a]apad=pad_dur=1[a1];[a1][b]concat=n=2:v=0:a=1,adelay=2000,apad=pad_dur=2.5`;
    const bytes = await webm(join(h.dir, 'padded.webm'), src, 8.5);
    const r = await upload<ContentRecord>(bytes, { title: 'Có khoảng lặng' });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    const rec = r.body.meta?.recording as { durationMs: number; kept: { startMs: number; endMs: number } };
    expect(Math.abs(rec.durationMs - 8500)).toBeLessThan(100);
    // kept: from 0.25 s before the speech to 0.25 s after it
    expect(Math.abs(rec.kept.startMs - 1750)).toBeLessThan(100);
    expect(Math.abs(rec.kept.endMs - 6250)).toBeLessThan(100);
    const m = await measureAudio(h.svc.blobs.path(r.body.sha256 as string));
    expect(Math.abs(m.durationMs - 4500)).toBeLessThan(150);
    // the pause in the middle stays: a quiet second inside the stored audio
    const quiet = await run('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-i',
      h.svc.blobs.path(r.body.sha256 as string),
      '-af',
      'silencedetect=noise=-50dB:d=0.5',
      '-f',
      'null',
      '-',
    ]);
    const starts = [...quiet.stderr.matchAll(/silence_start: ([\d.]+)/g)].map((x) => Number(x[1]));
    expect(starts.some((t) => t > 1.5 && t < 2)).toBe(true);
  }, 120_000);

  it("stores an emergency's recording for the operator on duty, speech-grade and small enough to send inline", async () => {
    const operator = await h.user('tructban.ghiam', 'operator', ['08/02500']);
    const speechLike = 'sine=frequency=300:sample_rate=48000,volume=2*(0.6+0.4*sin(2*PI*3*t)):eval=frame';
    const bytes = await webm(join(h.dir, 'alert.webm'), `${speechLike},adelay=1500,apad=pad_dur=1`, 7.5);
    const q = new URLSearchParams({
      unit: '08/02500',
      title: 'Cảnh báo lũ',
      name: 'ghi-am.webm',
      source: 'recording',
      profile: 'speech',
    });
    const path = `/api/v1/emergency/audio?${q}`;
    // an editor writes content but does not send emergencies; the operator may not write content
    const editorTry = await h.api<Err>(editor, 'POST', path, bytes, { 'content-type': 'audio/webm' });
    expect(editorTry.status).toBe(403);
    const opContent = await h.api<Err>(operator, 'POST', `/api/v1/content/upload?${q}`, bytes, {
      'content-type': 'audio/webm',
    });
    expect(opContent.status).toBe(403);
    const r = await h.api<ContentRecord>(operator, 'POST', path, bytes, { 'content-type': 'audio/webm' });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    expect(r.body).toMatchObject({
      kind: 'audio',
      category: 'emergency',
      mediaType: 'audio/ogg',
      unit: '08/02500',
    });
    expect(r.body.meta?.transcode).toMatchObject({ bitrate: '16k' });
    // trimmed: about 6 s kept of 7.5, and at 16 kbit/s well inside the inline cap
    const m = await measureAudio(h.svc.blobs.path(r.body.sha256 as string));
    expect(m.durationMs).toBeGreaterThan(5500);
    expect(m.durationMs).toBeLessThan(7000);
    expect(Math.abs(m.lufs - -16)).toBeLessThan(1.5);
    expect(r.body.size).toBeLessThan(EMERGENCY_INLINE_MAX_BYTES);
    // held to the recording limits like any recording
    const silent = await webm(join(h.dir, 'alert-silent.webm'), 'anullsrc=r=48000:cl=mono', 3);
    const refused = await h.api<Err>(operator, 'POST', path, silent, { 'content-type': 'audio/webm' });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'RECORDING_SILENT']);
  }, 120_000);
});
