/** The amplifier service on the simulated GPIO driver, with vitest's fake timers driving time. */
import { isLoaError } from '@loa/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimGpio } from '../../agent/src/drivers/gpio/sim.js';
import { Amplifier } from '../../agent/src/services/station/amplifier.js';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 26, 22, 30); // 05:30 in Hà Nội

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function rig(opts: { fm?: boolean; muteRelay?: boolean; muteTakesMs?: number } = {}) {
  const gpio = new SimGpio();
  const relays = {
    amplifier: await gpio.output({ name: 'amplifier', pin: 17, activeLow: true }),
    zones: {
      cho: await gpio.output({ name: 'zone:cho', pin: 22 }),
      truong: await gpio.output({ name: 'zone:truong', pin: 23 }),
    },
    ...(opts.fm ? { inputs: { fm: await gpio.output({ name: 'input:fm', pin: 24 }) } } : {}),
    ...(opts.muteRelay ? { mute: await gpio.output({ name: 'mute', pin: 25 }) } : {}),
  };
  const mutes: Array<[number, boolean]> = [];
  let muteTakesMs = 0;
  const amp = new Amplifier({
    relays,
    logger,
    mute: (m) => {
      mutes.push([Date.now() - T0, m]);
      // The player's mute resolves once the output is silent: late with a starved decoder.
      const ms = m ? muteTakesMs : 0;
      return ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : undefined;
    },
  });
  await amp.start();
  muteTakesMs = opts.muteTakesMs ?? 0;
  const since = gpio.timeline.length;
  /** Relay writes after start, as [ms since T0, name, active]. */
  const writes = () => gpio.timeline.slice(since).map((w) => [w.at - T0, w.name, w.active] as const);
  return { gpio, amp, mutes, writes };
}

async function settle(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLoaError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

describe('Amplifier service on SimGpio', () => {
  it('boot drives every relay to the safe state', async () => {
    const { gpio, amp } = await rig({ fm: true });
    expect(gpio.outputs()).toEqual({
      amplifier: false,
      'zone:cho': false,
      'zone:truong': false,
      'input:fm': false,
    });
    expect(amp.relays()).toEqual({ amplifier: false, zones: { cho: false, truong: false }, input: 'player' });
    expect(amp.warmupMs).toBe(2000);
  });

  it('cold start: zones, then amplifier, ready after the 2 s warm-up; off after the 10 s tail', async () => {
    const { amp, mutes, writes } = await rig();
    let ready = false;
    const p = amp.ready(['cho']).then(() => {
      ready = true;
    });
    await settle(1999);
    expect(ready).toBe(false);
    await settle(1);
    await p;
    expect(ready).toBe(true);
    expect(writes()).toEqual([
      [0, 'zone:cho', true],
      [0, 'amplifier', true],
    ]);
    expect(mutes.at(-1)).toEqual([2000, false]);
    expect(amp.relays()).toEqual({ amplifier: true, zones: { cho: true, truong: false } });

    amp.idle();
    await settle(9999);
    expect(amp.relays().amplifier).toBe(true);
    await settle(1);
    expect(writes().slice(2)).toEqual([
      [12_000, 'amplifier', false],
      [12_000, 'zone:cho', false],
    ]);
    expect(amp.snapshot().phase).toBe('off');
  });

  it('an item within the idle tail starts at once without touching the relays', async () => {
    const { amp, writes } = await rig();
    const first = amp.ready();
    await settle(2000);
    await first;
    amp.idle();
    await settle(5000);
    const before = writes().length;
    await amp.ready(); // resolves without advancing time
    expect(writes().length).toBe(before);
    expect(amp.snapshot().phase).toBe('on');
  });

  it('switches zones only while muted (mute relay and player mute around the switch)', async () => {
    const { amp, mutes, writes } = await rig({ muteRelay: true });
    const p = amp.ready(['cho']);
    await settle(2000);
    await p;
    const q = amp.ready(['truong']);
    await settle(150);
    await q;
    const w = writes().filter(([t]) => t >= 2000);
    expect(w).toEqual([
      [2000, 'mute', false],
      [2000, 'mute', true],
      [2000, 'zone:cho', false],
      [2000, 'zone:truong', true],
      [2150, 'mute', false],
    ]);
    expect(mutes.filter(([t]) => t >= 2000)).toEqual([
      [2000, false],
      [2000, true],
      [2150, false],
    ]);
  });

  it("a mute that takes long shortens neither the warm-up nor the relays' settling", async () => {
    const { amp, mutes, writes } = await rig({ muteTakesMs: 600 });
    const p = amp.ready(['cho']);
    // Cold: the amplifier goes on once the output is silent, and warms up 2 s from then.
    await settle(2599);
    expect(mutes.at(-1)).toEqual([0, true]);
    await settle(1);
    await p;
    expect(mutes.at(-1)).toEqual([2600, false]);
    const q = amp.ready(['truong']);
    await settle(750);
    await q;
    // The relays switch once the output is silent (600 ms), and stay muted 150 ms after that.
    expect(writes().filter(([t]) => t >= 2600)).toEqual([
      [3200, 'zone:cho', false],
      [3200, 'zone:truong', true],
    ]);
    expect(mutes.filter(([t]) => t >= 2600)).toEqual([
      [2600, false],
      [2600, true],
      [3350, false],
    ]);
  });

  it('routes FM through the input relay while muted, and back', async () => {
    const { amp, writes } = await rig({ fm: true });
    const p = amp.ready();
    await settle(2000);
    await p;
    const sel = amp.selectInput('fm');
    await sel;
    await settle(150);
    expect(amp.relays().input).toBe('fm');
    expect(amp.snapshot().muted).toBe(false);
    await amp.selectInput('player');
    expect(amp.relays().input).toBe('player');
    expect(writes().filter(([, n]) => n === 'input:fm')).toEqual([
      [2000, 'input:fm', true],
      [2150, 'input:fm', false],
    ]);
  });

  it('safe() during warm-up: amplifier off at once, the waiting caller gets AMP_SAFE', async () => {
    const { amp, gpio } = await rig();
    const p = amp.ready();
    await settle(500);
    await amp.safe();
    expect(await codeOf(p)).toBe('AMP_SAFE');
    expect(gpio.outputs()).toEqual({ amplifier: false, 'zone:cho': false, 'zone:truong': false });
    await amp.stop();
    expect(await codeOf(amp.ready())).toBe('AMP_STOPPED');
  });

  it('refuses unknown zones and missing input relays with stable codes', async () => {
    const { amp } = await rig();
    expect(await codeOf(amp.ready(['xom9']))).toBe('AMP_ZONE_UNKNOWN');
    expect(await codeOf(amp.selectInput('fm'))).toBe('AMP_INPUT_UNAVAILABLE');
  });

  it('idle() during warm-up cancels the request; a new one still waits the full warm-up', async () => {
    const { amp } = await rig();
    const p = amp.ready();
    await settle(500);
    amp.idle();
    expect(await codeOf(p)).toBe('AMP_CANCELLED');
    let ready = false;
    const q = amp.ready().then(() => {
      ready = true;
    });
    await settle(1499);
    expect(ready).toBe(false);
    await settle(1);
    await q;
    expect(ready).toBe(true);
  });
});
