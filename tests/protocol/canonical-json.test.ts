import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addSignature,
  canonicalBytes,
  canonicalize,
  canonicalizeWithout,
  GENESIS_PREV,
  generateKeyPair,
  ProofSchema,
  proofDigests,
  proofHash,
  signingBytes,
} from '../../protocol/src/index.js';

/** IEEE 754 bit pattern → number. */
function fromBits(hex: string): number {
  const b = Buffer.from(hex, 'hex');
  return b.readDoubleBE(0);
}

describe('RFC 8785 number serialisation (Appendix B)', () => {
  const vectors: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(vectors)('%s → %s', (bits, expected) => {
    expect(canonicalize(fromBits(bits))).toBe(expected);
  });

  it('rejects NaN and Infinity (7ff8…, 7ff0…, fff0…)', () => {
    for (const bits of ['7ff8000000000000', '7ff0000000000000', 'fff0000000000000'])
      expect(() => canonicalize(fromBits(bits))).toThrow(TypeError);
  });
});

describe('RFC 8785 sample vectors', () => {
  it('canonicalises the §3.2.2 example (numbers, string escapes, literals)', () => {
    const input =
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n' +
      '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}';
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(JSON.parse(input))).toBe(expected);
    // The UTF-8 bytes of the RFC's expected output (its hex dump starts 7b 22 6c 69 74).
    expect(canonicalBytes(JSON.parse(input)).subarray(0, 5).toString('hex')).toBe('7b226c6974');
    expect(canonicalBytes(JSON.parse(input)).includes(Buffer.from('e282ac', 'hex'))).toBe(true);
  });

  it('sorts properties by UTF-16 code units (§3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = Object.values(JSON.parse(canonicalize(input)) as Record<string, string>);
    // JSON.parse re-orders integer-like keys ("1") first, so compare the serialised order instead.
    const serialisedOrder = [...canonicalize(input).matchAll(/":"([^"]+)"/g)].map((m) => m[1]);
    expect(serialisedOrder).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(order).toHaveLength(7);
  });

  it('writes no insignificant white space and keeps Vietnamese text as UTF-8', () => {
    expect(canonicalize({ b: [1, { d: 'Đà Nẵng', c: null }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":null,"d":"Đà Nẵng"}]}',
    );
  });

  it('keeps a "__proto__" member that JSON.parse created as an own property', () => {
    expect(canonicalize(JSON.parse('{"b":2,"__proto__":{"a":1}}'))).toBe('{"__proto__":{"a":1},"b":2}');
  });

  it('rejects lone surrogates (I-JSON) in strings and member names, accepts pairs', () => {
    expect(() => canonicalize({ t: 'a\ud800b' })).toThrow(/lone surrogate/);
    expect(() => canonicalize({ '\udc00': 1 })).toThrow(/lone surrogate/);
    expect(canonicalize({ t: '\ud83d\ude00' })).toBe('{"t":"😀"}');
  });

  it('rejects values JSON cannot hold', () => {
    expect(() => canonicalize({ a: () => 1 })).toThrow(TypeError);
    expect(() => canonicalize(10n)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow(/cycle/);
  });
});

/** Rebuilds a JSON value with every object's keys inserted in a permuted order. */
function permuteKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => permuteKeys(x, seed + i));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    const rotated = keys.map((_, i) => keys[(i + seed) % keys.length] as string).reverse();
    // fromEntries defines own properties, so a "__proto__" key stays a key (plain assignment would not).
    return Object.fromEntries(
      rotated.map((k) => [k, permuteKeys((v as Record<string, unknown>)[k], seed + 1)]),
    );
  }
  return v;
}

describe('canonical JSON properties', () => {
  it('is idempotent: parsing the output and canonicalising again gives the same text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalize(v);
        expect(canonicalize(JSON.parse(once))).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(50), (v, seed) => {
        expect(canonicalize(permuteKeys(v, seed))).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips the value (same data as JSON.parse(JSON.stringify(v)))', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalize(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('serialises every finite double as ECMAScript does, and the text parses back to the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const s = canonicalize(d);
        expect(Object.is(Number(s), d === 0 ? 0 : d)).toBe(true);
        expect(s).toBe(String(d === 0 ? 0 : d));
      }),
      { numRuns: 1000 },
    );
  });

  it('orders object members by UTF-16 code units, whatever the strings', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.integer()), (o) => {
        const keys = [...canonicalize(o).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map(
          (m) => JSON.parse(`"${m[1]}"`) as string,
        );
        const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(keys).toEqual(sorted);
      }),
      { numRuns: 150 },
    );
  });
});

