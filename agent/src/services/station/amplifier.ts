/**
 * Executes the amplifier sequencing rules (domain/amplifier.ts) on GPIO relays with timers.
 * Implements OutputGate for the player. Mute is the player's callback (setMuteHandler) and/or
 * a mute relay. Relay state reported by relays() is read back from the pins.
 */
import { type Clock, globalTimers, LoaError, type RelayState, systemClock, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import {
  AMP_DEFAULTS,
  type AmpAction,
  type AmpConfig,
  type AmpEvent,
  type AmpState,
  type AudioInput,
  ampStep,
  initialAmpState,
  unknownZones,
} from '../../domain/amplifier.js';
import type { OutputPin } from '../../drivers/gpio/types.js';
import { Emitter } from '../../events.js';
import type { OutputGate } from '../playback/ports.js';

export type MuteHandler = (muted: boolean) => void | Promise<void>;

export type { Timers };

export interface AmplifierRelays {
  amplifier: OutputPin;
  /** One relay per zone, keyed by zone name. */
  zones?: Record<string, OutputPin>;
  /** Input-select relays: energised selects that source; none energised selects the player. */
  inputs?: { fm?: OutputPin; line?: OutputPin };
  /** Optional hardware mute relay (energised = muted). */
  mute?: OutputPin;
}

export interface AmplifierOptions {
  relays: AmplifierRelays;
  logger: Logger;
  warmupMs?: number;
  idleTailMs?: number;
  settleMs?: number;
  clock?: Clock;
  timers?: Timers;
  mute?: MuteHandler;
}

/** 'change': the sequencing state after each step (phase, relays, muted). */
export type AmplifierEvents = { change: Readonly<AmpState> };

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Amplifier extends Emitter<AmplifierEvents> implements OutputGate {
  readonly warmupMs: number;
  private readonly config: AmpConfig;
  private readonly relaysCfg: AmplifierRelays;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private muteHandler: MuteHandler | undefined;
  private state: AmpState;
  private waiters: Waiter[] = [];
  private timer: unknown = null;
  private chain: Promise<void> = Promise.resolve();
  private started = false;

  constructor(options: AmplifierOptions) {
    super();
    this.relaysCfg = options.relays;
    this.log = options.logger.child({ module: 'amplifier' });
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? globalTimers;
    this.muteHandler = options.mute;
    this.config = {
      zones: Object.keys(options.relays.zones ?? {}),
      warmupMs: options.warmupMs ?? AMP_DEFAULTS.warmupMs,
      idleTailMs: options.idleTailMs ?? AMP_DEFAULTS.idleTailMs,
      settleMs: options.settleMs ?? AMP_DEFAULTS.settleMs,
    };
    this.warmupMs = this.config.warmupMs;
    this.state = initialAmpState(this.config);
  }

  /** The player registers its output mute here (it is created after the amplifier). */
  setMuteHandler(handler: MuteHandler | undefined): void {
    this.muteHandler = handler;
  }

  /** Boot: drive every relay to the safe state. */
  async start(): Promise<void> {
    this.started = true;
    await this.safe();
  }

  async stop(): Promise<void> {
    await this.safe();
    this.started = false;
  }

  /** Amplifier off at once, zones and input relays released, waiting ready() calls rejected. */
  safe(): Promise<void> {
    return this.dispatch({ type: 'safe', at: this.clock.now() });
  }

  ready(zones?: readonly string[]): Promise<void> {
    if (!this.started) {
      return Promise.reject(
        new LoaError('AMP_STOPPED', 'Bộ khuếch đại chưa khởi động (amplifier not started)'),
      );
    }
    if (zones) {
      const unknown = unknownZones(this.config, zones);
      if (unknown.length > 0) {
        return Promise.reject(
          new LoaError('AMP_ZONE_UNKNOWN', `Vùng loa không có trong cấu hình: ${unknown.join(', ')}`, {
            details: { zones: unknown },
          }),
        );
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.dispatch({ type: 'ready', at: this.clock.now(), zones }).catch(reject);
    });
  }

  idle(): void {
    this.dispatch({ type: 'idle', at: this.clock.now() }).catch((err: unknown) =>
      this.log.error({ err }, 'amplifier idle failed'),
    );
  }

  /** Routes a source to the amplifier through the input-select relays (switches only muted). */
  async selectInput(input: AudioInput): Promise<void> {
    if (input !== 'player' && !this.relaysCfg.inputs?.[input]) {
      throw new LoaError('AMP_INPUT_UNAVAILABLE', `Không có rơ-le chọn nguồn cho "${input}"`, {
        details: { input },
      });
    }
    await this.dispatch({ type: 'input', at: this.clock.now(), input });
  }

  relays(): RelayState {
    const zones = this.relaysCfg.zones;
    const state: RelayState = { amplifier: this.relaysCfg.amplifier.read() };
    if (zones && Object.keys(zones).length > 0) {
      state.zones = Object.fromEntries(Object.entries(zones).map(([z, pin]) => [z, pin.read()]));
    }
    const inputs = this.relaysCfg.inputs;
    if (inputs?.fm || inputs?.line) {
      state.input = inputs.fm?.read() ? 'fm' : inputs.line?.read() ? 'line' : 'player';
    }
    return state;
  }

  /** The sequencing state (phase, muted, …) for health and the technician page. */
  snapshot(): Readonly<AmpState> {
    return this.state;
  }

  /** Steps the rules and executes the actions; steps are serialised. */
  private dispatch(event: AmpEvent): Promise<void> {
    const run = async (): Promise<void> => {
      if (event.type === 'safe') {
        // Write every relay inactive whatever the believed state (boot, crash-restart).
        const all = Object.fromEntries(this.config.zones.map((z) => [z, true]));
        this.state = { ...initialAmpState(this.config), amplifier: true, input: 'fm', zones: all };
      }
      const at = event.type === 'timer' ? Math.max(event.at, this.clock.now()) : this.clock.now();
      const { state, actions } = ampStep(this.state, { ...event, at }, this.config);
      this.state = state;
      for (const action of actions) {
        if (action.type === 'timer' && action.at !== null) {
          await this.execute({ type: 'timer', at: this.shifted(action.at, at) });
          continue;
        }
        await this.execute(action);
      }
      this.emit('change', this.state);
    };
    const next = this.chain.then(run);
    // Keep the chain alive after a failure; the caller still sees the error.
    this.chain = next.catch((err: unknown) => {
      this.log.error({ err, event: event.type }, 'amplifier step failed');
    });
    return next;
  }

  /**
   * A step's timer counts from when its relays switched, not from when it was asked: the mute
   * before a zone switch can take most of a second (a starved decoder), and that time must not
   * be taken from the relays' settling (or the amplifier's warm-up).
   */
  private shifted(due: number, stepAt: number): number {
    const lag = Math.max(0, this.clock.now() - stepAt);
    if (lag === 0) return due;
    const s = this.state;
    this.state = {
      ...s,
      deadline: s.deadline === due ? due + lag : s.deadline,
      warmUntil: s.warmUntil === due ? due + lag : s.warmUntil,
    };
    return due + lag;
  }

  private async execute(action: AmpAction): Promise<void> {
    const r = this.relaysCfg;
    switch (action.type) {
      case 'mute':
        if (r.mute) await r.mute.write(action.muted);
        if (this.muteHandler) await this.muteHandler(action.muted);
        return;
      case 'amplifier':
        this.log.info({ on: action.on }, 'amplifier relay');
        await r.amplifier.write(action.on);
        return;
      case 'zone': {
        const pin = r.zones?.[action.zone];
        if (pin) await pin.write(action.on);
        return;
      }
      case 'input':
        // Release the other source first, then select (never two sources on the bus).
        if (action.input !== 'fm' && r.inputs?.fm) await r.inputs.fm.write(false);
        if (action.input !== 'line' && r.inputs?.line) await r.inputs.line.write(false);
        if (action.input !== 'player') await r.inputs?.[action.input]?.write(true);
        return;
      case 'timer':
        this.armTimer(action.at);
        return;
      case 'ready': {
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) w.resolve();
        return;
      }
      case 'abort': {
        const waiting = this.waiters;
        this.waiters = [];
        const err =
          action.reason === 'safe'
            ? new LoaError('AMP_SAFE', 'Bộ khuếch đại đã về trạng thái an toàn (tắt)')
            : new LoaError('AMP_CANCELLED', 'Yêu cầu phát đã bị hủy trước khi bộ khuếch đại sẵn sàng');
        for (const w of waiting) w.reject(err);
        return;
      }
    }
  }

  private armTimer(at: number | null): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (at === null) return;
    const delay = Math.max(0, at - this.clock.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      // The timer is due at `at` even if the injected clock lags the timer functions.
      this.dispatch({ type: 'timer', at }).catch(() => undefined);
    }, delay);
  }
}
