/**
 * Random breakage of valid documents, for the tests that hold a hand-written check beside its zod
 * schema (health, proofs): a value replaced by junk or a boundary, a key removed, an unknown key
 * added, one to three places at a time.
 */
import fc from 'fast-check';

/** Values that break a field, or sit just at or past one of the schema's bounds. */
export const junk = fc.oneof(
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

/** Breakages whose replacement values come from `values` (default: `junk`). */
export function mutationFrom(values: fc.Arbitrary<unknown> = junk): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: values }) },
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
}

export const mutation: fc.Arbitrary<Mutation> = mutationFrom();

export function mutate(valid: unknown, ms: Mutation[]): unknown {
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
    // a copy: the junk constants are shared between runs and must never be mutated themselves
    if (m.kind === 'set') parent[key] = structuredClone(m.value);
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
  return v;
}
