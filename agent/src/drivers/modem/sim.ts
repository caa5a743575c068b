/**
 * Simulated Quectel EC25: a device model that answers AT commands as the real modem does
 * (echo, +CSQ, +COPS, +CREG/+CEREG, +QCCID, +CCLK with the quarter-hour zone, RDY after
 * power-on) and can be scripted to misbehave: no reply, garbage bytes, ERROR, +CME ERROR,
 * slow replies, a USB drop-out, or a hang that only a power cycle clears.
 *
 * SimModemDevice is the model; SimModemTransport is a LineTransport that carries its bytes
 * through the same line splitter as the real transport. Tests also bridge the model onto
 * serialport's mock binding to exercise the real transport.
 */

import type { Timers } from '@loa/protocol';
import { type Clock, systemClock } from '@loa/protocol';
import type { OutputPin } from '../gpio/types.js';
import { type SimReply, type SimSerialDevice, SimSerialTransport } from '../serial/sim-transport.js';

export type ModemFault = 'silent' | 'garbage' | 'garbage-ok' | 'error' | 'cme' | 'slow' | 'dropout';

export interface SimModemConfig {
  rssi: number;
  ber: number;
  operator: string | null;
  /** 27.007 AcT: 7 = LTE. */
  act: number;
  creg: number;
  cereg: number;
  /** null: no SIM (+CME ERROR: 10). */
  iccid: string | null;
  /** Zone in quarter-hours (Vietnam +28). */
  tzQuarterHours: number;
  /** false: the modem has not had NITZ; CCLK shows the power-on default 80/01/06. */
  nitz: boolean;
  /** Reply latency (ms). */
  latencyMs: number;
  /** Latency of a 'slow' fault (ms). */
  slowMs: number;
  /** Time the modem takes to boot after power-on (ms). */
  bootMs: number;
}

export const EC25_DEFAULTS: SimModemConfig = {
  rssi: 22,
  ber: 99,
  operator: 'Viettel',
  act: 7,
  creg: 1,
  cereg: 1,
  iccid: '89840480001234567890',
  tzQuarterHours: 28,
  nitz: true,
  latencyMs: 5,
  slowMs: 8000,
  bootMs: 50,
};

export class SimModemDevice implements SimSerialDevice {
  readonly config: SimModemConfig;
  private readonly clock: Clock;
  private echo = true;
  private faults: Array<{ fault: ModemFault; match: RegExp | null }> = [];
  private hung = false;
  private powered = true;
  /** Every command received, for tests. */
  readonly received: string[] = [];
  private readonly powerListeners = new Set<(powered: boolean) => void>();

  constructor(config: Partial<SimModemConfig> = {}, clock: Clock = systemClock) {
    this.config = { ...EC25_DEFAULTS, ...config };
    this.clock = clock;
  }

  /** The next `count` commands (matching `match`, if given) suffer `fault`. */
  inject(fault: ModemFault, count = 1, match?: RegExp): void {
    for (let i = 0; i < count; i++) this.faults.push({ fault, match: match ?? null });
  }

  /** The modem stops answering anything until it is power-cycled. */
  hang(): void {
    this.hung = true;
  }

