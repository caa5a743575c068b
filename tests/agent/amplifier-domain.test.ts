/** The pure amplifier sequencing rules: examples and properties over random event sequences. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AmpAction,
  type AmpConfig,
  type AmpEvent,
  type AmpState,
  ampStep,
  initialAmpState,
} from '../../agent/src/domain/amplifier.js';

const config: AmpConfig = {
  zones: ['cho', 'truong', 'xom3'],
  warmupMs: 2000,
  idleTailMs: 10_000,
  settleMs: 150,
};

function run(events: AmpEvent[], state = initialAmpState(config)): { state: AmpState; actions: AmpAction[] } {
  const actions: AmpAction[] = [];
  for (const e of events) {
    const r = ampStep(state, e, config);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

describe('amplifier rules by example', () => {
  it('cold start: mute, zones, amplifier on, warm-up, unmute, ready', () => {
    const a = run([{ type: 'ready', at: 0, zones: ['cho'] }]);
    expect(a.actions).toEqual([
      { type: 'mute', muted: true },
      { type: 'zone', zone: 'cho', on: true },
      { type: 'amplifier', on: true },
      { type: 'timer', at: 2000 },
    ]);
    expect(a.state.phase).toBe('warming');
    expect(ampStep(a.state, { type: 'timer', at: 1999 }, config).actions).toEqual([]);
    const b = ampStep(a.state, { type: 'timer', at: 2000 }, config);
    expect(b.actions).toEqual([{ type: 'mute', muted: false }, { type: 'ready' }]);
    expect(b.state.phase).toBe('on');
  });

  it('idle tail keeps the amplifier on; a new item in the tail plays at once', () => {
    const { state } = run([
      { type: 'ready', at: 0 },
      { type: 'timer', at: 2000 },
      { type: 'idle', at: 5000 },
    ]);
    expect(state.phase).toBe('tail');
    expect(state.deadline).toBe(15_000);
    const again = ampStep(state, { type: 'ready', at: 9000 }, config);
    expect(again.actions).toEqual([{ type: 'timer', at: null }, { type: 'ready' }]);
    const off = ampStep(state, { type: 'timer', at: 15_000 }, config);
    expect(off.actions).toEqual([
      { type: 'mute', muted: true },
      { type: 'amplifier', on: false },
      { type: 'zone', zone: 'cho', on: false },
      { type: 'zone', zone: 'truong', on: false },
      { type: 'zone', zone: 'xom3', on: false },
    ]);
    expect(off.state.phase).toBe('off');
  });

  it('zone change while on: mute, switch (off before on), settle, unmute', () => {
    const { state } = run([
      { type: 'ready', at: 0, zones: ['cho'] },
      { type: 'timer', at: 2000 },
    ]);
    const s = ampStep(state, { type: 'ready', at: 3000, zones: ['truong'] }, config);
    expect(s.actions).toEqual([
      { type: 'mute', muted: true },
      { type: 'zone', zone: 'cho', on: false },
      { type: 'zone', zone: 'truong', on: true },
      { type: 'timer', at: 3150 },
    ]);
    expect(ampStep(s.state, { type: 'timer', at: 3150 }, config).actions).toEqual([
      { type: 'mute', muted: false },
      { type: 'ready' },
    ]);
  });

  it('safe: everything off whatever the phase, waiting callers rejected', () => {
    const { state } = run([{ type: 'ready', at: 0 }]);
    const s = ampStep(state, { type: 'safe', at: 10 }, config);
    expect(s.state).toEqual(initialAmpState(config));
    expect(s.actions.at(-1)).toEqual({ type: 'abort', reason: 'safe' });
    expect(s.actions).toContainEqual({ type: 'amplifier', on: false });
  });
});

/** Applies actions to a model of the hardware and checks the safety rules on each. */
class Hardware {
  amp = false;
  ampOnAt = 0;
  muted = true;
  zones: Record<string, boolean> = { cho: false, truong: false, xom3: false };
  input = 'player';
  /** Zones of the latest ready() request: a 'ready' must find exactly these selected. */
  wanted: Record<string, boolean> | null = null;
  apply(a: AmpAction, at: number): void {
    switch (a.type) {
      case 'zone':
        expect(this.muted, 'zone relay switched while unmuted').toBe(true);
        this.zones[a.zone] = a.on;
        return;
      case 'input':
        expect(this.muted, 'input relay switched while unmuted').toBe(true);
        this.input = a.input;
        return;
      case 'amplifier':
        if (a.on && !this.amp) this.ampOnAt = at;
        this.amp = a.on;
        return;
      case 'mute':
        if (!a.muted) {
          expect(this.amp, 'unmuted with the amplifier off').toBe(true);
          expect(at - this.ampOnAt, 'unmuted before the warm-up ended').toBeGreaterThanOrEqual(
            config.warmupMs,
          );
        }
        this.muted = a.muted;
        return;
      case 'ready':
        expect(this.amp && !this.muted, 'ready while not playable').toBe(true);
        expect(this.zones, 'ready with other zones than requested').toEqual(this.wanted);
        return;
      default:
        return;
    }
  }
}

