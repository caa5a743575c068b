/**
 * The pieces the hand-written hot-path checks (`health-check.ts`, `proof-check.ts`) share, each
 * with zod's semantics: strict objects, safe integers for `.int()`, finite numbers, string lengths
 * in UTF-16 units, records as plain objects, the patterns zod itself checks with.
 */
import { ID_PATTERN, InstantSchema } from './manifest.js';

/** The pattern a zod string format checks with (read once, so both use the same). */
export function patternOf(schema: unknown, what: string): RegExp {
  const p = (schema as { _zod?: { pattern?: unknown } })._zod?.pattern;
  if (!(p instanceof RegExp)) throw new Error(`schema check: ${what} has no pattern`);
  return p;
}

const INSTANT = patternOf(InstantSchema, 'InstantSchema');

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isPlain = (v: unknown): v is Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
export const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const numIn = (v: unknown, min: number, max: number) => num(v) && v >= min && v <= max;
export const int = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
export const str = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
export const instant = (v: unknown) => typeof v === 'string' && INSTANT.test(v);
export const id = (v: unknown) => typeof v === 'string' && ID_PATTERN.test(v);
export const oneOf = (v: unknown, values: readonly string[]) => typeof v === 'string' && values.includes(v);

/** Every own enumerable key of `o` is one of `keys` (a strict object). */
export function onlyKeys(o: Obj, keys: ReadonlySet<string>): boolean {
  for (const k in o) if (Object.hasOwn(o, k) && !keys.has(k)) return false;
  return true;
}

const RELAY_KEYS = new Set(['amplifier', 'zones', 'input']);
const RELAY_INPUTS = ['player', 'fm', 'line'];

function zones(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k) && typeof v[k] !== 'boolean') return false;
  return true;
}

/** `RelaysSchema`: the amplifier, the zones and the input as the board drives them. */
export function relays(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, RELAY_KEYS) &&
    typeof v.amplifier === 'boolean' &&
    (v.zones === undefined || zones(v.zones)) &&
    (v.input === undefined || oneOf(v.input, RELAY_INPUTS))
  );
}
