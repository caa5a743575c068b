/**
 * The output profiles with real ffmpeg on real audio: a known signal (a multi-tone file, loud
 * noise, a hot 10 kHz tone) plays through the real driver into a WAV sink, and the test measures
 * the PCM itself (a single-bin DFT per frequency, the sample peak): pre-emphasis follows the
 * 50/75 µs curve, the FM low-pass clears the 19 kHz pilot, the wired line cuts below its
 * high-pass, the limiter's ceiling is never crossed, and the test tone routine comes out at the
 * levels, frequencies and channels the technician is told.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { OUTPUT_PROFILE_DEFAULTS } from '../../../agent/src/config-output.js';
import {
  chainGainDb,
  idealPreEmphasisDb,
  type OutputProfile,
  outputChain,
  toneRoutine,
} from '../../../agent/src/domain/output-profile.js';
import { FfmpegAudioDriver } from '../../../agent/src/drivers/audio/ffmpeg.js';
import type { PlayRequest } from '../../../agent/src/drivers/audio/types.js';
import { readWav, soundRuns, type Wav } from './wav-tools.js';

const run = promisify(execFile);
const RATE = 48_000;
/** Frequencies of the multi-tone test signal (whole hertz: exact bins of a 1 s DFT). */
const TONES = [50, 100, 300, 1000, 2000, 5000, 10_000, 14_000, 19_000];
/** Each tone's amplitude in the test file (−40 dBFS): far below every limiter ceiling. */
const TONE_AMPLITUDE = 0.01;

let dir: string;
let multiTone: string;
let noise: string;
let hot10k: string;
const drivers: FfmpegAudioDriver[] = [];

async function ffmpegSource(path: string, source: string): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, path]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-profile-'));
  multiTone = join(dir, 'multitone.wav');
  noise = join(dir, 'noise.wav');
  hot10k = join(dir, 'hot10k.wav');
  const sum = TONES.map((f) => `${TONE_AMPLITUDE}*sin(2*PI*${f}*t)`).join('+');
  await ffmpegSource(multiTone, `aevalsrc=${sum}|${sum}:s=${RATE}:c=stereo:d=1.6`);
  // Full-scale white noise, stereo (every frequency at once, peaks at 0 dBFS).
  await ffmpegSource(noise, `anoisesrc=a=1:c=white:d=1.5:r=${RATE},aformat=channel_layouts=stereo`);
  // A 10 kHz tone at −6 dBFS: the 50 µs pre-emphasis lifts it about 10 dB, past full scale.
  await ffmpegSource(hot10k, `aevalsrc=0.5*sin(2*PI*10000*t)|0.5*sin(2*PI*10000*t):s=${RATE}:c=stereo:d=1.5`);
}, 60_000);
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Plays one request through a real driver with this profile into a fresh WAV; returns both channels. */
async function render(
  name: string,
  profile: OutputProfile | undefined,
  req: PlayRequest,
): Promise<{ left: Wav; right: Wav; result: Awaited<ReturnType<FfmpegAudioDriver['play']>['result']> }> {
  const path = join(dir, `${name}.wav`);
  const d = new FfmpegAudioDriver({
    output: { type: 'wav', path },
    logger: pino({ level: 'silent' }),
    ...(profile ? { outputChain: outputChain(profile, RATE) } : {}),
  });
  drivers.push(d);
  await d.open();
  const result = await d.play(req).result;
  drivers.splice(drivers.indexOf(d), 1);
  await d.close();
  expect(result.outcome, JSON.stringify(result.error)).toBe('completed');
  return { left: await readWav(path, 0), right: await readWav(path, 1), result };
}

/** Amplitude of the component at `hz` over [startS, startS + 1 s) of the sound (single-bin DFT). */
function amplitudeAt(w: Wav, hz: number, startSample: number, n = w.rate): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const x = w.samples[startSample + i] ?? 0;
    const ph = (2 * Math.PI * hz * i) / w.rate;
    re += x * Math.cos(ph);
    im -= x * Math.sin(ph);
  }
  return (2 * Math.hypot(re, im)) / n;
}

const db = (x: number) => 20 * Math.log10(x);

/** The first sample of sound in the channel (after the WAV sink's leading silence). */
function soundStart(w: Wav, thresholdDb = -60): number {
  const run0 = soundRuns(w, thresholdDb, 10, 60)[0];
  expect(run0, 'no sound in the WAV').toBeDefined();
  return Math.round(((run0?.startMs ?? 0) * w.rate) / 1000);
}

