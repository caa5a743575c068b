/**
 * One contract suite for the audio driver, run against the real ffmpeg driver (into a WAV sink)
 * and the simulated driver.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { SimAudioDriver } from '../../agent/src/drivers/audio/sim.js';
import type { AudioDriver, Playback } from '../../agent/src/drivers/audio/types.js';
import { makeTone } from '../agent/audio/wav-tools.js';

interface Harness {
  driver: AudioDriver;
  /** Kill the playback's process (real) / fail it (sim). */
  kill(): void;
  /** Makes a stream URL unreachable (real: the test server already answers 503). */
  streamDown(url: string): void;
  close(): Promise<void>;
}

let dir: string;
let tone2s: string;
let fallbackTone: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-audio-contract-'));
  tone2s = join(dir, 'tone-2s.wav');
  fallbackTone = join(dir, 'fallback.wav');
  await makeTone(tone2s, 440, 2);
  await makeTone(fallbackTone, 880, 3);
  // A stream server that is down: every request fails.
  server = createServer((_req, res) => {
    res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const factories: [string, () => Promise<Harness>][] = [
  [
    'ffmpeg (real)',
    async () => {
      const d = new FfmpegAudioDriver({
        output: { type: 'wav', path: join(dir, `out-${Math.random().toString(36).slice(2)}.wav`) },
        logger: pino({ level: 'silent' }),
        deadAirMs: 1000,
      });
      await d.open();
      return {
        driver: d,
        kill: () => {
          const pid = d.currentPid();
          if (pid) process.kill(pid, 'SIGKILL');
        },
        streamDown: () => {},
        close: () => d.close(),
      };
    },
  ],
  [
    'sim',
    async () => {
      const d = new SimAudioDriver({ deadAirMs: 1000, defaultFileMs: 2000 });
      await d.open();
      return {
        driver: d,
        kill: () => d.failCurrent(),
        streamDown: (url) => d.setStreamDown(url, true),
        close: () => d.close(),
      };
    },
  ],
];

describe.each(factories)('audio driver contract: %s', (_name, make) => {
  let h: Harness;
  beforeAll(async () => {
    h = await make();
  });
  afterAll(async () => {
    await h.close();
  });
  let pending: Playback[] = [];
  afterEach(async () => {
    for (const p of pending) p.stop();
    await Promise.all(pending.map((p) => p.result));
    pending = [];
  });
  const play = (...args: Parameters<AudioDriver['play']>) => {
    const p = h.driver.play(...args);
    pending.push(p);
    return p;
  };

  test('a tone plays for its duration and reports loudness and peak', async () => {
    const r = await play({ source: { kind: 'tone', frequencyHz: 1000, durationMs: 700 } }).result;
    expect(r.outcome).toBe('completed');
    expect(r.positionMs).toBeGreaterThanOrEqual(500);
    expect(r.positionMs).toBeLessThanOrEqual(800);
    expect(r.loudnessLufs).toBeTypeOf('number');
    expect(r.peakDbfs).toBeTypeOf('number');
    expect(r.peakDbfs!).toBeLessThanOrEqual(0);
    expect(r.deadAir).toBe(false);
    expect(r.error).toBeUndefined();
  });

  test('a file resumes from its offset to the end', async () => {
    const r = await play({ source: { kind: 'file', path: tone2s, offsetMs: 1200, durationMs: 2000 } }).result;
    expect(r.outcome).toBe('completed');
    expect(r.playedMs).toBeGreaterThanOrEqual(600);
    expect(r.playedMs).toBeLessThanOrEqual(1000);
    expect(r.positionMs).toBeGreaterThanOrEqual(1800);
  });

  test('stop() ends a playback with outcome stopped and the position reached', async () => {
    const p = play({ source: { kind: 'file', path: tone2s, durationMs: 2000 } });
    await p.started;
    await new Promise((r) => setTimeout(r, 400));
    p.stop();
    p.stop();
    const r = await p.result;
    expect(r.outcome).toBe('stopped');
    expect(r.positionMs).toBeLessThan(1800);
  });

  test('a missing file fails with AUDIO_FILE_MISSING', async () => {
    const r = await play({ source: { kind: 'file', path: join(dir, 'nope.mp3') } }).result;
    expect(r.outcome).toBe('failed');
    expect(r.error?.code).toBe('AUDIO_FILE_MISSING');
  });

  test('a bad request fails with AUDIO_BAD_REQUEST, never throws', async () => {
    const r = await play({ source: { kind: 'tone', frequencyHz: 440, durationMs: 500 }, volume: 150 }).result;
    expect(r).toMatchObject({ outcome: 'failed', error: { code: 'AUDIO_BAD_REQUEST' } });
  });

  test('the player process dying mid-item gives a failed result, and the next item plays', async () => {
    const p = play({ source: { kind: 'file', path: tone2s, durationMs: 2000 } });
    await p.started;
    await new Promise((r) => setTimeout(r, 300));
    h.kill();
    const r = await p.result;
    expect(r.outcome).toBe('failed');
    expect(r.error?.code).toBe('AUDIO_PROCESS_DIED');
    const next = await play({ source: { kind: 'tone', frequencyHz: 440, durationMs: 400 } }).result;
    expect(next.outcome).toBe('completed');
  });

  test('play() while playing stops the previous playback first', async () => {
    const a = play({ source: { kind: 'file', path: tone2s, durationMs: 2000 } });
    await a.started;
    const b = play({ source: { kind: 'tone', frequencyHz: 660, durationMs: 400 } });
    expect((await a.result).outcome).toBe('stopped');
    expect((await b.result).outcome).toBe('completed');
  });

  test('a queued playback follows the one on air without stopping it', async () => {
    const a = play({ source: { kind: 'tone', frequencyHz: 440, durationMs: 800 } });
    await a.started;
    const b = play({ source: { kind: 'file', path: tone2s, durationMs: 2000, offsetMs: 1500 }, queue: true });
    let aDone = false;
    void a.result.then(() => {
      aDone = true;
    });
    await b.started;
    expect(aDone).toBe(true);
    const [ra, rb] = [await a.result, await b.result];
    expect(ra.outcome, JSON.stringify(ra.error)).toBe('completed');
    expect(rb.outcome, JSON.stringify(rb.error)).toBe('completed');
  });

  test('a stream that is down falls back to the cached file after failoverMs', async () => {
    h.streamDown(`${base}/live`);
    const r = await play({
      source: {
        kind: 'stream',
        url: `${base}/live`,
        durationMs: 6000,
        relay: { failoverMs: 600, reconnectDelayMs: 200, fallback: { kind: 'file', path: fallbackTone } },
      },
    }).result;
    expect(r.outcome).toBe('completed');
    expect(r.relay?.fallbackUsed).toBe(true);
    // Every connection attempt failed, and at least one was made.
    expect(r.relay?.connects).toBeGreaterThanOrEqual(1);
    expect(r.relay?.failures).toBe(r.relay?.connects);
    expect(r.relay?.streamMs).toBe(0);
    // The fallback fills the rest of the 6 s slot (about 5 s on an idle machine; every failed
    // connection attempt spawns a decoder, which takes seconds on a starved run), not one reconnect gap.
    expect(r.relay?.fallbackMs).toBeGreaterThan(1000);
  });

  test('a stream that is down with no fallback fails with AUDIO_STREAM_FAILED', async () => {
    h.streamDown(`${base}/live`);
    const r = await play({
      source: {
        kind: 'stream',
        url: `${base}/live`,
        durationMs: 3000,
        relay: { failoverMs: 500, reconnectDelayMs: 150 },
      },
    }).result;
    expect(r.outcome).toBe('failed');
    expect(r.error?.code).toBe('AUDIO_STREAM_FAILED');
  });
});
