/**
 * Interfaces between the agent's services, so that each can be built and tested alone.
 * main.ts wires the implementations together.
 */
import type { ProofBody, RelayState } from '@loa/protocol';

/** Wall-clock source; services take one instead of calling Date.now(). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The amplifier and zone relays as the player sees them (implemented by services/amplifier.ts).
 * ready() switches the amplifier on if needed and resolves once it has warmed up and the given
 * zones are selected (zones switch only while the output is muted). idle() starts the idle tail
 * after which the amplifier switches off. relays() tells the observed relay state.
 */
export interface OutputGate {
  ready(zones?: readonly string[]): Promise<void>;
  idle(): void;
  relays(): RelayState;
  /** Milliseconds ready() takes from cold (the warm-up), so slots can start on time. */
  readonly warmupMs: number;
  /**
   * The player registers its output mute here: the gate mutes the audio (resolving once it is
   * silent) before it switches zone or input relays, and unmutes after they settled.
   */
  setMuteHandler?(handler: ((muted: boolean) => void | Promise<void>) | undefined): void;
}

/** Where the player sends proof-of-play events (implemented by services/proof-journal.ts). */
export type ProofDraft = Omit<ProofBody, 'type' | 'format' | 'eventId' | 'deviceId' | 'seq' | 'prev' | 'at'>;
export interface ProofSink {
  /** Signs, chains and durably appends the event; resolves once it is on disk. */
  record(draft: ProofDraft): Promise<void>;
}
