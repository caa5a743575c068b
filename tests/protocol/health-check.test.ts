/**
 * The hand-written health check never disagrees with `HealthSchema`: fast-check builds valid
 * reports over every field, then breaks them one place at a time (a value replaced by junk or a
 * boundary, a key removed, an unknown key added) and both must give the same answer; a valid
 * report comes back exactly as zod would return it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HealthSchema, isHealth, parseHealth } from '../../protocol/src/index.js';
import { id, instant, num, str } from './arbitraries.js';
import { mutate, mutation } from './schema-mutations.js';

const channel = fc
  .tuple(fc.constantFrom('a', 'z', '0'), fc.array(fc.constantFrom(...'ab9._-'.split('')), { maxLength: 10 }))
  .map(([h, t]) => h + t.join(''));
const nat = (max = 1_000_000) => fc.integer({ min: 0, max });

const modem = fc.record(
  {
    rssiDbm: fc.option(num(-150, 0), { nil: null }),
    operator: fc.option(str(64), { nil: null }),
    registration: fc.constantFrom('home', 'roaming', 'searching', 'denied', 'unknown', 'not-registered'),
    tech: str(16),
    iccid: str(24),
    failures: nat(),
  },
  { requiredKeys: ['rssiDbm', 'operator', 'registration'] },
);
const alert = fc.record({ code: str(64), message: str(500), at: instant });
const health = fc.record(
  {
    at: instant,
    seq: nat(),
    agentVersion: str(64),
    uptimeS: num(0, 1e9),
    cpuTempC: num(-50, 150),
    load1: num(0, 64),
    memUsedMb: num(0, 1e5),
    memTotalMb: num(0, 1e5),
    diskFreeMb: num(0, 1e6),
    modem,
    inputs: fc.record({
      mains: fc.option(fc.boolean(), { nil: null }),
      door: fc.option(fc.constantFrom('open', 'closed'), { nil: null }),
      ampFault: fc.option(fc.boolean(), { nil: null }),
    }),
    relays: fc.record(
      {
        amplifier: fc.boolean(),
        zones: fc.dictionary(fc.string({ maxLength: 8 }), fc.boolean(), { maxKeys: 4 }),
        input: fc.constantFrom('player', 'fm', 'line'),
      },
      { requiredKeys: ['amplifier'] },
    ),
    onAir: fc.option(
      fc.record(
        {
          bundleId: id,
          itemId: id,
          kind: str(16),
          since: instant,
          momentaryLufs: num(-200, 20),
          peakDbfs: num(-200, 20),
          source: str(16),
          sourceReason: str(200),
        },
        { requiredKeys: ['kind', 'since'] },
      ),
      { nil: null },
    ),
    volume: fc.integer({ min: 0, max: 100 }),
    bundles: fc.array(fc.record({ channel, id, version: fc.integer({ min: 1, max: 1e6 }) }), {
      maxLength: 4,
    }),
    trustVersion: nat(),
    clock: fc.record(
      {
        trusted: fc.boolean(),
        source: fc.constantFrom('ntp', 'server', 'modem', 'persisted', 'none'),
        lastTrusted: instant,
      },
      { requiredKeys: ['trusted', 'source'] },
    ),
    proofBacklog: nat(),
    deadAir: fc.boolean(),
    display: fc.record(
      {
        onScreen: fc.option(
          fc.record(
            { bundleId: id, itemId: id, kind: str(16), since: instant },
            { requiredKeys: ['kind', 'since'] },
          ),
          { nil: null },
        ),
        heartbeatAgeMs: fc.option(nat(), { nil: null }),
        restarts: nat(),
        screen: fc.constantFrom('on', 'off', 'unknown'),
        powerControl: fc.constantFrom('cec', 'wlr-randr', 'none'),
        alert,
      },
      { requiredKeys: ['onScreen', 'heartbeatAgeMs', 'restarts', 'screen', 'powerControl'] },
    ),
    usbImport: fc.record(
      {
        file: str(300),
        ok: fc.boolean(),
        code: str(64),
        bundleId: id,
        channel,
        version: fc.integer({ min: 1, max: 99 }),
        at: instant,
      },
      { requiredKeys: ['file', 'ok', 'at'] },
    ),
    lastError: alert,
  },
  { requiredKeys: ['at', 'seq', 'agentVersion', 'uptimeS', 'inputs', 'relays', 'onAir', 'bundles', 'clock'] },
);

function agree(x: unknown): void {
  const z = HealthSchema.safeParse(x);
  expect(
    isHealth(x),
    JSON.stringify(x, (_k, v) => (v === undefined ? '<undefined>' : v)),
  ).toBe(z.success);
  const p = parseHealth(x);
  expect(p.success).toBe(z.success);
  if (z.success && p.success) expect(p.data).toEqual(z.data);
}

describe('the hand-written health check agrees with HealthSchema', () => {
  it('accepts every valid report, and gives it back as zod does', () => {
    fc.assert(
      fc.property(health, (h) => {
        expect(HealthSchema.safeParse(h).success).toBe(true);
        agree(h);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('answers like zod on reports broken in one to three places', () => {
    fc.assert(
      fc.property(health, fc.array(mutation, { minLength: 1, maxLength: 3 }), (h, ms) =>
        agree(mutate(h, ms)),
      ),
      { numRuns: 2000 },
    );
  }, 120_000);

  it('answers like zod on values that are not reports at all', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => agree(x)),
      { numRuns: 2000 },
    );
    for (const x of [null, undefined, [], '{}', 1, new Date(), Object.create(null)]) agree(x);
  });

  it('tells why through zod when a report is refused', () => {
    const r = parseHealth({ at: 'yesterday' });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain('at');
  });
});
