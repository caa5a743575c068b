/**
 * Wires the player to the real amplifier service (on the simulated GPIO driver) and the real
 * proof journal (signed, fsync'd), with either audio driver. Used by the player tests and the
 * playback e2e test.
 */

import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type Proof } from '@loa/protocol';
import pino from 'pino';
import type { StationPolicy } from '../../agent/src/domain/scheduler/types.js';
import type { AudioDriver } from '../../agent/src/drivers/audio/types.js';
import { SimGpio } from '../../agent/src/drivers/gpio/sim.js';
import { Player, type PlayerOptions } from '../../agent/src/services/playback/player.js';
import type { PlayerClock } from '../../agent/src/services/playback/ports.js';
import { ProofJournal } from '../../agent/src/services/playback/proof-journal.js';
import { Amplifier } from '../../agent/src/services/station/amplifier.js';

export interface Harness {
  dir: string;
  gpio: SimGpio;
  amp: Amplifier;
  journal: ProofJournal;
  player: Player;
  clock: PlayerClock & { setTrusted(v: boolean): void };
  publicKey: KeyObject;
  proofs(): Promise<Proof[]>;
  close(): Promise<void>;
}

export async function makeHarness(opts: {
  audio: AudioDriver;
  policy?: StationPolicy;
  warmupMs?: number;
  idleTailMs?: number;
  /** Muted time after a zone relay switched (default 20 ms). */
  settleMs?: number;
  trusted?: boolean;
  player?: Partial<PlayerOptions>;
}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-player-'));
  const logger = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });
  const gpio = new SimGpio();
  const amp = new Amplifier({
    relays: {
      amplifier: await gpio.output({ name: 'amplifier', pin: 17 }),
      zones: {
        cho: await gpio.output({ name: 'zone:cho', pin: 27 }),
        truong: await gpio.output({ name: 'zone:truong', pin: 22 }),
      },
    },
    logger,
    warmupMs: opts.warmupMs ?? 300,
    idleTailMs: opts.idleTailMs ?? 600,
    settleMs: opts.settleMs ?? 20,
  });
  await amp.start();
  const keys = generateKeyPair();
  const journal = new ProofJournal({
    dir: join(dir, 'proofs'),
    privateKey: keys.privateKey,
    deviceId: () => 'loa-test-01',
    clock: { now: () => Date.now() },
    logger,
  });
  await journal.start();
  let trusted = opts.trusted ?? true;
  const listeners = new Set<() => void>();
  const clock = {
    now: () => Date.now(),
    trusted: () => trusted,
    on: (_event: 'change', l: () => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    setTrusted(v: boolean) {
      trusted = v;
      for (const l of listeners) l();
    },
  };
  const player = new Player({
    audio: opts.audio,
    gate: amp,
    proofs: journal,
    clock,
    logger,
    policy: opts.policy ?? { warmupMs: opts.warmupMs ?? 300, volume: 100 },
    stateFile: join(dir, 'player-state.json'),
    ...opts.player,
  });
  await player.start();
  return {
    dir,
    gpio,
    amp,
    journal,
    player,
    clock,
    publicKey: keys.publicKey,
    proofs: () => journal.read(1, 1000),
    close: async () => {
      await player.stop();
      await amp.stop();
      await journal.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `fn` returns a truthy value (no fixed sleeps in tests). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  stepMs = 25,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
