/**
 * An arriving emergency starts its decoder while the message is still being checked: the real
 * ffmpeg driver (null sink) under the player. The decoder started then is the one the verified
 * emergency plays through; when no emergency follows (a refused message), it is let go.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { descendants } from '../../scripts/src/bench/proc-sampler.js';
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

  test('runs at the level the emergency itself asks for (its entry volume, its item gain)', {
    timeout: 90_000,
  }, async () => {
    // the station's level is 70
    const { h, audio } = await harness(70);
    // the operator's emergency: volume 100 (the station's level is lower), a quieter clip
    const item = {
      ...(await toneItem(h.dir, 'canh-bao-to', 440, 2)),
      priority: 'emergency' as const,
      gainDb: -4,
    };
    const manifest = bundle({
      id: 'em-2',
      channel: 'emergency',
      created: iso(Date.now() - 1000),
      items: [item],
      schedule: [{ id: 'now', items: ['canh-bao-to'], rule: { type: 'immediate' }, volume: 100 }],
    });
    // as the message arrives, before it is verified
    h.player.expectEmergency(manifest.manifest);
    await expect.poll(() => decoders().length, { timeout: 30_000 }).toBe(1);
    const [spare] = decoders();
    h.player.setBundles([withDir(manifest, h.dir)]);
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
