/**
 * The modem supervisor over the full simulated stack: SimModemDevice (EC25 model) →
 * SimModemTransport → AT channel → Quectel semantics, with the modem power relay on SimGpio.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimGpio } from '../../agent/src/drivers/gpio/sim.js';
import { createQuectelModem } from '../../agent/src/drivers/modem/quectel.js';
import { linkPowerRelay, SimModemDevice, SimModemTransport } from '../../agent/src/drivers/modem/sim.js';
import { type ModemEvents, ModemSupervisor } from '../../agent/src/services/station/modem-supervisor.js';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 26, 7, 0, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function rig() {
  const gpio = new SimGpio();
  const device = new SimModemDevice({ latencyMs: 5, bootMs: 200 });
  const power = linkPowerRelay(await gpio.output({ name: 'modem-power', pin: 26 }), device);
  const transport = new SimModemTransport({ device });
  const { modem } = createQuectelModem(transport, { logger, timeoutMs: 300 });
  const sup = new ModemSupervisor({
    modem,
    power,
    logger,
    pollMs: 1000,
    failuresBeforeCycle: 3,
    powerOffMs: 500,
    bootMs: 2000,
    monotonic: () => Date.now(),
  });
  // Every event in order, tagged with its name.
  const events: ({ type: keyof ModemEvents } & Record<string, unknown>)[] = [];
  for (const type of ['status', 'failure', 'power-cycle', 'time'] as const)
    sup.on(type, (payload) => events.push({ type, ...payload }));
  await sup.start();
  return { gpio, device, sup, events };
}

describe('ModemSupervisor', () => {
  it('polls status in the Health.modem shape and serves trusted network time', async () => {
    const { sup, events } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    expect(sup.status()).toEqual({
      rssiDbm: -69,
      operator: 'Viettel',
      registration: 'home',
      tech: 'lte',
      iccid: '89840480001234567890',
      failures: 0,
    });
    const read = sup.lastTime();
    expect(read?.trusted).toBe(true);
    expect(read?.tzQuarterHours).toBe(28);
    // CCLK has whole seconds; the reading is within a second of the (fake) UTC time.
    expect(Math.abs((read?.utcMs ?? 0) - read!.readAtWall)).toBeLessThan(1000);
    const before = sup.networkNow()!;
    await vi.advanceTimersByTimeAsync(10_000);
    // Later polls refresh the reading; time keeps following the monotonic clock either way.
    const after = sup.networkNow()!;
    expect(after.utcMs - before.utcMs).toBeGreaterThanOrEqual(9000);
    expect(events.some((e) => e.type === 'status')).toBe(true);
    await sup.stop();
  });

  it('power-cycles a hung modem after 3 failed polls and recovers', async () => {
    const { sup, device, gpio, events } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    device.hang();
    // 3 polls, 1 s apart, each timing out after 300 ms.
    await vi.advanceTimersByTimeAsync(3 * 1300 + 500);
    const failures = events.filter((e) => e.type === 'failure');
    expect(failures.map((e) => e.type === 'failure' && e.code)).toEqual([
      'AT_TIMEOUT',
      'AT_TIMEOUT',
      'AT_TIMEOUT',
    ]);
    expect(events.filter((e) => e.type === 'power-cycle')).toHaveLength(1);
    expect(sup.status()?.registration).toBe('unknown');
    expect(sup.status()?.rssiDbm).toBeNull();
    // Relay: energised (power cut) for 500 ms, then released.
    await vi.advanceTimersByTimeAsync(600);
    const cycle = gpio.writesOf('modem-power').slice(-2);
    expect(cycle.map((w) => w.active)).toEqual([true, false]);
    expect((cycle[1]?.at ?? 0) - (cycle[0]?.at ?? 0)).toBe(500);
    expect(device.isPowered).toBe(true);
    // After the boot wait the modem answers again.
    await vi.advanceTimersByTimeAsync(2500);
    expect(sup.status()).toMatchObject({ rssiDbm: -69, registration: 'home', failures: 0 });
    expect(sup.counters().cycles).toBe(1);
    await sup.stop();
  });

  it('counts garbage and errors as failures without crashing, and resets on success', async () => {
    const { sup, device, events } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    device.inject('garbage-ok', 1, /CSQ/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.filter((e) => e.type === 'failure').map((e) => e.type === 'failure' && e.code)).toEqual([
      'MODEM_BAD_REPLY',
    ]);
    device.inject('cme', 1, /CREG/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sup.counters().failures).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sup.counters()).toEqual({ failures: 0, cycles: 0 });
    await sup.stop();
  });

  it('does not trust the clock of an unregistered modem; keeps the last trusted reading', async () => {
    const { sup, device } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    const trusted = sup.lastTime();
    device.config.nitz = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(sup.lastTime()).toEqual(trusted);
    expect(sup.networkNow()).not.toBeNull();
    await sup.stop();
  });

  it('backs off between power cycles while the modem stays dead', async () => {
    const { sup, device, gpio } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    const hangAgain = device.onPower((on) => {
      if (on) device.hang(); // a modem that never comes back
    });
    device.hang();
    await vi.advanceTimersByTimeAsync(60_000);
    hangAgain();
    const cuts = gpio
      .writesOf('modem-power')
      .filter((w) => w.active)
      .map((w) => w.at - T0);
    // Each cycle: 3 failed polls (≈2.9 s) after a boot wait of 2 s, 4 s, 8 s, 16 s…
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    const gaps = cuts.slice(1).map((t, i) => t - (cuts[i] ?? 0));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] ?? 0);
    expect(sup.counters().cycles).toBe(cuts.length);
    await sup.stop();
  });

  it('stop() during a power cycle leaves the modem powered', async () => {
    const { sup, device } = await rig();
    await vi.advanceTimersByTimeAsync(100);
    device.hang();
    await vi.advanceTimersByTimeAsync(3 * 1300 + 100);
    expect(device.isPowered).toBe(false);
    await sup.stop();
    expect(device.isPowered).toBe(true);
  });
});