describe('canonicalizeWithout (signing bytes and full form in one pass)', () => {
  it('equals canonicalize of the object without the member, and of the whole object', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue()),
        fc.string({ unit: 'grapheme' }),
        fc.jsonValue(),
        (o, member, value) => {
          const doc: Record<string, unknown> = { ...o, [member]: value };
          const { [member]: _dropped, ...rest } = doc;
          const r = canonicalizeWithout(doc, member);
          expect(r.full).toBe(canonicalize(doc));
          expect(r.without).toBe(canonicalize(rest));
        },
      ),
    );
  });

  it('gives a proof the same signing bytes and hash as signingBytes and proofHash', () => {
    const key = generateKeyPair();
    const body = {
      type: 'loa-proof',
      format: 1,
      eventId: '0b8f3f3e-4c1a-4d55-9f0e-3a1f2b6c7d8e',
      deviceId: 'dev-0001',
      seq: 1,
      prev: GENESIS_PREV,
      outcome: 'completed',
      reason: 'Bản tin phòng chống lũ',
      relays: { amplifier: true, zones: { a: true } },
      clockTrusted: true,
      at: '2026-11-26T10:00:00.000Z',
    } as const;
    const proof = ProofSchema.parse(addSignature(body, key.privateKey));
    const d = proofDigests(proof);
    expect(d.signingBytes.equals(signingBytes(proof))).toBe(true);
    expect(d.hash).toBe(proofHash(proof));
  });

  it('still refuses what canonicalize refuses', () => {
    expect(() => canonicalizeWithout({ a: '\uD800', signatures: [] }, 'signatures')).toThrow(TypeError);
    const cyc: Record<string, unknown> = { signatures: [] };
    cyc.self = { back: cyc };
    expect(() => canonicalizeWithout(cyc, 'signatures')).toThrow(/cycle/);
  });
});

/** An independent JCS writer for the comparison below (sorts every object's members itself). */
function reference(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => reference(x === undefined ? null : x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    const parts = Object.keys(rec)
      .sort()
      .filter((k) => rec[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${reference(rec[k])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The same JSON value with every object's members inserted in sorted order. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(rec)
        .sort()
        .map((k) => [k, sortKeys(rec[k])]),
    );
  }
  return v;
}

describe('values already in canonical order (a canonical text parsed back)', () => {
  it('give the same text as the general path, with or without a member left out', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 4 }), (v, member) => {
        const sorted = sortKeys(v);
        expect(canonicalize(sorted)).toBe(reference(v));
        const parsed = JSON.parse(reference(v)) as unknown;
        expect(canonicalize(parsed)).toBe(reference(v));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          const { [member]: _gone, ...rest } = parsed as Record<string, unknown>;
          const r = canonicalizeWithout(parsed, member);
          expect(r.full).toBe(reference(parsed));
          expect(r.without).toBe(reference(rest));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keep the rules where JSON.stringify alone would differ', () => {
    // array-index names come first in an object whatever their order: UTF-16 order still wins
    expect(canonicalize(JSON.parse('{"10":1,"9":2}'))).toBe('{"10":1,"9":2}');
    expect(canonicalize(JSON.parse('{"9":2,"a":1}'))).toBe('{"9":2,"a":1}');
    // lone surrogates are refused in values and names, in order or not
    expect(() => canonicalize(JSON.parse('{"a":"\\ud800"}'))).toThrow(TypeError);
    expect(() => canonicalize(JSON.parse('{"\\udc00":1}'))).toThrow(TypeError);
    expect(() => canonicalizeWithout(JSON.parse('{"a":"\\ud800","b":1}'), 'b')).toThrow(TypeError);
    // what JSON.stringify would write as null or leave out is refused or skipped as before
    expect(() => canonicalize({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalize({ a: () => 1 })).toThrow(TypeError);
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalize({ a: new Date(0) })).toBe('{"a":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalize({ a: { toJSON: () => 'x' } })).toBe('{"a":"x"}');
    const bare = Object.assign(Object.create(null) as object, { a: 1, b: [true, null] });
    expect(canonicalize(bare)).toBe('{"a":1,"b":[true,null]}');
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.b = cyc;
    expect(() => canonicalize(cyc)).toThrow(/cycle/);
  });
});