  get bootMs(): number {
    return this.config.bootMs;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  setPowered(on: boolean): void {
    if (on === this.powered) return;
    this.powered = on;
    if (!on) {
      this.hung = false;
      this.faults = [];
      this.echo = true;
    }
    for (const l of this.powerListeners) l(on);
  }

  onPower(listener: (powered: boolean) => void): () => void {
    this.powerListeners.add(listener);
    return () => this.powerListeners.delete(listener);
  }

  /** Bytes the modem sends once booted. */
  bootBytes(): Buffer {
    return Buffer.from(
      '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n',
    );
  }

  /** Handles one command line (without '\r'); null: the modem says nothing. */
  handle(command: string): SimReply | null {
    this.received.push(command);
    if (!this.powered || this.hung) return null;
    const echo = this.echo ? `${command}\r\n` : '';
    const idx = this.faults.findIndex((f) => f.match === null || f.match.test(command));
    const fault = idx >= 0 ? this.faults.splice(idx, 1)[0]?.fault : undefined;
    const d = this.config.latencyMs;
    switch (fault) {
      case 'silent':
        return null;
      case 'garbage':
        return { delayMs: d, bytes: Buffer.concat([Buffer.from(echo), garbage()]) };
      case 'garbage-ok':
        return {
          delayMs: d,
          bytes: Buffer.concat([Buffer.from(echo), garbage(), Buffer.from('\r\nOK\r\n')]),
        };
      case 'error':
        return { delayMs: d, bytes: Buffer.from(`${echo}\r\nERROR\r\n`) };
      case 'cme':
        return { delayMs: d, bytes: Buffer.from(`${echo}\r\n+CME ERROR: 100\r\n`) };
      case 'dropout':
        return { delayMs: d, bytes: Buffer.alloc(0), dropout: true };
      case 'slow':
        return { delayMs: this.config.slowMs, bytes: Buffer.from(echo + this.answer(command)) };
      default:
        return { delayMs: d, bytes: Buffer.from(echo + this.answer(command)) };
    }
  }

  private answer(command: string): string {
    const c = this.config;
    const cmd = command.toUpperCase();
    const ok = (...lines: string[]) => lines.map((l) => `\r\n${l}\r\n`).join('') + '\r\nOK\r\n';
    switch (cmd) {
      case 'AT':
      case 'AT+CMEE=1':
      case 'AT+CMEE=2':
        return ok();
      case 'ATE0':
        this.echo = false;
        return ok();
      case 'ATE1':
        this.echo = true;
        return ok();
      case 'ATI':
        return ok('Quectel', 'EC25', 'Revision: EC25EFAR06A06M4G');
      case 'AT+CPIN?':
        return c.iccid === null ? '\r\n+CME ERROR: 10\r\n' : ok('+CPIN: READY');
      case 'AT+CSQ':
        return ok(`+CSQ: ${c.rssi},${c.ber}`);
      case 'AT+COPS?':
        return c.operator === null ? ok('+COPS: 0') : ok(`+COPS: 0,0,"${c.operator}",${c.act}`);
      case 'AT+CREG?':
        return ok(`+CREG: 0,${c.creg}`);
      case 'AT+CEREG?':
        return ok(`+CEREG: 0,${c.cereg}`);
      case 'AT+CGREG?':
        return ok(`+CGREG: 0,${c.creg}`);
      case 'AT+QCCID':
        return c.iccid === null ? '\r\n+CME ERROR: 10\r\n' : ok(`+QCCID: ${c.iccid}`);
      case 'AT+CCLK?':
        return ok(`+CCLK: "${this.cclk()}"`);
      default:
        return '\r\nERROR\r\n';
    }
  }

  private cclk(): string {
    const c = this.config;
    if (!c.nitz) return '80/01/06,00:01:07+00';
    const local = new Date(this.clock.now() + c.tzQuarterHours * 15 * 60_000);
    const p = (n: number) => String(n).padStart(2, '0');
    const tz = c.tzQuarterHours >= 0 ? `+${p(c.tzQuarterHours)}` : `-${p(-c.tzQuarterHours)}`;
    return (
      `${p(local.getUTCFullYear() % 100)}/${p(local.getUTCMonth() + 1)}/${p(local.getUTCDate())},` +
      `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${tz}`
    );
  }
}

function garbage(): Buffer {
  // Line noise as a flaky USB link shows it: high bytes, NULs, a partial URC, no final code.
  return Buffer.from([
    0x0d, 0x0a, 0xff, 0xfe, 0x00, 0x2b, 0x43, 0x53, 0x9f, 0x0d, 0x0a, 0x7e, 0x80, 0x0d, 0x0a,
  ]);
}

/** A LineTransport whose far end is a SimModemDevice (see serial/sim-transport.ts). */
export class SimModemTransport extends SimSerialTransport {
  constructor(options: { device: SimModemDevice; timers?: Timers; dropoutMs?: number }) {
    super(options);
  }
}

/**
 * Wraps the modem power relay so the simulated modem follows it. `cutWhenActive`: the relay
 * is wired normally-closed, so energising it cuts the modem's power (the safe state keeps the
 * modem powered).
 */
export function linkPowerRelay(pin: OutputPin, device: SimModemDevice, cutWhenActive = true): OutputPin {
  return {
    name: pin.name,
    pin: pin.pin,
    read: () => pin.read(),
    write: async (active: boolean) => {
      await pin.write(active);
      device.setPowered(active !== cutWhenActive);
    },
  };
}
