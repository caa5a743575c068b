/**
 * Zone relays switched while the decoder is starved: the real ffmpeg writing a WAV sink, the
 * real amplifier service on the simulated GPIO. ffmpeg confirms the mute on stderr; when it
 * does not (starved of CPU, stalled, or no longer reading its commands), the driver cuts the
 * output hard (the process is paused, what it wrote is dropped) before the relays switch, and
 * the audio comes back after the unmute. The WAV is read back: no sound may lie where a relay
 * switched, nor in its settling time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { readWav, soundRuns, type Wav } from './audio/wav-tools.js';
import { type Harness, makeHarness, waitFor } from './player-harness.js';
import { bundle } from './scheduler/fixtures.js';
import { position, toneItem, withDir } from './tone-items.js';

let h: Harness | undefined;
let dir: string;
const paused = new Set<number>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-starved-'));
});
afterEach(async () => {
  // A decoder the test paused must not outlive it.
  for (const pid of paused) signal(pid, 'SIGCONT');
  paused.clear();
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Exited already.
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Relay settling time in these tests: the output stays muted this long after a switch. */
const SETTLE_MS = 300;
/** Below this a sample is silence (-50 dBFS). */
const SILENT = 10 ** (-50 / 20);
/**
 * The end of the window: the audio after the unmute is placed by the sink's clock when its
 * first chunk is read, which on a starved test run can be tens of ms off the unmute instant.
 */
const DRIFT_MS = 50;
/** Wall clock against the sink's monotonic clock over a few seconds. */
const SKEW_MS = 10;

/** Loudest sample (absolute, 0..1) between two WAV positions. */
function peakBetween(wav: Wav, fromMs: number, toMs: number): number {
  const a = Math.max(0, Math.floor((fromMs * wav.rate) / 1000));
  const b = Math.min(wav.samples.length, Math.ceil((toMs * wav.rate) / 1000));
  let peak = 0;
  for (let i = a; i < b; i++) peak = Math.max(peak, Math.abs(wav.samples[i] ?? 0));
  return peak;
}

/**
 * A 4 s 440 Hz item on zone "cho" with the real driver (ffmpeg through `ffmpegPath` if given);
 * resolves once it has played for a second.
 */
async function playing(name: string, ffmpegPath?: string) {
  const path = join(dir, `${name}.wav`);
  const audio = new FfmpegAudioDriver({
    output: { type: 'wav', path },
    logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
    ...(ffmpegPath ? { ffmpegPath } : {}),
  });
  h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000, settleMs: SETTLE_MS });
  const item = await toneItem(h.dir, 'talk', 440, 4);
  const T = Date.now() + 2000;
  h.player.setBundles([
    withDir(
      bundle({
        created: iso(Date.now() - 60_000),
        items: [item],
        schedule: [{ id: 'e', items: ['talk'], rule: { type: 'once', at: iso(T) }, zones: ['cho'] }],
      }),
      h.dir,
    ),
  ]);
  const onAir = await waitFor(() => h!.player.status().onAir);
  // A second of sound, counted from when it began (late on a starved run).
  await waitFor(() => Date.now() >= Date.parse(onAir.since) + 1000, 20_000);
  return { audio, path, harness: h };
}

/**
 * Switches to zone "truong" and returns the relay writes, the instant the audio was unmuted
 * and the WAV once the item has completed.
 */
