/**
 * The decoder kept waiting for an emergency (`AudioDriver.prepare`), so that an emergency's
 * first sound (its chime, or its audio) goes into a process that is already running instead of
 * waiting for one to start. With `warm` (the station's `audio.warmDecoder`) one waits at all
 * times, idle included; without it, one waits while something is on air (an emergency may cut
 * in) and from an emergency message's arrival until it plays or EMERGENCY_SPARE_MS have passed.
 * The driver takes it for urgent playbacks only, at the level the verified plan gives them.
 */
import type { Timers } from '@loa/protocol';
import type { AudioDriver } from '../../drivers/audio/types.js';

/**
 * How long a decoder started for an arriving emergency waits to be claimed: the checks and
 * durable writes take well under this even on an SD card; a refused emergency frees it then.
 */
const EMERGENCY_SPARE_MS = 10_000;

export class EmergencyDecoder {
  private expectTimer: unknown;

  constructor(
    private readonly audio: Pick<AudioDriver, 'prepare'>,
    private readonly timers: Timers,
    private readonly warm: boolean,
    /** Something is on air or queued (the decoder then stays). */
    private readonly busy: () => boolean,
  ) {}

  /** The output is open: a warm station starts its waiting decoder now. */
  start(): void {
    if (this.warm) this.audio.prepare?.(true);
  }

  stop(): void {
    this.timers.clearTimeout(this.expectTimer);
    this.expectTimer = undefined;
  }

  /**
   * An emergency message has arrived and is being checked: a decoder waits for it (already,
   * on a warm station); without `warm` it is let go after EMERGENCY_SPARE_MS unless something
   * plays by then (a refused message leaves no process behind).
   */
  expect(): void {
    if (!this.audio.prepare) return;
    this.audio.prepare(true);
    if (this.warm) return;
    this.timers.clearTimeout(this.expectTimer);
    this.expectTimer = this.timers.setTimeout(() => {
      this.expectTimer = undefined;
      this.release();
    }, EMERGENCY_SPARE_MS);
  }

  /** Something is on air: an emergency may cut into it. */
  onAir(): void {
    this.audio.prepare?.(true);
  }

  /** The output went idle: the decoder is let go unless kept warm or an emergency is expected. */
  release(): void {
    if (this.warm || this.expectTimer !== undefined || this.busy()) return;
    this.audio.prepare?.(false);
  }
}
