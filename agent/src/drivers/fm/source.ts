/**
 * FM as a programme source: tune, check the signal, and route the module's audio to the
 * amplifier through the input-select relay (which switches only while muted, see
 * services/station/amplifier.ts). Releasing the source selects the player again.
 */
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import type { FmSignal, FmTuner } from './types.js';

/** The part of the amplifier service this needs. */
export interface InputSelector {
  selectInput(input: 'player' | 'fm' | 'line'): Promise<void>;
}

export interface FmSourceOptions {
  tuner: FmTuner;
  selector: InputSelector;
  logger: Logger;
  /** Below this RSSI (0–127) the station is not taken (no hiss on the horns). Default 20. */
  minRssi?: number;
}

export class FmSource {
  private readonly tuner: FmTuner;
  private readonly selector: InputSelector;
  private readonly log: Logger;
  private readonly minRssi: number;
  private active: number | null = null;

  constructor(options: FmSourceOptions) {
    this.tuner = options.tuner;
    this.selector = options.selector;
    this.log = options.logger.child({ module: 'fm-source' });
    this.minRssi = options.minRssi ?? 20;
  }

  /** The frequency routed to the amplifier, or null. */
  get routed(): number | null {
    return this.active;
  }

  /** Tunes, verifies the signal and routes FM. Error FM_NO_SIGNAL if the station is too weak. */
  async route(mhz: number): Promise<FmSignal> {
    await this.tuner.tune(mhz);
    const signal = await this.tuner.signal();
    if (signal.rssi < this.minRssi) {
      throw new LoaError(
        'FM_NO_SIGNAL',
        `Sóng FM ${mhz} MHz quá yếu (RSSI ${signal.rssi} < ${this.minRssi})`,
        {
          details: { mhz, rssi: signal.rssi, minRssi: this.minRssi },
        },
      );
    }
    await this.tuner.setMute(false);
    await this.selector.selectInput('fm');
    this.active = mhz;
    this.log.info({ mhz, signal }, 'fm routed to the amplifier');
    return signal;
  }

  /** Routes the player back and mutes the module. */
  async release(): Promise<void> {
    await this.selector.selectInput('player');
    this.active = null;
    await this.tuner.setMute(true).catch((err: unknown) => this.log.warn({ err }, 'fm mute failed'));
  }
}