async function switchZones(
  harness: Harness,
  audio: FfmpegAudioDriver,
  path: string,
  afterSwitch?: () => void,
) {
  const asked = Date.now();
  await harness.amp.ready(['truong']);
  const unmutedAt = Date.now();
  afterSwitch?.();
  const writes = harness.gpio.timeline.filter((w) => w.name.startsWith('zone:') && w.at >= asked);
  await waitFor(async () => (await harness.proofs()).some((p) => p.outcome === 'completed'), 30_000);
  const proofs = await harness.proofs();
  await harness.close();
  h = undefined;
  const wav = await readWav(path);
  const first = writes[0]?.at ?? unmutedAt;
  const last = writes.at(-1)?.at ?? unmutedAt;
  return {
    asked,
    writes,
    wav,
    proofs,
    /** The switch window in the WAV: from the first relay write to the end of the settling. */
    window: {
      // Both instants on the test's clock: exact, give or take a few ms of clock skew.
      fromMs: position(audio, first) - SKEW_MS,
      toMs: position(audio, Math.max(last + SETTLE_MS, unmutedAt)) - DRIFT_MS,
    },
    unmutedAtMs: position(audio, unmutedAt),
  };
}

describe('zone switch with a starved decoder (real ffmpeg → WAV sink)', () => {
  test('a decoder that stops confirming its commands: the output is cut before the relays switch', async () => {
    // ffmpeg itself (exec: same process), with its command input cut off: it plays on at full
    // gain and never confirms the mute, as a decoder too starved to read its commands.
    const deaf = join(dir, 'ffmpeg-deaf.sh');
    await writeFile(deaf, '#!/bin/sh\nexec ffmpeg "$@" </dev/null\n', { mode: 0o755 });
    const { audio, path, harness } = await playing('deaf', deaf);
    const r = await switchZones(harness, audio, path);
    expect(r.writes.map((w) => `${w.name}=${w.active}`)).toEqual(['zone:cho=false', 'zone:truong=true']);
    // Sound before the switch was asked.
    expect(
      peakBetween(r.wav, position(audio, r.asked) - 400, position(audio, r.asked) - 200),
    ).toBeGreaterThan(0.1);
    // Not one audible sample from the first relay write to the end of the settling.
    const peak = peakBetween(r.wav, r.window.fromMs, r.window.toMs);
    console.info(
      `deaf decoder: switch window ${Math.round(r.window.toMs - r.window.fromMs)} ms in the WAV, peak ${peak.toFixed(5)}`,
    );
    expect(peak).toBeLessThan(SILENT);
    // The audio is back after the unmute and the item ends as played.
    const after = soundRuns(r.wav, -40, 10, 60).filter((x) => x.endMs > r.window.toMs);
    expect(after.reduce((s, x) => s + x.endMs - Math.max(x.startMs, r.window.toMs), 0)).toBeGreaterThan(500);
    expect(r.proofs.some((p) => p.itemId === 'talk' && p.outcome === 'completed')).toBe(true);
  }, 90_000);

  test('a decoder paused (starved) during the switch: silence at the relays, then the audio again', async () => {
    const { audio, path, harness } = await playing('paused');
    const pid = audio.currentPid();
    expect(pid).toBeTypeOf('number');
    // The decoder gets no CPU from now on, until the switch is over.
    paused.add(pid!);
    signal(pid!, 'SIGSTOP');
    // A starved decoder runs again sooner or later: here once the switch is over.
    const r = await switchZones(harness, audio, path, () => signal(pid!, 'SIGCONT'));
    expect(r.writes.map((w) => `${w.name}=${w.active}`)).toEqual(['zone:cho=false', 'zone:truong=true']);
    const peak = peakBetween(r.wav, r.window.fromMs, r.window.toMs);
    console.info(
      `paused decoder: switch window ${Math.round(r.window.toMs - r.window.fromMs)} ms in the WAV, peak ${peak.toFixed(5)}`,
    );
    expect(peak).toBeLessThan(SILENT);
    // The mute it never applied does not stay: the item is heard again after the switch and
    // completes (it had 3 s left).
    const after = soundRuns(r.wav, -40, 10, 60).filter((x) => x.endMs > r.window.toMs);
    expect(after.reduce((s, x) => s + x.endMs - Math.max(x.startMs, r.window.toMs), 0)).toBeGreaterThan(500);
    expect(r.proofs.some((p) => p.itemId === 'talk' && p.outcome === 'completed')).toBe(true);
  }, 90_000);
});
