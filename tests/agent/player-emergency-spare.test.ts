/**
 * The decoder waiting for an emergency, under the player, with the real ffmpeg driver. Without
 * `warmDecoder`, an arriving emergency starts it while the message is still being checked, the
 * verified emergency plays through it (at the level the verified plan gives, which the waiting
 * process did not know), and when no emergency follows (a refused message) it is let go. With
 * `warmDecoder`, one waits from the start, idle: the emergency's chime (a generated tone) and its
 * audio go into running processes, heard in a WAV sink at their frequencies, and a new one waits
 * afterwards.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { descendants } from '../../scripts/src/bench/proc-sampler.js';
import { frequencyAt, readWav, soundRuns } from './audio/wav-tools.js';
import { type Harness, makeHarness } from './player-harness.js';
import { bundle } from './scheduler/fixtures.js';
import { toneItem, withDir } from './tone-items.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** This process's ffmpeg children. */
function decoders(): number[] {
  return descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false;
    }
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

async function harness(volume?: number): Promise<{ h: Harness; audio: FfmpegAudioDriver }> {
  const audio = new FfmpegAudioDriver({
    output: { type: 'null' },
    logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
  });
  h = await makeHarness({
    audio,
    warmupMs: 0,
    ...(volume !== undefined ? { policy: { warmupMs: 0, volume } } : {}),
  });
  return { h, audio };
}

/** An emergency bundle playing `item` at once. */
function emergency(id: string, item: Awaited<ReturnType<typeof toneItem>>, dir: string, volume?: number) {
  return withDir(
    bundle({
      id,
      channel: 'emergency',
      created: iso(Date.now() - 1000),
      items: [{ ...item, priority: 'emergency' as const }],
      schedule: [
        {
          id: 'now',
          items: [item.id],
          rule: { type: 'immediate' },
          ...(volume !== undefined ? { volume } : {}),
        },
      ],
    }),
    dir,
  );
}

describe('player: a decoder started for an arriving emergency', () => {
  test('is the one the verified emergency plays through', { timeout: 90_000 }, async () => {
    const { h, audio } = await harness();
    expect(decoders()).toEqual([]);
    h.player.expectEmergency();
    await expect.poll(() => decoders().length, { timeout: 30_000 }).toBe(1);
    const [spare] = decoders();
    const item = { ...(await toneItem(h.dir, 'canh-bao', 660, 2)), priority: 'emergency' as const };
    h.player.setBundles([
      withDir(
        bundle({
          id: 'em-1',
          channel: 'emergency',
          created: iso(Date.now() - 1000),
          items: [item],
          schedule: [{ id: 'now', items: ['canh-bao'], rule: { type: 'immediate' } }],
        }),
        h.dir,
      ),
    ]);
    await expect.poll(() => h.player.status().onAir?.itemId, { timeout: 30_000 }).toBe('canh-bao');
    expect(audio.currentPid()).toBe(spare);
    await expect
      .poll(async () => (await h.proofs()).find((p) => p.outcome === 'completed')?.itemId, {
        timeout: 30_000,
      })
      .toBe('canh-bao');
  });

  test('plays at the level the verified emergency asks for (its entry volume, its item gain)', {
    timeout: 90_000,
  }, async () => {
    // the station's level is 70
    const { h, audio } = await harness(70);
    // the operator's emergency: volume 100 (the station's level is lower), a quieter clip
    const item = { ...(await toneItem(h.dir, 'canh-bao-to', 440, 2)), gainDb: -4 };
    // as the message arrives, before it is verified: the decoder waits without a level
    h.player.expectEmergency();
    await expect.poll(() => decoders().length, { timeout: 30_000 }).toBe(1);
    const [spare] = decoders();
    h.player.setBundles([emergency('em-2', item, h.dir, 100)]);
    await expect.poll(() => h.player.status().onAir?.itemId, { timeout: 30_000 }).toBe('canh-bao-to');
    expect(audio.currentPid()).toBe(spare);
    await expect
      .poll(async () => (await h.proofs()).find((p) => p.outcome === 'completed')?.itemId, {
        timeout: 30_000,
      })
      .toBe('canh-bao-to');
  });

  test('is let go when no emergency follows', { timeout: 90_000 }, async () => {
    const { h } = await harness();
    h.player.expectEmergency();
    await expect.poll(() => decoders().length, { timeout: 30_000 }).toBe(1);
    await expect.poll(() => decoders().length, { timeout: 40_000 }).toBe(0);
    expect(h.player.status().onAir).toBeNull();
  });
});

describe('player: a warm station (warmDecoder)', () => {
  test('a decoder waits from the start, idle; the chime and the emergency play through running processes', {
    timeout: 120_000,
  }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'loa-warm-player-'));
    try {
      const wavPath = join(out, 'out.wav');
      const audio = new FfmpegAudioDriver({
        output: { type: 'wav', path: wavPath },
        logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
      });
      h = await makeHarness({
        audio,
        warmupMs: 0,
        policy: { warmupMs: 0, chime: { tone: { frequencyHz: 880 }, durationMs: 800 } },
        player: { warmDecoder: true },
      });
      // idle, no message yet: one decoder waits
      await expect.poll(() => audio.spareInfo().pid, { timeout: 30_000 }).toBeDefined();
      const idle = audio.spareInfo().pid as number;
      expect(decoders()).toEqual([idle]);
      h.player.setBundles([emergency('em-3', await toneItem(h.dir, 'lu-quet', 440, 2), h.dir)]);
      await expect
        .poll(async () => (await h!.proofs()).find((p) => p.outcome === 'completed')?.itemId, {
          timeout: 60_000,
        })
        .toBe('lu-quet');
      // the chime (the first sound) took the waiting process; another waits now
      expect(audio.spareInfo().claims).toBeGreaterThanOrEqual(1);
      await expect.poll(() => audio.spareInfo().pid, { timeout: 30_000 }).toBeDefined();
      expect(audio.spareInfo().pid).not.toBe(idle);
      expect(decoders()).not.toContain(idle);
      await h.close();
      h = undefined;
      const wav = await readWav(wavPath);
      const runs = soundRuns(wav, -45);
      const first = runs[0] as (typeof runs)[0];
      const last = runs.at(-1) as (typeof runs)[0];
      expect(frequencyAt(wav, first.startMs + 100, first.startMs + 700)).toBeCloseTo(880, -1);
      expect(frequencyAt(wav, last.endMs - 1500, last.endMs - 100)).toBeCloseTo(440, -1);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
