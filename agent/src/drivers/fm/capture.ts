/**
 * FM as a live programme item heard through the player: tune the module to the item's
 * frequency, check the signal, set its level and unmute; its audio reaches the player through
 * the FM capture input (audio.inputs.fm), so it is normalised, measured and proved like any
 * relay. Releasing mutes the module and tunes it back to the station's home frequency.
 * (FmSource, beside it, routes the module straight to the amplifier instead.)
 */
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import type { FmSignal, FmTuner } from './types.js';

export interface FmCaptureOptions {
  tuner: FmTuner;
  logger: Logger;
  /** Below this RSSI (0–127) the station counts as absent (FM_NO_SIGNAL). Default 20. */
  minRssi?: number;
  /** The module's level when an item names none (0–15). Default 12. */
  defaultLevel?: number;
  /** Tuned again on release (config hardware.fm.frequencyMHz). */
  homeMHz?: number;
}

export class FmCapture {
  private readonly log: Logger;
  private readonly minRssi: number;
  private readonly defaultLevel: number;
  /** Tuning is one command sequence at a time (a relay and its fallback never overlap). */
  private queue: Promise<unknown> = Promise.resolve();
  private lastSignal: FmSignal | undefined;

  constructor(private readonly opts: FmCaptureOptions) {
    this.log = opts.logger.child({ module: 'fm-capture' });
    this.minRssi = opts.minRssi ?? 20;
    this.defaultLevel = opts.defaultLevel ?? 12;
  }

  /** The signal measured at the last tune. */
  signal(): FmSignal | undefined {
    return this.lastSignal;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Tunes, checks the signal (FM_NO_SIGNAL below minRssi), sets the level and unmutes. */
  tune(mhz: number, level?: number): Promise<void> {
    return this.serial(async () => {
      const t = this.opts.tuner;
      await t.tune(mhz);
      const signal = await t.signal();
      this.lastSignal = signal;
      if (signal.rssi < this.minRssi) {
        await t.setMute(true).catch(() => undefined);
        throw new LoaError(
          'FM_NO_SIGNAL',
          `FM ${mhz.toFixed(1)} MHz: no signal (RSSI ${signal.rssi} < ${this.minRssi})`,
          { details: { mhz, rssi: signal.rssi, minRssi: this.minRssi } },
        );
      }
      await t.setVolume(level ?? this.defaultLevel);
      await t.setMute(false);
      this.log.info({ mhz, signal, level: level ?? this.defaultLevel }, 'fm tuned for a live item');
    });
  }

  /** Mutes the module and tunes it back to the home frequency. */
  release(): Promise<void> {
    return this.serial(async () => {
      const t = this.opts.tuner;
      await t.setMute(true);
      if (this.opts.homeMHz !== undefined) await t.tune(this.opts.homeMHz);
    }).catch((err: unknown) => this.log.warn({ err }, 'fm release failed'));
  }
}
