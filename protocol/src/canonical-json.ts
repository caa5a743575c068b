/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 * - object members sorted by their names compared as UTF-16 code units;
 * - numbers serialised as ECMAScript Number.prototype.toString (what JSON.stringify does);
 * - strings serialised as JSON.stringify does (which matches RFC 8785's escaping);
 * - no insignificant white space.
 * Values that JSON cannot represent (undefined, functions, NaN, Infinity, BigInt) and strings
 * with unpaired surrogates (not I-JSON, RFC 7493) are rejected with a TypeError.
 */
export function canonicalize(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
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
      break;
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('canonical JSON cannot hold a cycle');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((v) => write(v === undefined ? null : v, seen)).join(',')}]`;
    }
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      return write((obj as { toJSON: () => unknown }).toJSON(), seen);
    }
    const keys = Object.keys(obj)
      .filter((k) => (obj as Record<string, unknown>)[k] !== undefined)
      .sort(compareUtf16);
    const parts = keys.map((k) => `${writeString(k)}:${write((obj as Record<string, unknown>)[k], seen)}`);
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** RFC 8785 works on I-JSON (RFC 7493), which forbids unpaired surrogates: refuse them. */
function writeString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError('canonical JSON cannot hold a lone surrogate (not I-JSON)');
  return JSON.stringify(s);
}

/** Compare by UTF-16 code units, as RFC 8785 §3.2.3 requires (not by code points, not locale). */
function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Canonical bytes (UTF-8) of a value. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
