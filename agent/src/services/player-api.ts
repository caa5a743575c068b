/**
 * The player's public surface (implemented by services/player.ts), so main.ts, the fleet link,
 * the command handler and health can code against it.
 */
import type { Logger } from 'pino';
import type { ActiveBundle, Held, Slot, StationPolicy, Timeline } from '../domain/scheduler/types.js';
import type { AudioDriver, StreamRelayOptions } from '../drivers/audio/types.js';
import type { OutputGate, ProofSink } from './contracts.js';

/** The time source the player runs on (services/clock.ts TrustedClock implements it). */
export interface PlayerClock {
  now(): number;
  trusted(): boolean;
  /** Called when trust changes (the player re-plans). Returns an unsubscribe function. */
  onChange?(listener: () => void): () => void;
}

/** Timer functions, injectable for the simulator. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PlayerOptions {
  audio: AudioDriver;
  gate: OutputGate;
  proofs: ProofSink;
  clock: PlayerClock;
  logger: Logger;
  policy: StationPolicy;
  /** Plan this far ahead; default 24 h. */
  horizonMs?: number;
  timers?: Timers;
  /** Live relays: reconnect/fallback settings (fallback: a cached file or the FM/line capture input). */
  streamRelay?: StreamRelayOptions;
  /** Persist played/interrupted item keys here (JSON, fsync'd) so a restart does not replay them. */
  stateFile?: string;
  /** Probe an audio file's length (ms) when its item carries no durationMs (real driver: ffprobe). */
  probeDurationMs?: (path: string) => Promise<number | undefined>;
  /**
   * Start audio this much before the slot to absorb the output's start-up latency; 'auto'
   * (default) learns it from the playbacks (moving average of how late held starts came out).
   */
  startLatencyMs?: number | 'auto';
}

/** What is on air, shaped like protocol Health.onAir. */
export interface OnAirInfo {
  bundleId?: string;
  itemId?: string;
  kind: string;
  since: string;
  momentaryLufs?: number;
  peakDbfs?: number;
}

export interface PlayerStatus {
  onAir: OnAirInfo | null;
  volume: number;
  /** Items held now (quiet hours, untrusted clock). */
  held: Held[];
  /** The last playback ended in dead air. */
  deadAir: boolean;
  nextSlot?: Pick<Slot, 'id' | 'itemKey' | 'start' | 'priorityClass'> & { itemId: string };
}

export interface PlayerApi {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replace the active bundles (after activation/rollback, or an emergency bundle); re-plans at once. */
  setBundles(bundles: readonly ActiveBundle[]): void;
  /** Play an item of an installed bundle now (command play-now), at priority class 'priority'. */
  playNow(channel: string, itemId: string, opts?: { commandId?: string }): Promise<void>;
  /** A test tone now (command test-tone / technician page). */
  testTone(seconds: number, frequencyHz?: number, opts?: { commandId?: string }): Promise<void>;
  /** Stop what is playing now (command stop); the item is recorded as interrupted. */
  stopCurrent(): void;
  /** Set the station volume 0..100 (command volume); overrides the policy until restart. */
  setVolume(volume: number): void;
  status(): PlayerStatus;
  timeline(): Timeline;
}

export type { ActiveBundle, StationPolicy };
