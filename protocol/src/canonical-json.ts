/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 * - object members sorted by their names compared as UTF-16 code units;
 * - numbers serialised as ECMAScript Number.prototype.toString (what JSON.stringify does);
 * - strings serialised as JSON.stringify does (which matches RFC 8785's escaping);
 * - no insignificant white space.
 * Values that JSON cannot represent (undefined, functions, NaN, Infinity, BigInt) and strings
 * with unpaired surrogates (not I-JSON, RFC 7493) are rejected with a TypeError.
 *
 * This sits on the server's hot path (every proof is canonicalised to check its signature and its
 * chain hash), so it avoids per-call allocations it does not need: `Array.prototype.sort()` without a
 * comparator already orders strings by UTF-16 code units, and well-formedness is checked natively.
 */
export function canonicalize(value: unknown): string {
  return inOrder(value, 0) ? JSON.stringify(value) : write(value, []);
}

/**
 * Deepest nesting the in-order walk follows (deeper values take the general path, which finds
 * a cycle).
 */
const IN_ORDER_DEPTH = 64;

/**
 * True when `v` is plain JSON data already in canonical order, so that `JSON.stringify(v)` is its
 * canonical form: `null`, booleans, finite numbers, well-formed strings, arrays, and plain objects
 * (no `toJSON`, no `undefined` member) whose member names are in strictly increasing UTF-16 order
 * at every level. A canonical text parses back to such a value (a device that sends its documents
 * canonically, as the agent sends proofs, is checked and hashed without re-serialising). Anything
 * else, or a doubt, is false: the general path decides (and refuses what canonical JSON cannot hold).
 */
function inOrder(v: unknown, depth: number): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'string':
      return isWellFormed.call(v);
    case 'object':
      break;
    default:
      return false;
  }
  if (depth >= IN_ORDER_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!inOrder(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const rec = v as Record<string, unknown>;
  if (typeof rec.toJSON === 'function') return false;
  let prev: string | undefined;
  for (const k in rec) {
    if (!Object.hasOwn(rec, k)) return false;
    // strictly increasing by UTF-16 code units (`<` on strings), and each name well-formed
    if ((prev !== undefined && !(prev < k)) || !isWellFormed.call(k)) return false;
    const x = rec[k];
    if (x === undefined || !inOrder(x, depth + 1)) return false;
    prev = k;
  }
  return true;
}

/** The objects on the path from the root to the current value (a cycle is an object seen on it). */
type Path = object[];

function write(value: unknown, path: Path): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold NaN or Infinity');
      return JSON.stringify(value);
    case 'string':
      return writeString(value);
    case 'object':
      return writeObject(value as object, path);
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

function writeObject(obj: object, path: Path): string {
  if (path.includes(obj)) throw new TypeError('canonical JSON cannot hold a cycle');
  path.push(obj);
  try {
    if (Array.isArray(obj)) {
      let out = '[';
      for (let i = 0; i < obj.length; i++) {
        const v: unknown = obj[i];
        if (i > 0) out += ',';
        out += write(v === undefined ? null : v, path);
      }
      return `${out}]`;
    }
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      return write((obj as { toJSON: () => unknown }).toJSON(), path);
    }
    const rec = obj as Record<string, unknown>;
    // default sort: UTF-16 code unit order, as RFC 8785 §3.2.3 requires (not code points, not locale)
    const keys = Object.keys(rec).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const v = rec[k];
      if (v === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += `${writeString(k)}:${write(v, path)}`;
    }
    return `${out}}`;
  } finally {
    path.pop();
  }
}

/** String.prototype.isWellFormed (ES2024; in every Node this project supports). */
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean })
  .isWellFormed;

/** RFC 8785 works on I-JSON (RFC 7493), which forbids unpaired surrogates: refuse them. */
function writeString(s: string): string {
  if (!isWellFormed.call(s)) throw new TypeError('canonical JSON cannot hold a lone surrogate (not I-JSON)');
  return JSON.stringify(s);
}

/**
 * The canonical JSON of an object with and without one of its top-level members, in one pass over
 * the others: what a signed document needs twice (its signing bytes leave `signatures` out, its
 * hash covers everything). Equal to `canonicalize(without)` and `canonicalize(obj)`.
 */
export function canonicalizeWithout(obj: object, member: string): { without: string; full: string } {
  const rec = obj as Record<string, unknown>;
  if (inOrder(obj, 0)) {
    const { [member]: _left, ...rest } = rec;
    return { without: JSON.stringify(rest), full: JSON.stringify(obj) };
  }
  const path: Path = [obj];
  let without = '{';
  let full = '{';
  for (const k of Object.keys(rec).sort()) {
    const v = rec[k];
    if (v === undefined) continue;
    const part = `${writeString(k)}:${write(v, path)}`;
    if (full.length > 1) full += ',';
    full += part;
    if (k === member) continue;
    if (without.length > 1) without += ',';
    without += part;
  }
  return { without: `${without}}`, full: `${full}}` };
}

/** Canonical bytes (UTF-8) of a value. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