/** The gain (dB) the chain applied to each tone of the multi-tone file, measured. */
async function measuredResponse(
  name: string,
  profile: OutputProfile | undefined,
): Promise<Map<number, number>> {
  const { left } = await render(name, profile, { source: { kind: 'file', path: multiTone } });
  // Skip the first 300 ms (filters settle), then one second exactly.
  const start = soundStart(left) + Math.round(0.3 * RATE);
  expect(left.samples.length).toBeGreaterThan(start + RATE);
  return new Map(TONES.map((f) => [f, db(amplitudeAt(left, f, start) / TONE_AMPLITUDE)]));
}

/** Largest absolute sample of both channels, dBFS. */
function peakDbfs(...ws: Wav[]): number {
  let m = 0;
  for (const w of ws) for (const x of w.samples) m = Math.max(m, Math.abs(x));
  return db(m);
}

const fm = (us: 50 | 75): OutputProfile => ({ ...OUTPUT_PROFILE_DEFAULTS['fm-exciter'], preEmphasisUs: us });

describe('output profiles through real ffmpeg', () => {
  test('loudspeaker (the default): the audio passes unchanged, no filter in the chain', async () => {
    expect(outputChain(OUTPUT_PROFILE_DEFAULTS.loudspeaker, RATE)).toEqual([]);
    const r = await measuredResponse('loudspeaker', OUTPUT_PROFILE_DEFAULTS.loudspeaker);
    for (const f of TONES) expect(Math.abs(r.get(f)!), `${f} Hz`).toBeLessThan(0.1);
  }, 60_000);

  test.each([50, 75] as const)(
    'fm-exciter %i µs: pre-emphasis follows the curve, the low-pass clears the pilot',
    async (us) => {
      const p = fm(us);
      const r = await measuredResponse(`fm${us}`, p);
      const at1k = r.get(1000)!;
      // Relative to 1 kHz, below the low-pass: the ideal 10·log10(1 + (2πfτ)²) within 0.5 dB.
      for (const f of [2000, 5000, 10_000]) {
        const want = idealPreEmphasisDb(us, f) - idealPreEmphasisDb(us, 1000);
        expect(Math.abs(r.get(f)! - at1k - want), `${f} Hz: ${r.get(f)! - at1k} vs ${want}`).toBeLessThan(
          0.5,
        );
      }
      // 10 kHz over 1 kHz: +9.95 dB at 50 µs, +12.8 dB at 75 µs (+10.4 / +13.7 dB over DC).
      expect(r.get(10_000)! - at1k).toBeCloseTo(us === 50 ? 9.95 : 12.79, 0);
      // Low frequencies pass flat (no high-pass on the FM profile by default).
      for (const f of [50, 100, 300])
        expect(Math.abs(r.get(f)! - idealPreEmphasisDb(us, f)), `${f} Hz`).toBeLessThan(0.3);
      // The 19 kHz stereo pilot's neighbourhood is at least 20 dB under the programme.
      expect(r.get(19_000)!).toBeLessThan(at1k - 20);
      // And ffmpeg does what the domain's maths says, everywhere in the band.
      const stages = outputChain(p, RATE);
      for (const f of TONES)
        expect(Math.abs(r.get(f)! - chainGainDb(stages, f, RATE)), `${f} Hz`).toBeLessThan(0.3);
    },
    60_000,
  );

  test('wired-line: cuts below its 150 Hz high-pass and above 7 kHz, flat in the voice band', async () => {
    const p = OUTPUT_PROFILE_DEFAULTS['wired-line'];
    const r = await measuredResponse('wired', p);
    expect(r.get(50)!).toBeLessThan(-30);
    expect(r.get(100)!).toBeLessThan(-10);
    for (const f of [300, 1000, 2000]) expect(Math.abs(r.get(f)!), `${f} Hz`).toBeLessThan(0.5);
    expect(r.get(10_000)!).toBeLessThan(-10);
    expect(r.get(14_000)!).toBeLessThan(-30);
    // No pre-emphasis on a wired line: 5 kHz is not lifted.
    expect(r.get(5000)!).toBeLessThan(0.5);
    const stages = outputChain(p, RATE);
    for (const f of [100, 300, 1000, 5000, 10_000])
      expect(Math.abs(r.get(f)! - chainGainDb(stages, f, RATE)), `${f} Hz`).toBeLessThan(0.3);
  }, 60_000);

  test.each([
    ['fm-exciter', fm(50)],
    ['wired-line', OUTPUT_PROFILE_DEFAULTS['wired-line']],
  ] as const)(
    '%s: the peak never exceeds the limit, even driven 20 dB past full scale',
    async (name, p) => {
      const { left, right, result } = await render(`limit-${name}`, p, {
        source: { kind: 'file', path: noise },
        gainDb: 20,
      });
      expect(peakDbfs(left, right)).toBeLessThanOrEqual(p.peakLimitDbfs);
      // Still loud (limited, not muted): within 1 dB of the ceiling.
      expect(peakDbfs(left, right)).toBeGreaterThan(p.peakLimitDbfs - 1);
      // The station's own measurement (in proofs and health) says the same.
      expect(result.peakDbfs!).toBeLessThanOrEqual(p.peakLimitDbfs + 0.05);
    },
    60_000,
  );

  test('fm-exciter: a hot 10 kHz tone lifted past full scale by the pre-emphasis stays under the ceiling', async () => {
    const p = { ...fm(50), peakLimitDbfs: -6, referenceDbfs: -20 };
    const { left, right } = await render('limit-hot10k', p, { source: { kind: 'file', path: hot10k } });
    expect(peakDbfs(left, right)).toBeLessThanOrEqual(-6);
    expect(peakDbfs(left, right)).toBeGreaterThan(-7);
    // Without the profile the same file comes out at −6 dBFS: the emphasis would have taken it
    // to about +4.4 dBFS, so the limiter held back more than 10 dB.
    const flat = await render('hot10k-flat', undefined, { source: { kind: 'file', path: hot10k } });
    expect(peakDbfs(flat.left, flat.right)).toBeCloseTo(-6, 0);
    expect(idealPreEmphasisDb(50, 10_000)).toBeGreaterThan(10);
  }, 60_000);
});

