/**
 * Simulated GPIO: pin state in memory. Outputs record a timeline of writes stamped by the
 * injected clock (tests assert relay sequences on it); inputs are driven by setInput() (the
 * simulator or a test) and pass the same contact-bounce filter as the real driver.
 */
import { type Clock, globalTimers, LoaError, systemClock, type Timers } from '@loa/protocol';
import { validateBcmPin } from './chip-map.js';
import type {
  GpioDriver,
  InputListener,
  InputPin,
  InputPinConfig,
  OutputPin,
  OutputPinConfig,
  RelayWrite,
} from './types.js';

export interface SimGpioOptions {
  clock?: Clock;
  timers?: Timers;
  /** Timeline length kept in memory (oldest dropped). Default 10000. */
  maxTimeline?: number;
}

interface SimInput {
  config: InputPinConfig;
  /** Electrical level as last set by setInput (true = high). */
  level: boolean;
  /** Debounced logical value. */
  value: boolean;
  pending: unknown;
  listeners: Set<InputListener>;
}

interface SimOutput {
  config: OutputPinConfig;
  value: boolean;
}

export class SimGpio implements GpioDriver {
  /** Every output write, oldest first. */
  readonly timeline: RelayWrite[] = [];
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly maxTimeline: number;
  private readonly outputsByPin = new Map<number, SimOutput>();
  private readonly inputsByPin = new Map<number, SimInput>();
  private readonly releaseHooks = new Map<number, () => void>();
  private closed = false;

  constructor(options: SimGpioOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? globalTimers;
    this.maxTimeline = options.maxTimeline ?? 10_000;
  }

  async output(config: OutputPinConfig): Promise<OutputPin> {
    this.claim(config.pin, config.name);
    const out: SimOutput = { config, value: false };
    this.outputsByPin.set(config.pin, out);
    this.record(out, config.initial ?? false);
    let released = false;
    const pin: OutputPin = {
      name: config.name,
      pin: config.pin,
      write: async (active: boolean) => {
        if (released || this.closed) throw closedError(config);
        this.record(out, active);
      },
      read: () => out.value,
    };
    this.releaseHooks.set(config.pin, () => {
      released = true;
    });
    return pin;
  }

  async input(config: InputPinConfig): Promise<InputPin> {
    this.claim(config.pin, config.name);
    const activeLow = config.activeLow ?? false;
    // Idle level: a pull-up on active-low inputs, a pull-down otherwise (logically inactive).
    const level = activeLow;
    const inp: SimInput = { config, level, value: false, pending: null, listeners: new Set() };
    this.inputsByPin.set(config.pin, inp);
    return {
      name: config.name,
      pin: config.pin,
      read: async () => {
        if (this.closed) throw closedError(config);
        return inp.value;
      },
      watch: (listener: InputListener) => {
        inp.listeners.add(listener);
        return () => inp.listeners.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const out of this.outputsByPin.values()) if (out.value) this.record(out, false);
    for (const inp of this.inputsByPin.values()) {
      if (inp.pending !== null) this.timers.clearTimeout(inp.pending);
      inp.listeners.clear();
    }
    for (const release of this.releaseHooks.values()) release();
    this.closed = true;
  }

  /**
   * Sets an input's logical value (true = active: mains present, door open, fault), by pin name
   * or BCM number. The electrical level follows from the pin's activeLow (see inputLevel()).
   * The change is reported after the pin's debounce time if it still holds.
   */
  setInput(nameOrPin: string | number, active: boolean): void {
    const inp = this.findInput(nameOrPin);
    const activeLow = inp.config.activeLow ?? false;
    inp.level = active !== activeLow;
    if (inp.pending !== null) this.timers.clearTimeout(inp.pending);
    inp.pending = null;
    if (active === inp.value) return;
    const debounceMs = inp.config.debounceMs ?? 20;
    const apply = () => {
      inp.pending = null;
      inp.value = active;
      for (const l of inp.listeners) l(active);
    };
    if (debounceMs <= 0) apply();
    else inp.pending = this.timers.setTimeout(apply, debounceMs);
  }

  /** The electrical level of an input (true = high), for tests of the active-low handling. */
  inputLevel(nameOrPin: string | number): boolean {
    return this.findInput(nameOrPin).level;
  }

  /** Current logical value of every output, by name. */
  outputs(): Record<string, boolean> {
    return Object.fromEntries([...this.outputsByPin.values()].map((o) => [o.config.name, o.value]));
  }

  /** Writes to the named output, oldest first, for sequence assertions. */
  writesOf(name: string): RelayWrite[] {
    return this.timeline.filter((w) => w.name === name);
  }

  private claim(pin: number, name: string): void {
    if (this.closed) throw new LoaError('GPIO_CLOSED', 'GPIO đã đóng', { details: { pin, name } });
    validateBcmPin(pin);
    if (this.outputsByPin.has(pin) || this.inputsByPin.has(pin)) {
      throw new LoaError('GPIO_PIN_BUSY', `Chân GPIO ${pin} đã được dùng (${name})`, {
        details: { pin, name },
      });
    }
  }

  private record(out: SimOutput, active: boolean): void {
    out.value = active;
    this.timeline.push({ at: this.clock.now(), name: out.config.name, pin: out.config.pin, active });
    if (this.timeline.length > this.maxTimeline) this.timeline.shift();
  }

  private findInput(nameOrPin: string | number): SimInput {
    for (const inp of this.inputsByPin.values()) {
      if (inp.config.name === nameOrPin || inp.config.pin === nameOrPin) return inp;
    }
    throw new LoaError('GPIO_PIN_INVALID', `Không có đầu vào GPIO "${nameOrPin}"`, {
      details: { input: nameOrPin },
    });
  }
}

function closedError(config: { pin: number; name: string }): LoaError {
  return new LoaError('GPIO_CLOSED', `GPIO ${config.pin} (${config.name}) đã được giải phóng`, {
    details: { pin: config.pin, name: config.name },
  });
}
