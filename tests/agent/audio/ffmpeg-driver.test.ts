/**
 * The real driver: real ffmpeg decoding real audio (ffmpeg sine, espeak-ng Vietnamese) into a
 * WAV sink that the test reads back, plus a local HTTP stream that stops mid-way or goes silent.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver, type FfmpegAudioOptions } from '../../../agent/src/drivers/audio/ffmpeg.js';
import { frequencyAt, makeSpeech, makeTone, probeDurationMs, readWav, soundRuns } from './wav-tools.js';

let dir: string;
const servers: Server[] = [];
const drivers: FfmpegAudioDriver[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-ffmpeg-'));
});
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function driver(name: string, extra: Partial<FfmpegAudioOptions> = {}) {
  const path = join(dir, `${name}.wav`);
  const d = new FfmpegAudioDriver({
    output: { type: 'wav', path },
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  await d.open();
  drivers.push(d);
  return { d, path, t0: performance.now() };
}

async function closeAndRead(d: FfmpegAudioDriver, path: string) {
  drivers.splice(drivers.indexOf(d), 1);
  await d.close();
  return readWav(path);
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('ffmpeg audio driver (real ffmpeg, WAV sink)', () => {
  test('sounds land in the WAV where they came out, at the right frequency', async () => {
    const a = join(dir, 'a440.wav');
    const b = join(dir, 'b880.mp3');
    await makeTone(a, 440, 0.8);
    await makeTone(b, 880, 0.6);
    const { d, path } = await driver('placement');
    const p1 = d.play({ source: { kind: 'file', path: a } });
    await p1.started;
    const s1 = performance.now();
    const r1done = await p1.result;
    // The error, if any, in the failure message.
    expect(r1done.outcome, JSON.stringify(r1done.error)).toBe('completed');
    await new Promise((r) => setTimeout(r, 700));
    const p2 = d.play({ source: { kind: 'file', path: b }, gainDb: -6 });
    await p2.started;
    const s2 = performance.now();
    const r2 = await p2.result;
    expect(r2.outcome, JSON.stringify(r2.error)).toBe('completed');
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav);
    expect(runs).toHaveLength(2);
    const [x, y] = runs as [{ startMs: number; endMs: number }, { startMs: number; endMs: number }];
    expect(x.endMs - x.startMs).toBeGreaterThan(700);
    expect(x.endMs - x.startMs).toBeLessThan(900);
    // The gap between the two sounds in the file matches the gap between their starts in time (1.5 s:
    // an unpaced sink would put them back to back, 0.8 s apart). `started` resolves when the first
    // audio is out, so the two instants are the test's view of it: allow a starved run's lag.
    expect(Math.abs(y.startMs - x.startMs - (s2 - s1))).toBeLessThan(300);
    expect(frequencyAt(wav, x.startMs + 100, x.endMs - 100)).toBeCloseTo(440, -1);
    expect(frequencyAt(wav, y.startMs + 100, y.endMs - 100)).toBeCloseTo(880, -1);
    // -6 dB of gain on the second sound shows in the measured peak.
    const r1 = await p1.result;
    expect(r1.peakDbfs! - r2.peakDbfs!).toBeGreaterThan(4);
    expect(r1.peakDbfs! - r2.peakDbfs!).toBeLessThan(8);
  });

  test('Vietnamese speech from espeak-ng plays completely with its loudness measured', async () => {
    const mp3 = join(dir, 'ban-tin.mp3');
    await makeSpeech(mp3, 'Thông báo của Ủy ban nhân dân xã: ngày mai cắt điện từ bảy giờ đến mười một giờ.');
    const len = await probeDurationMs(mp3);
    const { d, path } = await driver('speech');
    const r = await d.play({ source: { kind: 'file', path: mp3 }, volume: 80 }).result;
    expect(r.outcome).toBe('completed');
    expect(Math.abs(r.positionMs - len)).toBeLessThan(250);
    expect(r.loudnessLufs).toBeGreaterThan(-40);
    expect(r.loudnessLufs).toBeLessThan(-5);
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav, -45, 10, 400);
    const total = runs.reduce((s, x) => s + x.endMs - x.startMs, 0);
    expect(total).toBeGreaterThan(len * 0.6);
  });

  test('dead air inside an item is detected', async () => {
    const f = join(dir, 'gap.wav');
    await makeTone(f, 500, 0.3);
    const g = join(dir, 'gap-full.wav');
    const { execFile } = await import('node:child_process');
    await new Promise<void>((res, rej) =>
      execFile(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-y', '-i', f, '-af', 'apad=pad_dur=1.6', g],
        (e) => (e ? rej(e) : res()),
      ),
    );
    const { d } = await driver('deadair', { deadAirMs: 1000 });
    const r = await d.play({ source: { kind: 'file', path: g } }).result;
    expect(r.outcome).toBe('completed');
    expect(r.deadAir).toBe(true);
    const ok = await d.play({ source: { kind: 'tone', frequencyHz: 440, durationMs: 1200 } }).result;
    expect(ok.deadAir).toBe(false);
  });

  test('line-in / FM input is routed from its capture device; a missing one fails clearly', async () => {
    const { d, path } = await driver('input', {
      inputs: { fm: { format: 'lavfi', device: 'sine=frequency=300:sample_rate=48000' } },
    });
    const r = await d.play({ source: { kind: 'input', input: 'fm', durationMs: 800 } }).result;
    expect(r.outcome).toBe('completed');
    const line = await d.play({ source: { kind: 'input', input: 'line', durationMs: 800 } }).result;
    expect(line).toMatchObject({ outcome: 'failed', error: { code: 'AUDIO_INPUT_UNAVAILABLE' } });
    const wav = await closeAndRead(d, path);
    const [run] = soundRuns(wav);
    expect(frequencyAt(wav, run!.startMs + 100, run!.endMs - 100)).toBeCloseTo(300, -1);
  });

  test('an HTTP stream that stops mid-way: reconnect, then fallback to the cached item', async () => {
    const streamFile = join(dir, 'stream-440.wav');
    await makeTone(streamFile, 440, 5);
    const bytes = await readFile(streamFile);
    const fallback = join(dir, 'fallback-880.wav');
    await makeTone(fallback, 880, 10);
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      if (requests > 2) {
        res.writeHead(503).end();
        return;
      }
      // 44-byte header + 1.2 s of 44.1 kHz mono s16, then the connection ends.
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(bytes.subarray(0, 44 + Math.round(1.2 * 44_100) * 2));
    });
    const { d, path } = await driver('relay');
    const p = d.play({
      source: {
        kind: 'stream',
        url: `${url}/vov1`,
        // The slot is wall time: every reconnect spawns a decoder, which takes seconds on a starved
        // run (at a load of 30 on 2 cores, 12 s were all spent before the fallback came out), so
        // the slot leaves room for two stream parts, the failover and the fallback.
        durationMs: 20_000,
        relay: { failoverMs: 1500, reconnectDelayMs: 300, fallback: { kind: 'file', path: fallback } },
      },
    });
    const states = new Set<string>();
    const iv = setInterval(() => states.add(p.state()), 50);
    const r = await p.result;
    clearInterval(iv);
    expect(r.outcome).toBe('completed');
    expect(r.relay!.connects).toBeGreaterThanOrEqual(3);
    expect(r.relay!.fallbackUsed).toBe(true);
    expect(r.relay!.streamMs).toBeGreaterThan(2000);
    expect(r.relay!.fallbackMs).toBeGreaterThan(1000);
    expect(states.has('fallback')).toBe(true);
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav, -40, 10, 60);
    const first = runs[0]!;
    const last = runs.at(-1)!;
    expect(frequencyAt(wav, first.startMs + 100, first.startMs + 900)).toBeCloseTo(440, -1);
    expect(frequencyAt(wav, last.endMs - 600, last.endMs - 100)).toBeCloseTo(880, -1);
  });

  test('a stream that goes silent counts as failed after silenceMs and the FM fallback takes over', async () => {
    const silent = join(dir, 'silent.wav');
    const { execFile } = await import('node:child_process');
    await new Promise<void>((res, rej) =>
      execFile(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-y',
          '-f',
          'lavfi',
          '-i',
          'anullsrc=r=44100:cl=mono',
          '-t',
          '20',
          silent,
        ],
        (e) => (e ? rej(e) : res()),
      ),
    );
    const bytes = await readFile(silent);
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(bytes);
    });
    const { d } = await driver('silent-relay', {
      inputs: { fm: { format: 'lavfi', device: 'sine=frequency=300:sample_rate=48000' } },
      deadAirMs: 800,
    });
    const r = await d.play({
      source: {
        kind: 'stream',
        url: `${url}/studio`,
        // Wall time, with room for the decoder spawns of a starved run before the fallback (6 s
        // left the fallback exactly 1 s at a load of 30 on 2 cores).
        durationMs: 9000,
        relay: {
          silenceMs: 800,
          failoverMs: 800,
          reconnectDelayMs: 200,
          fallback: { kind: 'input', input: 'fm' },
        },
      },
    }).result;
    expect(r.outcome).toBe('completed');
    expect(r.deadAir).toBe(true);
    expect(r.relay!.fallbackUsed).toBe(true);
    expect(r.relay!.fallbackMs).toBeGreaterThan(1000);
  });

  test('a decoder whose exit is seen after its output closed (a loaded board) completes, not failed', async () => {
    // ffmpeg, then the process lingers 400 ms after its output closed: on a starved board the
    // exit is reaped that late, and fluent-ffmpeg took the closed output for an error
    // ("AUDIO_DECODE_FAILED: Output stream closed") of an item that had played in full.
    const slowExit = join(dir, 'ffmpeg-slow-exit.sh');
    await writeFile(slowExit, '#!/bin/sh\nffmpeg "$@"\nrc=$?\nexec 1>&-\nsleep 0.4\nexit $rc\n', {
      mode: 0o755,
    });
    const f = join(dir, 'tone-slow-exit.wav');
    await makeTone(f, 440, 0.6);
    const { d, path } = await driver('slow-exit', { ffmpegPath: slowExit });
    const r = await d.play({ source: { kind: 'file', path: f } }).result;
    expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
    expect(r.playedMs, JSON.stringify(r)).toBeGreaterThan(500);
    // A decoder that really fails still fails, with its own message.
    const bad = join(dir, 'not-audio.mp3');
    await writeFile(bad, 'this is not audio at all'.repeat(100));
    const failed = await d.play({ source: { kind: 'file', path: bad } }).result;
    expect(failed.outcome).toBe('failed');
    expect(failed.error?.code).toBe('AUDIO_DECODE_FAILED');
    expect(failed.error?.message).not.toMatch(/Output stream closed/);
    const wav = await closeAndRead(d, path);
    const [run] = soundRuns(wav);
    expect(run!.endMs - run!.startMs).toBeGreaterThan(500);
  });

  test('the null output is paced in real time', async () => {
    const d = new FfmpegAudioDriver({ output: { type: 'null' }, logger: pino({ level: 'silent' }) });
    await d.open();
    drivers.push(d);
    const t = performance.now();
    const r = await d.play({ source: { kind: 'tone', frequencyHz: 440, durationMs: 1000 } }).result;
    expect(r.outcome).toBe('completed');
    expect(performance.now() - t).toBeGreaterThanOrEqual(900);
    expect(r.loudnessLufs).toBeTypeOf('number');
  });
});

describe('probeDurationMs', () => {
  test('reads a file length with ffprobe; undefined for a missing file', async () => {
    const f = join(dir, 'len.mp3');
    await makeTone(f, 440, 1.5);
    const { probeDurationMs: probe } = await import('../../../agent/src/drivers/audio/ffmpeg.js');
    const ms = await probe(f);
    expect(ms).toBeGreaterThan(1400);
    expect(ms).toBeLessThan(1600);
    expect(await probe(join(dir, 'missing.mp3'))).toBeUndefined();
  });
});