describe('test tone routine through real ffmpeg', () => {
  test.each([
    ['fm-exciter', fm(50)],
    ['wired-line', OUTPUT_PROFILE_DEFAULTS['wired-line']],
  ] as const)(
    '%s: each step comes out at the level, frequency and channel the technician is told',
    async (name, p) => {
      const steps = toneRoutine(p, RATE, { referenceS: 2, leftRight: true, sweep: true, stepS: 1 });
      const total = steps.reduce((a, s) => a + s.durationMs, 0);
      const { left, right, result } = await render(`routine-${name}`, p, {
        source: {
          kind: 'tone',
          frequencyHz: 1000,
          durationMs: total,
          steps: steps.map((s) => ({
            frequencyHz: s.frequencyHz,
            durationMs: s.durationMs,
            levelDbfs: s.levelDbfs,
            channel: s.channel,
          })),
        },
      });
      expect(result.playedMs).toBeGreaterThan(total - 200);
      const start = soundStart(left);
      let at = start;
      for (const s of steps) {
        // The middle of the step (200 ms clear of each edge), a whole number of periods long.
        const from = at + Math.round(0.2 * RATE);
        const n = Math.round(((s.durationMs / 1000 - 0.4) * RATE) / (RATE / 100)) * (RATE / 100);
        at += Math.round((s.durationMs / 1000) * RATE);
        const l = db(amplitudeAt(left, s.frequencyHz, from, n));
        const r = db(amplitudeAt(right, s.frequencyHz, from, n));
        const heard = s.channel === 'right' ? r : l;
        expect(Math.abs(heard - s.outputDbfs), `${s.label}: ${heard} vs ${s.outputDbfs}`).toBeLessThan(0.3);
        if (s.channel === 'left') expect(r, s.label).toBeLessThan(-70);
        else if (s.channel === 'right') expect(l, s.label).toBeLessThan(-70);
        else expect(Math.abs(r - l), s.label).toBeLessThan(0.05);
        // Its frequency: the strongest component is the announced one (a 1/3-octave neighbour is far below).
        const side = s.channel === 'right' ? right : left;
        expect(db(amplitudeAt(side, s.frequencyHz * 1.26, from, n)), s.label).toBeLessThan(heard - 30);
      }
      // The reference step is 1 kHz at the profile's reference level.
      expect(steps[0]).toMatchObject({ frequencyHz: 1000, outputDbfs: p.referenceDbfs, channel: 'both' });
    },
    90_000,
  );
});
