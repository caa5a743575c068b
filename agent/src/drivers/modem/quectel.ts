/**
 * Modem semantics for Quectel EC2x-class modems (generic 27.007 commands, with Quectel's
 * AT+QCCID and a fallback to AT+CCID). Runs on any AtChannel: the real serial port or the
 * simulated modem.
 */

import type { Timers } from '@loa/protocol';
import { isLoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import { AtCommandChannel } from '../serial/at-channel.js';
import type { AtChannel, LineTransport } from '../serial/types.js';
import { combineRegistration, parseCclk, parseCops, parseCsq, parseIccid, parseReg } from './parse.js';
import type { Modem, NetworkTime, Operator, Registration, Signal } from './types.js';

export interface QuectelModemOptions {
  channel: AtChannel;
  logger: Logger;
  /** Lifecycle of the layers below (transport + channel), started and stopped with the modem. */
  lower?: { start(): Promise<void> | void; stop(): Promise<void> | void };
  /** Network time before this year is treated as the modem's power-on default. Default 2024. */
  minTrustedYear?: number;
}

export class QuectelModem implements Modem {
  private readonly at: AtChannel;
  private readonly log: Logger;
  private readonly lower: QuectelModemOptions['lower'];
  private readonly minTrustedYear: number;

  constructor(options: QuectelModemOptions) {
    this.at = options.channel;
    this.log = options.logger.child({ module: 'modem' });
    this.lower = options.lower;
    this.minTrustedYear = options.minTrustedYear ?? 2024;
  }

  async start(): Promise<void> {
    await this.lower?.start();
  }

  async stop(): Promise<void> {
    await this.lower?.stop();
  }

  /** Echo off and verbose errors; best effort (a modem that refuses still answers queries). */
  async configure(): Promise<void> {
    for (const cmd of ['ATE0', 'AT+CMEE=1']) {
      try {
        await this.at.send(cmd);
      } catch (err) {
        this.log.warn({ err, cmd }, 'modem setup command failed');
      }
    }
  }

  async signal(): Promise<Signal> {
    return parseCsq((await this.at.send('AT+CSQ')).lines);
  }

  async operator(): Promise<Operator> {
    return parseCops((await this.at.send('AT+COPS?', { timeoutMs: 10_000 })).lines);
  }

  async registration(): Promise<Registration> {
    const creg = parseReg((await this.at.send('AT+CREG?')).lines, '+CREG:');
    if (creg === 'home' || creg === 'roaming') return creg;
    try {
      return combineRegistration(creg, parseReg((await this.at.send('AT+CEREG?')).lines, '+CEREG:'));
    } catch (err) {
      // Modems without LTE answer ERROR to CEREG: the CREG answer stands.
      if (isLoaError(err) && (err.code === 'AT_ERROR' || err.code === 'AT_CME_ERROR')) return creg;
      throw err;
    }
  }

  async iccid(): Promise<string> {
    try {
      return parseIccid((await this.at.send('AT+QCCID')).lines);
    } catch (err) {
      // Plain ERROR: the command is not supported (non-Quectel), try the generic one.
      // +CME ERROR is the SIM's answer (e.g. 10, SIM not inserted): report it as is.
      if (!isLoaError(err) || err.code !== 'AT_ERROR') throw err;
      return parseIccid((await this.at.send('AT+CCID')).lines);
    }
  }

  /** The modem's clock; trusted only when plausible and the modem is registered (NITZ). */
  async networkTime(): Promise<NetworkTime> {
    const t = parseCclk((await this.at.send('AT+CCLK?')).lines, { minTrustedYear: this.minTrustedYear });
    let registered = false;
    if (t.plausible) {
      const reg = await this.registration();
      registered = reg === 'home' || reg === 'roaming';
    }
    return { utcMs: t.utcMs, tzQuarterHours: t.tzQuarterHours, trusted: t.plausible && registered };
  }
}

/** Builds the stack transport → AT channel → semantics over any LineTransport (real or sim). */
export function createQuectelModem(
  transport: LineTransport,
  options: { logger: Logger; timeoutMs?: number; minTrustedYear?: number; timers?: Timers },
): { modem: QuectelModem; channel: AtCommandChannel } {
  const channel = new AtCommandChannel({
    transport,
    logger: options.logger,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  });
  const modem = new QuectelModem({
    channel,
    logger: options.logger,
    ...(options.minTrustedYear === undefined ? {} : { minTrustedYear: options.minTrustedYear }),
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
  return { modem, channel };
}
