/**
 * Real GPIO through onoff (sysfs). onoff always works on /sys/class/gpio; the BCM → sysfs
 * number mapping (gpiochip base, kernels 6.6+) is ours (chip-map.ts) and reads an injectable
 * sysfs root so it can be tested on a directory tree shaped like a Pi 4 or Pi 5.
 */
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import { type GpioChipInfo, loadPinMap, validateBcmPin } from './chip-map.js';
import type {
  GpioDriver,
  InputListener,
  InputPin,
  InputPinConfig,
  OutputPin,
  OutputPinConfig,
} from './types.js';

type OnoffModule = typeof import('onoff');
type OnoffGpioPin = InstanceType<OnoffModule['Gpio']>;

export interface OnoffGpioOptions {
  logger: Logger;
  /** Where gpiochip* directories are read for the base mapping. Default /sys/class/gpio. */
  sysfsRoot?: string;
}

interface Claimed {
  gpio: OnoffGpioPin;
  config: OutputPinConfig | InputPinConfig;
  output: boolean;
}

export class OnoffGpio implements GpioDriver {
  private readonly log: Logger;
  private readonly sysfsRoot: string;
  private onoff: OnoffModule | null = null;
  private pinMap: { chip: GpioChipInfo; map(pin: number): number } | null = null;
  private readonly claimed = new Map<number, Claimed>();
  private closed = false;

  constructor(options: OnoffGpioOptions) {
    this.log = options.logger.child({ module: 'gpio' });
    this.sysfsRoot = options.sysfsRoot ?? '/sys/class/gpio';
  }

  /** The chip the header was found on (after the first claim). */
  chip(): GpioChipInfo | null {
    return this.pinMap?.chip ?? null;
  }

  async output(config: OutputPinConfig): Promise<OutputPin> {
    const sysfs = await this.prepare(config);
    const { Gpio } = this.onoff!;
    const activeLow = config.activeLow ?? false;
    const initial = config.initial ?? false;
    // sysfs 'high'/'low' set the raw level at the same moment as the direction: no glitch.
    const direction = initial !== activeLow ? 'high' : 'low';
    const gpio = this.open(() => new Gpio(sysfs, direction, 'none', { activeLow }), config);
    this.claimed.set(config.pin, { gpio, config, output: true });
    let value = initial;
    return {
      name: config.name,
      pin: config.pin,
      write: async (active: boolean) => {
        if (this.closed) throw closed(config);
        try {
          await gpio.write(active ? 1 : 0);
          value = active;
        } catch (cause) {
          throw new LoaError('GPIO_IO', `Không ghi được GPIO ${config.pin} (${config.name})`, {
            cause,
            details: { pin: config.pin },
          });
        }
      },
      read: () => value,
    };
  }

  async input(config: InputPinConfig): Promise<InputPin> {
    const sysfs = await this.prepare(config);
    const { Gpio } = this.onoff!;
    const gpio = this.open(
      () =>
        new Gpio(sysfs, 'in', 'both', {
          activeLow: config.activeLow ?? false,
          debounceTimeout: config.debounceMs ?? 20,
        }),
      config,
    );
    this.claimed.set(config.pin, { gpio, config, output: false });
    return {
      name: config.name,
      pin: config.pin,
      read: async () => {
        if (this.closed) throw closed(config);
        try {
          return (await gpio.read()) === 1;
        } catch (cause) {
          throw new LoaError('GPIO_IO', `Không đọc được GPIO ${config.pin} (${config.name})`, {
            cause,
            details: { pin: config.pin },
          });
        }
      },
      watch: (listener: InputListener) => {
        const cb = (err: Error | null | undefined, v: 0 | 1) => {
          if (err) this.log.error({ err, pin: config.pin }, 'gpio watch error');
          else listener(v === 1);
        };
        gpio.watch(cb);
        return () => gpio.unwatch(cb);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { gpio, output, config } of this.claimed.values()) {
      try {
        if (output) gpio.writeSync(0);
        gpio.unwatchAll();
        gpio.unexport();
      } catch (err) {
        this.log.warn({ err, pin: config.pin }, 'gpio release failed');
      }
    }
    this.claimed.clear();
  }

  private async prepare(config: OutputPinConfig | InputPinConfig): Promise<number> {
    if (this.closed) throw closed(config);
    validateBcmPin(config.pin);
    if (this.claimed.has(config.pin)) {
      throw new LoaError('GPIO_PIN_BUSY', `Chân GPIO ${config.pin} đã được dùng (${config.name})`, {
        details: { pin: config.pin },
      });
    }
    if (!this.onoff) {
      const mod = (await import('onoff')) as OnoffModule & { default?: OnoffModule };
      const onoff = mod.Gpio ? mod : mod.default;
      if (!onoff?.Gpio.accessible) {
        throw new LoaError('GPIO_UNAVAILABLE', 'Không có GPIO sysfs (/sys/class/gpio) trên máy này', {
          details: { sysfsRoot: this.sysfsRoot },
        });
      }
      this.onoff = onoff;
    }
    if (!this.pinMap) {
      this.pinMap = await loadPinMap(this.sysfsRoot);
      this.log.info({ chip: this.pinMap.chip }, 'gpio header chip');
    }
    return this.pinMap.map(config.pin);
  }

  private open(make: () => OnoffGpioPin, config: OutputPinConfig | InputPinConfig): OnoffGpioPin {
    try {
      return make();
    } catch (cause) {
      throw new LoaError('GPIO_UNAVAILABLE', `Không mở được GPIO ${config.pin} (${config.name})`, {
        cause,
        details: { pin: config.pin },
      });
    }
  }
}

function closed(config: { pin: number; name: string }): LoaError {
  return new LoaError('GPIO_CLOSED', `GPIO đã đóng (${config.name})`, { details: { pin: config.pin } });
}
