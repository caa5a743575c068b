/**
 * The decoder the real driver keeps waiting for an emergency (`prepare(true)`): real ffmpeg
 * decoding real audio (an Ogg/Opus clip, as an emergency carries inline; a plain tone, as a
 * station's chime) into a WAV sink read back here. An urgent playback takes the waiting process
 * at its own level from the first frame; other playbacks never take it; one that is taken or
 * killed is replaced.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../../agent/src/drivers/audio/ffmpeg.js';
import { frequencyAt, makeTone, readWav, soundRuns, type Wav } from './wav-tools.js';

let dir: string;
const drivers: FfmpegAudioDriver[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-warm-'));
});
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function driver(name: string) {
  const path = join(dir, `${name}.wav`);
  const d = new FfmpegAudioDriver({ output: { type: 'wav', path }, logger: pino({ level: 'silent' }) });
  await d.open();
  drivers.push(d);
  return { d, path };
}

async function closeAndRead(d: FfmpegAudioDriver, path: string): Promise<Wav> {
  drivers.splice(drivers.indexOf(d), 1);
  await d.close();
  return readWav(path);
}

/** The waiting process's pid once it is up. */
async function waiting(d: FfmpegAudioDriver): Promise<number> {
  await expect.poll(() => d.spareInfo().pid, { timeout: 30_000 }).toBeDefined();
  return d.spareInfo().pid as number;
}

/** RMS (dBFS) of the WAV between two positions. */
function rmsDb(wav: Wav, startMs: number, endMs: number): number {
  const a = Math.floor((startMs * wav.rate) / 1000);
  const b = Math.min(wav.samples.length, Math.floor((endMs * wav.rate) / 1000));
  let s = 0;
  for (let i = a; i < b; i++) s += (wav.samples[i] ?? 0) ** 2;
  return 10 * Math.log10(s / Math.max(1, b - a) + 1e-12);
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

describe('the waiting decoder (real ffmpeg, WAV sink)', () => {
  test('an urgent clip plays through it at its own level from the first frame; a new one waits after it', {
    timeout: 120_000,
  }, async () => {
    const clip = join(dir, 'canh-bao.opus');
    await makeTone(clip, 440, 1.5);
    const { d, path } = await driver('clip');
    d.prepare(true);
    const warm = await waiting(d);
    // the emergency's level: volume 50 and its item's gain −4 dB (the waiting process knew neither)
    const urgent = d.play({ source: { kind: 'file', path: clip }, volume: 50, gainDb: -4, urgent: true });
    await urgent.started;
    expect(d.currentPid()).toBe(warm);
    expect((await urgent.result).outcome).toBe('completed');
    expect(d.spareInfo().claims).toBe(1);
    // the same clip at the same level through a process of its own, then at unity gain
    expect(
      (await d.play({ source: { kind: 'file', path: clip }, volume: 50, gainDb: -4 }).result).outcome,
    ).toBe('completed');
    expect((await d.play({ source: { kind: 'file', path: clip }, volume: 100 }).result).outcome).toBe(
      'completed',
    );
    // neither took the waiting process: a new one was started after the emergency's audio came out
    expect(d.spareInfo().claims).toBe(1);
    const next = await waiting(d);
    expect(next).not.toBe(warm);
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav, -45);
    expect(runs).toHaveLength(3);
    const [a, b, c] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    for (const r of runs) {
      expect(r.endMs - r.startMs).toBeGreaterThan(1300);
      expect(frequencyAt(wav, r.startMs + 100, r.endMs - 100)).toBeCloseTo(440, -1);
    }
    const mid = (r: (typeof runs)[0]) => rmsDb(wav, r.startMs + 300, r.endMs - 300);
    // the level it asked for: as through a process of its own, 10 dB under unity (−6 −4)
    expect(Math.abs(mid(a) - mid(b))).toBeLessThan(0.5);
    expect(mid(c) - mid(a)).toBeCloseTo(10, 0);
    // from its first frames (its gain was set before the first one, not by a command after it):
    // nothing of its start is missing or at another level
    expect(Math.abs(a.endMs - a.startMs - (b.endMs - b.startMs))).toBeLessThan(40);
    expect(Math.abs(rmsDb(wav, a.startMs + 20, a.startMs + 80) - mid(a))).toBeLessThan(1.5);
  });

  test('a plain tone (a chime) plays through it as the generated tone would', {
    timeout: 120_000,
  }, async () => {
    const { d, path } = await driver('chime');
    d.prepare(true);
    const warm = await waiting(d);
    const chime = d.play({
      source: { kind: 'tone', frequencyHz: 880, durationMs: 1000 },
      volume: 80,
      urgent: true,
    });
    await chime.started;
    expect(d.currentPid()).toBe(warm);
    expect((await chime.result).outcome).toBe('completed');
    const own = await d.play({ source: { kind: 'tone', frequencyHz: 880, durationMs: 1000 }, volume: 80 })
      .result;
    expect(own.outcome).toBe('completed');
    expect(d.spareInfo().claims).toBe(1);
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav, -45);
    expect(runs).toHaveLength(2);
    const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
    for (const r of runs) {
      expect(Math.abs(r.endMs - r.startMs - 1000)).toBeLessThan(60);
      expect(frequencyAt(wav, r.startMs + 100, r.endMs - 100)).toBeCloseTo(880, -1);
    }
    expect(
      Math.abs(rmsDb(wav, a.startMs + 100, a.endMs - 100) - rmsDb(wav, b.startMs + 100, b.endMs - 100)),
    ).toBeLessThan(0.5);
  });

  test('one that dies is replaced, and the replacement plays the emergency', {
    timeout: 120_000,
  }, async () => {
    const clip = join(dir, 'lu-quet.opus');
    await makeTone(clip, 660, 1);
    const { d, path } = await driver('dead');
    d.prepare(true);
    const first = await waiting(d);
    process.kill(first, 'SIGKILL');
    await expect
      .poll(() => d.spareInfo().pid !== undefined && d.spareInfo().pid !== first, {
        timeout: 30_000,
      })
      .toBe(true);
    const second = d.spareInfo().pid as number;
    expect(alive(first)).toBe(false);
    const pb = d.play({ source: { kind: 'file', path: clip }, volume: 100, urgent: true });
    await pb.started;
    expect(d.currentPid()).toBe(second);
    expect((await pb.result).outcome).toBe('completed');
    const wav = await closeAndRead(d, path);
    const runs = soundRuns(wav, -45);
    expect(runs).toHaveLength(1);
    const r = runs[0] as (typeof runs)[0];
    expect(frequencyAt(wav, r.startMs + 100, r.endMs - 100)).toBeCloseTo(660, -1);
  });

  test('other playbacks never take it; prepare(false) lets it go', { timeout: 120_000 }, async () => {
    const clip = join(dir, 'ban-tin.opus');
    await makeTone(clip, 500, 1);
    const { d } = await driver('normal');
    d.prepare(true);
    const warm = await waiting(d);
    const pb = d.play({ source: { kind: 'file', path: clip }, volume: 80 });
    await pb.started;
    expect(d.currentPid()).not.toBe(warm);
    expect((await pb.result).outcome).toBe('completed');
    expect(d.spareInfo()).toEqual({ pid: warm, claims: 0 });
    d.prepare(false);
    expect(d.spareInfo().pid).toBeUndefined();
    await expect.poll(() => alive(warm), { timeout: 30_000 }).toBe(false);
  });
});
