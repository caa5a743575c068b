/**
 * The station's hardware from the config: the drivers (drivers/factory.ts, real or simulated per
 * kind), and on top of them the relays with the amplifier sequencer, the contact inputs, the
 * modem supervisor and the FM tuner.
 */
import type { Clock } from '@loa/protocol';
import type { Logger } from 'pino';
import type { AgentConfig } from '../../config.js';
import { createFmTuner, createGpio, createModem } from '../../drivers/factory.js';
import type { SimFmDevice } from '../../drivers/fm/sim.js';
import type { FmTuner } from '../../drivers/fm/types.js';
import type { SimGpio } from '../../drivers/gpio/sim.js';
import type { GpioDriver, InputPin, OutputPin } from '../../drivers/gpio/types.js';
import type { SimModemDevice } from '../../drivers/modem/sim.js';
import { Amplifier } from './amplifier.js';
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

/** Claims every pin and builds the services on top; relays start in the safe state (off). */
export async function buildHardware(hw: Hw, logger: Logger, clock: Clock): Promise<StationHardware> {
  const { gpio, sim } = createGpio(hw, logger, clock);
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
    const relay =
      hw.modem.powerPin === undefined
        ? undefined
        : await gpio.output({ name: 'modem-power', pin: hw.modem.powerPin, initial: false });
    const m = await createModem(hw, logger, clock, relay);
    if (m) {
      if (m.sim) result.simModem = m.sim;
      result.modem = new ModemSupervisor({
        modem: m.modem,
        logger,
        ...(m.power ? { power: m.power } : {}),
        pollMs: hw.modem.pollIntervalS * 1000,
        clock,
      });
    }
  }

  const fm = await createFmTuner(hw, logger);
  if (fm) {
    result.fm = fm.tuner;
    if (fm.sim) result.simFm = fm.sim;
  }
  return result;
}
