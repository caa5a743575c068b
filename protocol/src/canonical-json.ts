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
  return write(value, []);
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
