/**
 * Station inputs: mains power present, cabinet door, amplifier fault.
 * Each pin's logical value (after the driver's contact-bounce filter) must stay unchanged for a
 * hold time before it is reported, so a flickering mains supply or a rattling door does not
 * flood health and logs. Gives the current state (the shape of Health.inputs) and change events.
 *
 * Logical meaning of each pin (set activeLow in the pin config to match the wiring):
 * mains active = mains present; door active = door open; ampFault active = fault.
 */
import { type Clock, globalTimers, systemClock, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { InputPin } from '../../drivers/gpio/types.js';
import { Emitter } from '../../events.js';

export type InputName = 'mains' | 'door' | 'ampFault';

export interface InputsState {
  /** null: not wired or not read yet. */
  mains: boolean | null;
  door: 'open' | 'closed' | null;
  ampFault: boolean | null;
}

export interface InputChange {
  input: InputName;
  active: boolean;
  at: number;
  state: InputsState;
}

export interface InputsOptions {
  pins: Partial<Record<InputName, InputPin>>;
  logger: Logger;
  /** How long a new value must hold before it is reported (ms). */
  holdMs?: Partial<Record<InputName, number>>;
  clock?: Clock;
  timers?: Timers;
}

export const INPUT_HOLD_DEFAULTS: Record<InputName, number> = { mains: 1000, door: 300, ampFault: 500 };

const NAMES: readonly InputName[] = ['mains', 'door', 'ampFault'];

export class Inputs extends Emitter<{ change: InputChange }> {
  private readonly pins: Partial<Record<InputName, InputPin>>;
  private readonly log: Logger;
  private readonly hold: Record<InputName, number>;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly reported: Partial<Record<InputName, boolean>> = {};
  private readonly pending: Partial<Record<InputName, { value: boolean; handle: unknown }>> = {};
  private readonly unwatch: Array<() => void> = [];

  constructor(options: InputsOptions) {
    super();
    this.pins = options.pins;
    this.log = options.logger.child({ module: 'inputs' });
    this.hold = { ...INPUT_HOLD_DEFAULTS, ...options.holdMs };
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? globalTimers;
  }

  /** Reads every wired input once (reported at once, no hold) and starts watching. */
  async start(): Promise<void> {
    for (const name of NAMES) {
      const pin = this.pins[name];
      if (!pin) continue;
      this.unwatch.push(pin.watch((active) => this.raw(name, active)));
      this.reported[name] = await pin.read();
    }
    this.log.info({ inputs: this.state() }, 'inputs read');
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    for (const name of NAMES) this.cancel(name);
  }

  state(): InputsState {
    const door = this.reported.door;
    return {
      mains: this.reported.mains ?? null,
      door: door === undefined ? null : door ? 'open' : 'closed',
      ampFault: this.reported.ampFault ?? null,
    };
  }

  private raw(name: InputName, active: boolean): void {
    const current = this.pending[name];
    if (current?.value === active) return;
    this.cancel(name);
    if (this.reported[name] === active) return; // flicker that came back: nothing to report
    const handle = this.timers.setTimeout(() => {
      delete this.pending[name];
      this.report(name, active);
    }, this.hold[name]);
    this.pending[name] = { value: active, handle };
  }

  private cancel(name: InputName): void {
    const p = this.pending[name];
    if (p) this.timers.clearTimeout(p.handle);
    delete this.pending[name];
  }

  private report(name: InputName, active: boolean): void {
    this.reported[name] = active;
    const change: InputChange = { input: name, active, at: this.clock.now(), state: this.state() };
    const level = (name === 'mains' && !active) || (name === 'ampFault' && active) ? 'warn' : 'info';
    this.log[level]({ input: name, active }, 'input changed');
    this.emit('change', change);
  }
}
