/**
 * Watches the modem: polls its semantics layer, keeps the latest status (the shape of
 * Health.modem), counts consecutive failed polls and power-cycles the modem through its
 * relay after `failuresBeforeCycle` of them. Also serves the modem's network time as a clock
 * source: the last trusted reading advanced by a monotonic clock.
 *
 * Power relay wiring: by default the relay is normally-closed in the modem's supply, so
 * energising it (write(true)) cuts the power and the safe state (all relays off) keeps the
 * modem powered. Set `cutWhenActive: false` for a normally-open wiring.
 */
import { type Clock, globalTimers, isLoaError, systemClock, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { OutputPin } from '../../drivers/gpio/types.js';
import type { Modem, NetworkTime, Registration, Signal } from '../../drivers/modem/types.js';
import { Emitter } from '../../events.js';

export interface ModemHealth {
  rssiDbm: number | null;
  operator: string | null;
  registration: Registration;
  tech?: string;
  iccid?: string;
  failures?: number;
}

export interface ModemTimeReading {
  /** UTC instant the modem reported. */
  utcMs: number;
  tzQuarterHours: number;
  trusted: boolean;
  /** Monotonic time (ms) when it was read. */
  readAtMono: number;
  /** Local wall clock when it was read (for logs; not used to compute time). */
  readAtWall: number;
}

/** What the supervisor tells after each poll, failure, power cycle and network-time reading. */
export type ModemEvents = {
  status: ModemHealth;
  failure: { code: string; failures: number };
  'power-cycle': { failures: number; cycles: number };
  time: ModemTimeReading;
};

export interface ModemSupervisorOptions {
  modem: Modem;
  logger: Logger;
  /** Modem power relay; without it the supervisor only reports. */
  power?: OutputPin;
  cutWhenActive?: boolean;
  /** Poll period (ms). Default 60 000. */
  pollMs?: number;
  /** Consecutive failed polls before a power cycle. Default 3. */
  failuresBeforeCycle?: number;
  /** Power-off time during a cycle (ms). Default 5000. */
  powerOffMs?: number;
  /** Wait after power-on before polling again (ms). Default 30 000 (EC25 boots in ≈13 s). */
  bootMs?: number;
  /**
   * Longest wait after a power cycle when cycles keep failing: the wait after power-on doubles
   * with each cycle that is not followed by a good poll, up to this (ms). Default 1 hour.
   */
  maxCycleWaitMs?: number;
  clock?: Clock;
  /** Monotonic milliseconds; default performance.now(). */
  monotonic?: () => number;
  timers?: Timers;
}

export class ModemSupervisor extends Emitter<ModemEvents> {
  private readonly modem: Modem;
  private readonly log: Logger;
  private readonly power: OutputPin | undefined;
  private readonly cutWhenActive: boolean;
  private readonly pollMs: number;
  private readonly failuresBeforeCycle: number;
  private readonly powerOffMs: number;
  private readonly bootMs: number;
  private readonly maxCycleWaitMs: number;
  private cyclesSinceSuccess = 0;
  private readonly clock: Clock;
  private readonly mono: () => number;
  private readonly timers: Timers;
  private latest: ModemHealth | null = null;
  private time: ModemTimeReading | null = null;
  private iccid: string | undefined;
  private failures = 0;
  private cycles = 0;
  private timer: unknown = null;
  private running = false;
  private polling: Promise<void> | null = null;
  private cycling = false;

  constructor(options: ModemSupervisorOptions) {
    super();
    this.modem = options.modem;
    this.log = options.logger.child({ module: 'modem-supervisor' });
    this.power = options.power;
    this.cutWhenActive = options.cutWhenActive ?? true;
    this.pollMs = options.pollMs ?? 60_000;
    this.failuresBeforeCycle = options.failuresBeforeCycle ?? 3;
    this.powerOffMs = options.powerOffMs ?? 5000;
    this.bootMs = options.bootMs ?? 30_000;
    this.maxCycleWaitMs = options.maxCycleWaitMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
    this.mono = options.monotonic ?? (() => performance.now());
    this.timers = options.timers ?? globalTimers;
  }

  /** Powers the modem (relay released), starts its stack and the first poll at once. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.power) await this.power.write(!this.cutWhenActive);
    await this.modem.start();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.polling?.catch(() => undefined);
    // Leave the modem powered (a stop during a power cycle must not leave it off).
    if (this.power && this.cycling) await this.power.write(!this.cutWhenActive);
    this.cycling = false;
    await this.modem.stop();
  }

  /** Latest status for health (null before the first successful poll). */
  status(): ModemHealth | null {
    if (!this.latest) return null;
    return { ...this.latest, failures: this.failures };
  }

  /** Consecutive failed polls and power cycles so far. */
  counters(): { failures: number; cycles: number } {
    return { failures: this.failures, cycles: this.cycles };
  }

  /** The latest trusted network-time reading (or the latest untrusted one if none was ever trusted). */
  lastTime(): ModemTimeReading | null {
    return this.time;
  }

  /**
   * Current time according to the modem (a clock source for clock trust): the last trusted
   * reading advanced by monotonic time. null when no trusted reading was ever taken.
   */
  networkNow(): { utcMs: number; ageMs: number } | null {
    if (!this.time?.trusted) return null;
    const ageMs = this.mono() - this.time.readAtMono;
    return { utcMs: this.time.utcMs + ageMs, ageMs };
  }

  /** Polls now (also used by the technician page); resolves when the poll is done. */
  pollNow(): Promise<void> {
    if (!this.polling) {
      this.polling = this.poll().finally(() => {
        this.polling = null;
      });
    }
    return this.polling;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.pollNow()
        .catch((err: unknown) => this.log.error({ err }, 'modem poll crashed'))
        .finally(() => {
          if (!this.cycling) this.schedule(this.pollMs);
        });
    }, ms);
  }

  private async poll(): Promise<void> {
    let signal: Signal;
    let registration: Registration;
    try {
      registration = await this.modem.registration();
      signal = await this.modem.signal();
    } catch (err) {
      await this.failed(err);
      return;
    }
    this.failures = 0;
    this.cyclesSinceSuccess = 0;
    const status: ModemHealth = { rssiDbm: signal.dbm, operator: null, registration };
    const registered = registration === 'home' || registration === 'roaming';
    // The rest is informative: a failure here is reported but does not count towards a cycle.
    try {
      if (registered) {
        const op = await this.modem.operator();
        status.operator = op.name;
        if (op.tech) status.tech = op.tech;
      }
      this.iccid ??= await this.modem.iccid();
      if (this.iccid) status.iccid = this.iccid;
      if (registered) await this.readTime();
    } catch (err) {
      this.log.warn({ err, code: codeOf(err) }, 'modem detail query failed');
    }
    this.latest = status;
    this.emit('status', { ...status, failures: 0 });
  }

  private async readTime(): Promise<void> {
    const t: NetworkTime = await this.modem.networkTime();
    const reading: ModemTimeReading = { ...t, readAtMono: this.mono(), readAtWall: this.clock.now() };
    this.time = t.trusted || !this.time?.trusted ? reading : this.time;
    this.emit('time', reading);
  }

  private async failed(err: unknown): Promise<void> {
    this.failures++;
    const code = codeOf(err);
    this.log.warn({ err, code, failures: this.failures }, 'modem poll failed');
    if (this.latest) this.latest = { ...this.latest, rssiDbm: null, registration: 'unknown' };
    else this.latest = { rssiDbm: null, operator: null, registration: 'unknown' };
    this.emit('failure', { code, failures: this.failures });
    // Every N consecutive failures: one cycle, then N more tries after the boot wait.
    if (this.failures % this.failuresBeforeCycle === 0 && this.power) await this.powerCycle();
  }

  private async powerCycle(): Promise<void> {
    const power = this.power;
    if (!power || !this.running || this.cycling) return;
    this.cycling = true;
    this.cycles++;
    this.cyclesSinceSuccess++;
    this.log.warn({ failures: this.failures, cycles: this.cycles }, 'power-cycling the modem');
    this.emit('power-cycle', { failures: this.failures, cycles: this.cycles });
    await power.write(this.cutWhenActive);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (!this.running) return;
      power
        .write(!this.cutWhenActive)
        .catch((err: unknown) => this.log.error({ err }, 'modem power-on failed'))
        .finally(() => {
          this.cycling = false;
          // A modem that stays dead is not cycled every few minutes for weeks.
          const wait = this.bootMs * 2 ** Math.min(this.cyclesSinceSuccess - 1, 20);
          this.schedule(Math.min(wait, Math.max(this.bootMs, this.maxCycleWaitMs)));
        });
    }, this.powerOffMs);
  }
}

function codeOf(err: unknown): string {
  return isLoaError(err) ? err.code : 'MODEM_FAILURE';
}
