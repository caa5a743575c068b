/**
 * Builds the station's hardware from the config: GPIO (onoff or simulated), relays and the
 * amplifier sequencer, contact inputs, the modem stack with its supervisor and the FM tuner.
 * Real or simulated per kind, as the config says. Called only by main.ts.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { createRda5807Tuner } from '../drivers/fm/rda5807.js';
import { SimFmDevice, SimFmTransport } from '../drivers/fm/sim.js';
import type { FmTuner } from '../drivers/fm/types.js';
import { OnoffGpio } from '../drivers/gpio/onoff.js';
import { SimGpio } from '../drivers/gpio/sim.js';
import type { GpioDriver, InputPin, OutputPin } from '../drivers/gpio/types.js';
import { createQuectelModem } from '../drivers/modem/quectel.js';
import { linkPowerRelay, SimModemDevice, SimModemTransport } from '../drivers/modem/sim.js';
import type { LineTransport } from '../drivers/serial/types.js';
import { Amplifier } from './amplifier.js';
import type { Clock } from './contracts.js';
import { type InputName, Inputs } from './inputs.js';
import { ModemSupervisor } from './modem-supervisor.js';

type Hw = AgentConfig['hardware'];

export interface StationHardware {
  gpio: GpioDriver;
  /** Present when the GPIO is simulated (demo, simulator, tests). */
  simGpio?: SimGpio;
  amplifier: Amplifier;
  inputs: Inputs;
  modem?: ModemSupervisor;
  simModem?: SimModemDevice;
  fm?: FmTuner;
  simFm?: SimFmDevice;
}

function gpioDriver(hw: Hw, logger: Logger, clock: Clock): { gpio: GpioDriver; sim?: SimGpio } {
  if (hw.gpio.driver === 'sim') {
    const sim = new SimGpio({ clock });
    return { gpio: sim, sim };
  }
  return {
    gpio: new OnoffGpio({ logger, ...(hw.gpio.sysfsRoot ? { sysfsRoot: hw.gpio.sysfsRoot } : {}) }),
  };
}

/** Claims every pin and builds the services on top; relays start in the safe state (off). */
export async function buildHardware(hw: Hw, logger: Logger, clock: Clock): Promise<StationHardware> {
  const { gpio, sim } = gpioDriver(hw, logger, clock);
  const out = (name: string, r: { pin: number; activeLow: boolean }): Promise<OutputPin> =>
    gpio.output({ name, pin: r.pin, activeLow: r.activeLow, initial: false });

  const amplifierPin = await out('amplifier', hw.amplifier);
  const zones: Record<string, OutputPin> = {};
  for (const [z, r] of Object.entries(hw.zones)) zones[z] = await out(`zone:${z}`, r);
  const inputsRelays: { fm?: OutputPin; line?: OutputPin } = {};
  if (hw.inputSelect.fm) inputsRelays.fm = await out('input:fm', hw.inputSelect.fm);
  if (hw.inputSelect.line) inputsRelays.line = await out('input:line', hw.inputSelect.line);
  const mute = hw.mute ? await out('mute', hw.mute) : undefined;
  const amplifier = new Amplifier({
    relays: { amplifier: amplifierPin, zones, inputs: inputsRelays, ...(mute ? { mute } : {}) },
    logger,
    warmupMs: hw.amplifier.warmupMs,
    idleTailMs: hw.amplifier.idleTailMs,
    clock,
  });

  const pins: Partial<Record<InputName, InputPin>> = {};
  for (const name of ['mains', 'door', 'ampFault'] as const) {
    const c = hw.inputs[name];
    if (c)
      pins[name] = await gpio.input({ name, pin: c.pin, activeLow: c.activeLow, debounceMs: c.debounceMs });
  }
  if (sim) {
    // A simulated cabinet: mains present, door closed, no amplifier fault.
    const level = (name: InputName, active: boolean) => {
      if (hw.inputs[name]) sim.setInput(name, active);
    };
    level('mains', true);
    level('door', false);
    level('ampFault', false);
  }
  const inputs = new Inputs({ pins, logger, clock });

  const result: StationHardware = { gpio, amplifier, inputs, ...(sim ? { simGpio: sim } : {}) };

  if (hw.modem.driver !== 'none') {
    let power =
      hw.modem.powerPin === undefined
        ? undefined
        : await gpio.output({ name: 'modem-power', pin: hw.modem.powerPin, initial: false });
    let transport: LineTransport;
    if (hw.modem.driver === 'sim') {
      const device = new SimModemDevice({}, clock);
      result.simModem = device;
      transport = new SimModemTransport({ device });
      if (power) power = linkPowerRelay(power, device);
    } else {
      const { SerialLineTransport } = await import('../drivers/serial/serialport-transport.js');
      transport = new SerialLineTransport({
        path: hw.modem.path ?? '/dev/ttyUSB2',
        baudRate: hw.modem.baudRate,
        logger,
      });
    }
    const { modem } = createQuectelModem(transport, { logger });
    result.modem = new ModemSupervisor({
      modem,
      logger,
      ...(power ? { power } : {}),
      pollMs: hw.modem.pollIntervalS * 1000,
      clock,
    });
  }

  if (hw.fm.driver !== 'none') {
    let transport: LineTransport;
    if (hw.fm.driver === 'sim') {
      const device = new SimFmDevice();
      result.simFm = device;
      transport = new SimFmTransport({ device });
    } else {
      const { SerialLineTransport } = await import('../drivers/serial/serialport-transport.js');
      transport = new SerialLineTransport({
        path: hw.fm.path ?? '/dev/ttyAMA0',
        baudRate: hw.fm.baudRate,
        logger,
      });
    }
    result.fm = createRda5807Tuner(transport, { logger }).tuner;
  }
  return result;
}

/**
 * Best effort for a config that failed validation: if it names a real GPIO and a plausible
 * amplifier pin, drive that relay off before exiting, so a bad config never leaves horns live.
 */
export async function safeStateFromRaw(raw: unknown, logger: Logger): Promise<void> {
  const hw = (
    raw as {
      hardware?: {
        gpio?: { driver?: unknown; sysfsRoot?: unknown };
        amplifier?: { pin?: unknown; activeLow?: unknown };
      };
    }
  )?.hardware;
  const pin = hw?.amplifier?.pin;
  if (hw?.gpio?.driver !== 'real' || typeof pin !== 'number' || !Number.isInteger(pin) || pin < 0 || pin > 27)
    return;
  const gpio = new OnoffGpio({
    logger,
    ...(typeof hw.gpio.sysfsRoot === 'string' ? { sysfsRoot: hw.gpio.sysfsRoot } : {}),
  });
  try {
    await gpio.output({
      name: 'amplifier',
      pin,
      activeLow: hw.amplifier?.activeLow === true,
      initial: false,
    });
  } catch (err) {
    logger.error({ err }, 'could not drive the amplifier relay off');
  } finally {
    await gpio.close().catch(() => undefined);
  }
}