const zoneSet = fc.subarray(['cho', 'truong', 'xom3']);
const eventArb = fc.oneof(
  fc.record({ type: fc.constant('ready' as const), zones: fc.option(zoneSet, { nil: undefined }) }),
  fc.record({ type: fc.constant('idle' as const) }),
  fc.record({ type: fc.constantFrom('player', 'fm', 'line'), kind: fc.constant('input' as const) }),
  fc.record({ type: fc.constant('timer' as const) }),
  fc.record({ type: fc.constant('safe' as const) }),
);

describe('amplifier rules: properties', () => {
  it('never switches zones or inputs unmuted, never plays before warm-up, state matches hardware', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 4000 })), { maxLength: 60 }),
        (steps) => {
          let state = initialAmpState(config);
          const hw = new Hardware();
          let now = 0;
          for (const [e, dt] of steps) {
            now += dt;
            let event: AmpEvent;
            if ('kind' in e) event = { type: 'input', at: now, input: e.type };
            else if (e.type === 'timer') {
              // Timers fire at their deadline (time moves there) or not at all.
              if (state.deadline === null) continue;
              now = Math.max(now, state.deadline);
              event = { type: 'timer', at: now };
            } else if (e.type === 'ready') event = { type: 'ready', at: now, zones: e.zones };
            else event = { type: e.type, at: now };
            if (event.type === 'ready') {
              const set = new Set(event.zones ?? config.zones);
              hw.wanted = Object.fromEntries(config.zones.map((z) => [z, set.has(z)]));
            }
            const r = ampStep(state, event, config);
            for (const a of r.actions) hw.apply(a, now);
            state = r.state;
            expect(hw.amp).toBe(state.amplifier);
            expect(hw.muted).toBe(state.muted);
            expect(hw.zones).toEqual(state.zones);
            expect(hw.input).toBe(state.input);
            if (state.phase === 'off') expect(Object.values(hw.zones).some(Boolean) || hw.amp).toBe(false);
            if (state.phase !== 'off' && state.phase !== 'on') expect(state.deadline).not.toBeNull();
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the same events give the same actions (deterministic)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(zoneSet, fc.integer({ min: 0, max: 3000 })), { maxLength: 20 }),
        (reqs) => {
          const events: AmpEvent[] = [];
          let t = 0;
          for (const [zones, dt] of reqs) {
            t += dt;
            events.push(
              { type: 'ready', at: t, zones },
              { type: 'timer', at: t + 2000 },
              { type: 'idle', at: t + 2500 },
            );
            t += 2500;
          }
          expect(run(events)).toEqual(run(events));
        },
      ),
    );
  });
});
