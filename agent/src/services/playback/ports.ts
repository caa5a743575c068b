/**
 * What the player needs from the rest of the station, so that it can be built and tested alone:
 * its programme (content/bundle-store.ts), a clock that knows whether it is trusted (station/clock.ts), the output gate (the amplifier,
 * station/amplifier.ts) and a proof sink (proof-journal.ts).
 */
import type { Clock, ProofBody, RelayState } from '@loa/protocol';
import type { PlanBundle, StationChoices } from '../../domain/scheduler/types.js';
import type { Listenable } from '../../events.js';

/**
 * Where the programme comes from (content/bundle-store.ts): the active bundles as the planner
 * takes them, and 'activated' whenever one changes.
 */
export interface ProgrammeSource extends Listenable<{ activated: unknown; choices: unknown }> {
  planBundles(): readonly PlanBundle[];
  /** The programme choices of the station's units (commune opt-outs, central quiet hours). */
  choices?(): readonly StationChoices[];
}

/** The time the player runs on (station/clock.ts TrustedClock implements it). */
export interface PlayerClock extends Clock, Partial<Listenable<{ change: undefined }>> {
  trusted(): boolean;
  /** While untrusted: what the clock waits for (the sources it tried), for the log. */
  waiting?(): string | undefined;
}

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

/**
 * The station's FM module as live items use it (drivers/fm/capture.ts): tune (and set the
 * module's level 0–15), checking the signal; release mutes it again. The module's audio reaches
 * the player through the FM capture input.
 */
export interface FmControl {
  tune(mhz: number, level?: number): Promise<void>;
  release(): Promise<void>;
}
