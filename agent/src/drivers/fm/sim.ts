/**
 * Simulated FM module: answers the line protocol of fm/types.ts with a table of stations
 * (frequency → RSSI), and can be scripted to stay silent, send garbage or answer ERROR.
 */

import type { Timers } from '@loa/protocol';
import type { SimReply, SimSerialDevice } from '../serial/sim-transport.js';
import { SimSerialTransport } from '../serial/sim-transport.js';

export type FmFault = 'silent' | 'garbage' | 'error';

export interface SimFmConfig {
  /** Stations on the air: frequency in 10 kHz units → RSSI (0–127). Others read a noise floor. */
  stations: Record<number, number>;
  noiseRssi: number;
  latencyMs: number;
  bootMs: number;
}

/** Plausible for a commune in the Red River delta: VOV1 and VOV3 relays and a provincial station. */
export const SIM_FM_DEFAULTS: SimFmConfig = {
  stations: { 9650: 58, 9890: 44, 10270: 37 },
  noiseRssi: 9,
  latencyMs: 3,
  bootMs: 20,
};

export class SimFmDevice implements SimSerialDevice {
  readonly config: SimFmConfig;
  private freq = 8700;
  private volume = 8;
  private muted = false;
  private powered = true;
  private readonly faults: FmFault[] = [];
  readonly received: string[] = [];
  private readonly powerListeners = new Set<(on: boolean) => void>();

  constructor(config: Partial<SimFmConfig> = {}) {
    this.config = { ...SIM_FM_DEFAULTS, ...config };
  }

  get bootMs(): number {
    return this.config.bootMs;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** State the module would report (for tests and the simulator's display). */
  state(): { freq: number; volume: number; muted: boolean } {
    return { freq: this.freq, volume: this.volume, muted: this.muted };
  }

  inject(fault: FmFault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  setPowered(on: boolean): void {
    if (on === this.powered) return;
    this.powered = on;
    for (const l of this.powerListeners) l(on);
  }

  onPower(listener: (powered: boolean) => void): () => void {
    this.powerListeners.add(listener);
    return () => this.powerListeners.delete(listener);
  }

  bootBytes(): Buffer {
    return Buffer.from('\r\nREADY\r\n');
  }

  handle(line: string): SimReply | null {
    this.received.push(line);
    if (!this.powered) return null;
    const fault = this.faults.shift();
    const d = this.config.latencyMs;
    if (fault === 'silent') return null;
    if (fault === 'garbage')
      return { delayMs: d, bytes: Buffer.from([0xfe, 0x2b, 0x46, 0x0d, 0x0a, 0x99, 0x0a]) };
    if (fault === 'error') return { delayMs: d, bytes: Buffer.from('ERROR\r\n') };
    return { delayMs: d, bytes: Buffer.from(this.answer(line.toUpperCase())) };
  }

  private answer(cmd: string): string {
    const ok = (...lines: string[]) => lines.map((l) => `${l}\r\n`).join('') + 'OK\r\n';
    if (cmd === 'AT') return ok();
    const fre = /^AT\+FRE=(\d{4,5})$/.exec(cmd);
    if (fre) {
      const f = Number(fre[1]);
      if (f < 8700 || f > 10800) return 'ERROR\r\n';
      this.freq = f;
      return ok();
    }
    if (cmd === 'AT+FRE?') return ok(`+FRE: ${this.freq}`);
    if (cmd === 'AT+RSSI?') return ok(`+RSSI: ${this.config.stations[this.freq] ?? this.config.noiseRssi}`);
    if (cmd === 'AT+ST?') return ok(`+ST: ${(this.config.stations[this.freq] ?? 0) >= 30 ? 1 : 0}`);
    const vol = /^AT\+VOL=(\d{1,2})$/.exec(cmd);
    if (vol && Number(vol[1]) <= 15) {
      this.volume = Number(vol[1]);
      return ok();
    }
    const mute = /^AT\+MUTE=([01])$/.exec(cmd);
    if (mute) {
      this.muted = mute[1] === '1';
      return ok();
    }
    return 'ERROR\r\n';
  }
}

export class SimFmTransport extends SimSerialTransport {
  constructor(options: { device: SimFmDevice; timers?: Timers }) {
    super(options);
  }
}
