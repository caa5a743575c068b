/**
 * The hand-written proof check never disagrees with `ProofSchema` / `ProofUplinkSchema`:
 * fast-check builds valid signed proofs and batches over every field, then breaks them one to
 * three places at a time, and both must give the same answer; a valid payload comes back exactly
 * as zod would return it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isProof,
  isProofBatch,
  ProofSchema,
  ProofUplinkSchema,
  parseProofUplink,
} from '../../protocol/src/index.js';
import { id, instant, num, str } from './arbitraries.js';
import { junk, mutate, mutationFrom } from './schema-mutations.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const sig = fc.stringMatching(/^[A-Za-z0-9+/]{86}==$/);

const proof = fc.record(
  {
    type: fc.constant('loa-proof'),
    format: fc.constant(1),
    eventId: fc.uuid(),
    deviceId: id,
    seq: fc.integer({ min: 1, max: 1e9 }),
    kind: fc.constantFrom('play', 'display'),
    prev: hex64,
    bundleId: id,
    channel: str(64),
    bundleVersion: fc.integer({ min: 1, max: 1e6 }),
    itemId: id,
    entryId: str(128),
    contentSha256: hex64,
    priority: fc.constantFrom('normal', 'priority', 'emergency', 'live', 'fill'),
    scheduledAt: instant,
    startedAt: instant,
    endedAt: instant,
    outcome: fc.constantFrom('started', 'completed', 'interrupted', 'failed', 'skipped', 'withdrawn'),
    reason: str(500),
    loudnessLufs: num(-200, 20),
    peakDbfs: num(-200, 20),
    relays: fc.record(
      {
        amplifier: fc.boolean(),
        zones: fc.dictionary(fc.string({ maxLength: 8 }), fc.boolean(), { maxKeys: 4 }),
        input: fc.constantFrom('player', 'fm', 'line'),
      },
      { requiredKeys: ['amplifier'] },
    ),
    switches: fc.array(
      fc.record({
        at: instant,
        to: fc.constantFrom('stream', 'fm', 'line', 'recording', 'silence'),
        reason: str(200),
      }),
      { maxLength: 3 },
    ),
    clockTrusted: fc.boolean(),
    at: instant,
    signatures: fc.array(fc.record({ keyid: hex64, sig }), { minLength: 1, maxLength: 2 }),
  },
  {
    requiredKeys: [
      'type',
      'format',
      'eventId',
      'deviceId',
      'seq',
      'prev',
      'outcome',
      'relays',
      'clockTrusted',
      'at',
      'signatures',
    ],
  },
);

const batch = fc.array(proof, { minLength: 1, maxLength: 5 }).map((ps) => ({
  type: 'loa-proof-batch',
  format: 1,
  proofs: ps.map((p, i) => ({ ...p, seq: i + 1 })),
}));

/** Proof-specific values at or past the schema's bounds, beside the shared junk. */
const proofJunk = fc.oneof(
  junk,
  fc.constantFrom(
    'loa-proof',
    'loa-proof-batch',
    2,
    'a'.repeat(86) + '==',
    'a'.repeat(85) + '==',
    'f'.repeat(64),
    'F'.repeat(64),
    '0'.repeat(63),
    '123e4567-e89b-12d3-a456-426614174000',
    '123e4567-e89b-92d3-a456-426614174000',
    'display',
    'withdrawn',
    'live',
    'recording',
    [{ keyid: 'a'.repeat(64), sig: `${'a'.repeat(86)}==` }],
    [{ keyid: 'a'.repeat(64), sig: `${'a'.repeat(86)}==`, extra: 1 }],
    new Array(3).fill({ keyid: 'a'.repeat(64), sig: `${'a'.repeat(86)}==` }),
    new Array(33).fill({ at: '2026-12-07T10:00:00Z', to: 'fm', reason: 'x' }),
    [],
  ),
);
const mutation = mutationFrom(proofJunk);

function agree(x: unknown): void {
  const z = ProofUplinkSchema.safeParse(x);
  const shown = JSON.stringify(x, (_k, v) => (v === undefined ? '<undefined>' : v));
  const p = parseProofUplink(x);
  expect(p.success, shown).toBe(z.success);
  if (z.success && p.success) expect(p.data).toEqual(z.data);
  // the fast checks never accept what zod refuses, and accept only what zod gives back unchanged
  if (isProof(x)) {
    const single = ProofSchema.safeParse(x);
    expect(single.success, shown).toBe(true);
    if (single.success) expect(single.data).toEqual(x);
  }
  if (isProofBatch(x)) {
    expect(z.success, shown).toBe(true);
    if (z.success) expect(z.data).toEqual(x);
  }
}

describe('the hand-written proof check agrees with ProofUplinkSchema', () => {
  it('accepts every valid proof and batch, and gives it back as zod does', () => {
    fc.assert(
      fc.property(proof, batch, (p, b) => {
        expect(ProofSchema.safeParse(p).success).toBe(true);
        expect(isProof(p)).toBe(true);
        expect(isProofBatch(b)).toBe(true);
        agree(p);
        agree(b);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('answers like zod on proofs and batches broken in one to three places', () => {
    fc.assert(
      fc.property(fc.oneof(proof, batch), fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, ms) =>
        agree(mutate(v, ms)),
      ),
      { numRuns: 3000 },
    );
  }, 120_000);

  it('answers like zod on values that are not proofs at all', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => agree(x)),
      { numRuns: 2000 },
    );
    for (const x of [null, undefined, [], '{}', 1, new Date(), Object.create(null)]) agree(x);
  });

  it('leaves a batch out of seq order, and a signature with an extra key, to zod', () => {
    const p = fc.sample(proof, { seed: 7, numRuns: 1 })[0] as Record<string, unknown>;
    const outOfOrder = {
      type: 'loa-proof-batch',
      format: 1,
      proofs: [
        { ...p, seq: 2 },
        { ...p, seq: 2 },
      ],
    };
    expect(isProofBatch(outOfOrder)).toBe(false);
    agree(outOfOrder);
    const extra = { ...p, signatures: [{ keyid: 'a'.repeat(64), sig: `${'a'.repeat(86)}==`, note: 'x' }] };
    expect(isProof(extra)).toBe(false);
    const r = parseProofUplink(extra);
    expect(r.success).toBe(true);
    if (r.success)
      expect((r.data as { signatures: object[] }).signatures[0]).toEqual({
        keyid: 'a'.repeat(64),
        sig: `${'a'.repeat(86)}==`,
      });
  });

  it('tells why through zod when a payload is refused', () => {
    const r = parseProofUplink({ type: 'loa-proof', seq: 0 });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.length).toBeGreaterThan(0);
  });
});
