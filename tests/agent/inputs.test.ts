/** Station inputs (mains, door, amplifier fault) on the simulated GPIO, with fake timers. */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimGpio } from '../../agent/src/drivers/gpio/sim.js';
import { type InputChange, Inputs } from '../../agent/src/services/station/inputs.js';

const logger = pino({ level: 'silent' });

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 10, 26) });
});
afterEach(() => {
  vi.useRealTimers();
});

async function rig() {
  const gpio = new SimGpio();
  const pins = {
    mains: await gpio.input({ name: 'mains', pin: 5, activeLow: true, debounceMs: 20 }),
    door: await gpio.input({ name: 'door', pin: 6, debounceMs: 20 }),
    ampFault: await gpio.input({ name: 'amp-fault', pin: 13, activeLow: true, debounceMs: 20 }),
  };
  // Mains present at boot.
  gpio.setInput('mains', true);
  await vi.advanceTimersByTimeAsync(20);
  const inputs = new Inputs({ pins, logger });
  const changes: InputChange[] = [];
  inputs.on('change', (c) => changes.push(c));
  await inputs.start();
  return { gpio, inputs, changes };
}

describe('Inputs', () => {
  it('reads the initial state in the Health.inputs shape', async () => {
    const { inputs, changes } = await rig();
    expect(inputs.state()).toEqual({ mains: true, door: 'closed', ampFault: false });
    expect(changes).toEqual([]);
    await inputs.stop();
  });

  it('reports a change only after it held for the hold time', async () => {
    const { gpio, inputs, changes } = await rig();
    gpio.setInput('mains', false); // power cut
    await vi.advanceTimersByTimeAsync(20 + 999);
    expect(inputs.state().mains).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(inputs.state().mains).toBe(false);
    expect(changes.map((c) => [c.input, c.active])).toEqual([['mains', false]]);
    expect(changes[0]?.state).toEqual({ mains: false, door: 'closed', ampFault: false });
    expect(changes[0]?.at).toBe(Date.now());
  });

  it('ignores a flicker shorter than the hold time', async () => {
    const { gpio, inputs, changes } = await rig();
    gpio.setInput('mains', false);
    await vi.advanceTimersByTimeAsync(400);
    gpio.setInput('mains', true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(changes).toEqual([]);
    expect(inputs.state().mains).toBe(true);
  });

  it('reports door and amplifier fault; stop() ends reporting', async () => {
    const { gpio, inputs, changes } = await rig();
    gpio.setInput('door', true);
    gpio.setInput('amp-fault', true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(inputs.state()).toEqual({ mains: true, door: 'open', ampFault: true });
    expect(changes.map((c) => c.input).sort()).toEqual(['ampFault', 'door']);
    await inputs.stop();
    gpio.setInput('door', false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(changes.length).toBe(2);
  });

  it('unwired inputs are null', async () => {
    const gpio = new SimGpio();
    const inputs = new Inputs({ pins: { door: await gpio.input({ name: 'door', pin: 6 }) }, logger });
    await inputs.start();
    expect(inputs.state()).toEqual({ mains: null, door: 'closed', ampFault: null });
  });
});
