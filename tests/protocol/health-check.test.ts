/**
 * The hand-written health check never disagrees with `HealthSchema`: fast-check builds valid
 * reports over every field, then breaks them one place at a time (a value replaced by junk or a
 * boundary, a key removed, an unknown key added) and both must give the same answer; a valid
 * report comes back exactly as zod would return it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HealthSchema, isHealth, parseHealth } from '../../protocol/src/index.js';

const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace('Z', '+07:00'),
      d.toISOString().replace(/\.\d+Z$/, 'Z'),
    ),
  );
const idChars = fc.constantFrom(...'abcXYZ019._-'.split(''));
const id = fc
  .tuple(fc.constantFrom('a', 'Z', '7'), fc.array(idChars, { maxLength: 20 }))
  .map(([h, t]) => h + t.join(''));
const channel = fc
  .tuple(fc.constantFrom('a', 'z', '0'), fc.array(fc.constantFrom(...'ab9._-'.split('')), { maxLength: 10 }))
  .map(([h, t]) => h + t.join(''));
const str = (max: number) => fc.string({ maxLength: max });
const num = (min: number, max: number) => fc.double({ min, max, noNaN: true });
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

/** Values that break a field, or sit just at or past one of the schema's bounds. */
const junk = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    0,
    -1,
    -0.5,
    1.5,
    64,
    65,
    100,
    101,
    150.0001,
    -50.0001,
    -150.5,
    20.5,
    -200.5,
    2 ** 53,
    2 ** 53 - 1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'x',
    '-bad',
    'Bad Channel',
    'a'.repeat(16),
    'a'.repeat(17),
    'a'.repeat(24),
    'a'.repeat(25),
    'a'.repeat(64),
    'a'.repeat(65),
    'a'.repeat(128),
    'a'.repeat(129),
    'a'.repeat(201),
    'a'.repeat(301),
    'a'.repeat(501),
    '2026-02-30T10:00:00Z',
    '2026-12-07T10:00:00',
    '2026-12-07 10:00:00Z',
    '2026-12-07T24:00:00Z',
    '2026-12-07T10:00:00.123+07:00',
    '2024-02-29T00:00:00Z',
    '2023-02-29T00:00:00Z',
    'online',
    'open',
    'fm',
    [],
    [1],
    {},
    { amplifier: true },
    new Array(65).fill({ channel: 'a', id: 'b', version: 1 }),
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
);

type Path = (string | number)[];

/** Every place in a value (object keys and array indexes), the root excluded. */
function paths(v: unknown, at: Path = []): Path[] {
  if (typeof v !== 'object' || v === null) return [];
  const out: Path[] = [];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  for (const [k, x] of entries) {
    out.push([...at, k]);
    out.push(...paths(x, [...at, k]));
  }
  return out;
}

function objectPaths(v: unknown, at: Path = []): Path[] {
  if (typeof v !== 'object' || v === null) return [];
  const here = Array.isArray(v) ? [] : [at];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [...here, ...entries.flatMap(([k, x]) => objectPaths(x, [...at, k]))];
}

function parentOf(root: unknown, p: Path): Record<string | number, unknown> {
  let cur = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  return cur;
}

type Mutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'extra'; pick: number; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: junk }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extra' as const),
      pick: fc.nat(),
      key: fc.constantFrom('extra', 'seqq', 'x'),
    }),
  },
);

function mutate(valid: unknown, ms: Mutation[]): unknown {
  const v = structuredClone(valid);
  for (const m of ms) {
    if (m.kind === 'extra') {
      const ps = objectPaths(v);
      const p = ps[m.pick % ps.length] as Path;
      const target =
        p.length === 0
          ? (v as Record<string, unknown>)
          : (parentOf(v, [...p, '']) as Record<string, unknown>);
      target[m.key] = 1;
      continue;
    }
    const ps = paths(v);
    if (ps.length === 0) return v;
    const p = ps[m.pick % ps.length] as Path;
    const parent = parentOf(v, p);
    const key = p.at(-1) as string | number;
    if (m.kind === 'set') parent[key] = m.value;
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
  return v;
}

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
