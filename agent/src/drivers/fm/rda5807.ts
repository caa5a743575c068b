/**
 * FM tuner semantics for an RDA5807-class receiver behind a small MCU speaking the line
 * protocol in fm/types.ts. Runs on any AtChannel (real serial port or the simulated module).
 */

import type { Timers } from '@loa/protocol';
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import { AtCommandChannel } from '../serial/at-channel.js';
import type { AtChannel, LineTransport } from '../serial/types.js';
import type { FmSignal, FmTuner } from './types.js';

export const FM_MIN_MHZ = 87.0;
export const FM_MAX_MHZ = 108.0;

/** MHz → the module's 10 kHz units, validating the band and the 10 kHz step. */
export function mhzToUnits(mhz: number): number {
  const units = Math.round(mhz * 100);
  if (!Number.isFinite(mhz) || mhz < FM_MIN_MHZ || mhz > FM_MAX_MHZ || Math.abs(units - mhz * 100) > 1e-6) {
    throw new LoaError('FM_FREQ_INVALID', `Tần số FM không hợp lệ: ${mhz} MHz (87,0–108,0, bước 10 kHz)`, {
      details: { mhz },
    });
  }
  return units;
}

function bad(what: string, lines: readonly string[]): LoaError {
  return new LoaError('FM_BAD_REPLY', `Mô-đun FM trả lời không đúng dạng (${what})`, {
    details: { what, lines: lines.slice(0, 4).map((l) => l.slice(0, 80)) },
  });
}

function intField(lines: readonly string[], prefix: string, min: number, max: number): number {
  const line = lines.find((l) => l.startsWith(prefix));
  const m = line === undefined ? null : new RegExp(`^\\${prefix}\\s*(\\d{1,5})$`).exec(line);
  const v = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  if (!Number.isInteger(v) || v < min || v > max) throw bad(prefix.slice(1, -1), lines);
  return v;
}

export interface Rda5807TunerOptions {
  channel: AtChannel;
  logger: Logger;
  lower?: { start(): Promise<void> | void; stop(): Promise<void> | void };
}

export class Rda5807Tuner implements FmTuner {
  private readonly at: AtChannel;
  private readonly log: Logger;
  private readonly lower: Rda5807TunerOptions['lower'];

  constructor(options: Rda5807TunerOptions) {
    this.at = options.channel;
    this.log = options.logger.child({ module: 'fm' });
    this.lower = options.lower;
  }

  async start(): Promise<void> {
    await this.lower?.start();
  }

  async stop(): Promise<void> {
    await this.lower?.stop();
  }

  async tune(mhz: number): Promise<void> {
    const units = mhzToUnits(mhz);
    // Seeking the PLL takes up to ~100 ms on the RDA5807; allow for a slow MCU.
    await this.at.send(`AT+FRE=${units}`, { timeoutMs: 3000 });
    this.log.info({ mhz }, 'fm tuned');
  }

  async frequency(): Promise<number> {
    return intField((await this.at.send('AT+FRE?')).lines, '+FRE:', 8700, 10800) / 100;
  }

  async signal(): Promise<FmSignal> {
    const rssi = intField((await this.at.send('AT+RSSI?')).lines, '+RSSI:', 0, 127);
    const stereo = intField((await this.at.send('AT+ST?')).lines, '+ST:', 0, 1) === 1;
    return { rssi, stereo };
  }

  async setVolume(level: number): Promise<void> {
    if (!Number.isInteger(level) || level < 0 || level > 15) {
      throw new LoaError('FM_VOLUME_INVALID', `Âm lượng FM không hợp lệ: ${level} (0–15)`, {
        details: { level },
      });
    }
    await this.at.send(`AT+VOL=${level}`);
  }

  async setMute(muted: boolean): Promise<void> {
    await this.at.send(`AT+MUTE=${muted ? 1 : 0}`);
  }
}

/** Builds transport → AT channel → tuner over any LineTransport (real or sim). */
export function createRda5807Tuner(
  transport: LineTransport,
  options: { logger: Logger; timeoutMs?: number; timers?: Timers },
): { tuner: Rda5807Tuner; channel: AtCommandChannel } {
  const channel = new AtCommandChannel({
    transport,
    logger: options.logger,
    urcPrefixes: ['READY', '+RDS:'],
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  });
  const tuner = new Rda5807Tuner({
    channel,
    logger: options.logger,
    lower: {
      start: async () => {
        channel.start();
        await transport.start();
      },
      stop: async () => {
        channel.stop();
        await transport.stop();
      },
    },
  });
  return { tuner, channel };
}
