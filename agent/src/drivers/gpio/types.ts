/**
 * GPIO driver interface: named relay outputs and contact inputs by BCM pin number.
 *
 * Values are logical: `true` means "active" (relay energised, contact closed / signal present).
 * `activeLow` inverts the electrical level, as on most opto-isolated relay boards.
 * Implementations: gpio/onoff.ts (sysfs through onoff, with gpiochip base mapping) and
 * gpio/sim.ts (in memory, with a timeline of writes for tests and the simulator).
 */

export interface OutputPinConfig {
  /** Role name used in logs and timelines, e.g. 'amplifier', 'zone:cho', 'modem-power'. */
  name: string;
  /** BCM pin number (0–27 on the 40-pin header). */
  pin: number;
  /** The relay energises when the line is low. Default false. */
  activeLow?: boolean;
  /** Logical state set when the pin is claimed. Default false (relay off). */
  initial?: boolean;
}

export interface InputPinConfig {
  name: string;
  pin: number;
  /** The input reads active when the line is low (e.g. a contact to ground with a pull-up). */
  activeLow?: boolean;
  /** Contact-bounce filter in milliseconds (a change must be stable this long). Default 20. */
  debounceMs?: number;
}

export interface OutputPin {
  readonly name: string;
  readonly pin: number;
  /** Drive the output; resolves once the level is written. */
  write(active: boolean): Promise<void>;
  /** The last logical value written (observed from the driver, not assumed by the caller). */
  read(): boolean;
}

export type InputListener = (active: boolean) => void;

export interface InputPin {
  readonly name: string;
  readonly pin: number;
  /** Current debounced logical value. */
  read(): Promise<boolean>;
  /** Called on each debounced change. Returns a function that removes the listener. */
  watch(listener: InputListener): () => void;
}

export interface GpioDriver {
  /** Claims a pin as an output. Errors: GPIO_UNAVAILABLE, GPIO_PIN_INVALID, GPIO_PIN_BUSY. */
  output(config: OutputPinConfig): Promise<OutputPin>;
  /** Claims a pin as an input with edge notification. Same errors as output(). */
  input(config: InputPinConfig): Promise<InputPin>;
  /** Releases every claimed pin (outputs are left in their inactive state first). */
  close(): Promise<void>;
}

/** One relay write, as recorded by the simulated driver. `at` is from the injected clock. */
export interface RelayWrite {
  at: number;
  name: string;
  pin: number;
  active: boolean;
}

/** Error codes thrown by GPIO drivers. */
export const GPIO_ERRORS = {
  GPIO_UNAVAILABLE: 'GPIO_UNAVAILABLE',
  GPIO_PIN_INVALID: 'GPIO_PIN_INVALID',
  GPIO_PIN_BUSY: 'GPIO_PIN_BUSY',
  GPIO_IO: 'GPIO_IO',
  GPIO_CLOSED: 'GPIO_CLOSED',
} as const;
