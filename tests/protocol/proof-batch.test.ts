/** Proof batches: the schema a server reads on d/{id}/proof and the packing an agent sends. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  addSignature,
  GENESIS_PREV,
  generateKeyPair,
  MAX_DEVICE_PAYLOAD,
  PROOF_BATCH_MAX,
  PROOF_MESSAGE_MAX_BYTES,
  type Proof,
  ProofBatchSchema,
  ProofUplinkSchema,
  packProofMessages,
  proofHash,
  proofsOf,
} from '../../protocol/src/index.js';

const key = generateKeyPair();

function chain(n: number, reason = ''): Proof[] {
  const out: Proof[] = [];
  let prev = GENESIS_PREV;
  for (let seq = 1; seq <= n; seq++) {
    const at = new Date(Date.UTC(2026, 10, 26, 1, 0, seq)).toISOString();
    const p = addSignature(
      {
        type: 'loa-proof',
        format: 1,
        eventId: randomUUID(),
        deviceId: 'st-02500-01',
        seq,
        prev,
        outcome: 'completed',
        ...(reason ? { reason } : {}),
        relays: { amplifier: true },
        clockTrusted: true,
        at,
      },
      key.privateKey,
    ) as Proof;
    out.push(p);
    prev = proofHash(p);
  }
  return out;
}

describe('proof batches', () => {
  it('reads a single proof and a batch; refuses an empty, too long or out-of-order batch', () => {
    const proofs = chain(3);
    const single = ProofUplinkSchema.parse(JSON.parse(JSON.stringify(proofs[0])));
    expect(proofsOf(single)).toEqual([proofs[0]]);
    const b = { type: 'loa-proof-batch', format: 1, proofs };
    expect(proofsOf(ProofUplinkSchema.parse(JSON.parse(JSON.stringify(b))))).toEqual(proofs);
    expect(ProofBatchSchema.safeParse({ ...b, proofs: [] }).success).toBe(false);
    expect(ProofBatchSchema.safeParse({ ...b, proofs: [proofs[1], proofs[0]] }).success).toBe(false);
    expect(ProofBatchSchema.safeParse({ ...b, proofs: [proofs[0], proofs[0]] }).success).toBe(false);
    const many = chain(PROOF_BATCH_MAX + 1);
    expect(ProofBatchSchema.safeParse({ ...b, proofs: many }).success).toBe(false);
    expect(ProofBatchSchema.safeParse({ ...b, proofs: many.slice(0, PROOF_BATCH_MAX) }).success).toBe(true);
    expect(ProofUplinkSchema.safeParse({ ...b, extra: 1 }).success).toBe(false);
  });

  it('packs proofs in order under the size cap and the count limit; one proof goes in the single form', () => {
    const proofs = chain(150, 'x'.repeat(400));
    const messages = packProofMessages(proofs);
    const back = messages.flatMap((m) => proofsOf(ProofUplinkSchema.parse(JSON.parse(m.payload))));
    expect(back).toEqual(proofs);
    for (const m of messages) {
      const bytes = Buffer.byteLength(m.payload);
      expect(bytes).toBeLessThanOrEqual(PROOF_MESSAGE_MAX_BYTES);
      expect(bytes).toBeLessThan(MAX_DEVICE_PAYLOAD);
      expect(m.lastSeq).toBe(proofsOf(ProofUplinkSchema.parse(JSON.parse(m.payload))).at(-1)?.seq);
    }
    const small = packProofMessages(chain(150));
    expect(small.map((m) => proofsOf(ProofUplinkSchema.parse(JSON.parse(m.payload))).length)).toEqual([
      PROOF_BATCH_MAX,
      PROOF_BATCH_MAX,
      150 - 2 * PROOF_BATCH_MAX,
    ]);
    const lone = packProofMessages(chain(1));
    expect(JSON.parse(lone[0]?.payload ?? '')).toMatchObject({ type: 'loa-proof', seq: 1 });
    expect(packProofMessages([])).toEqual([]);
  });
});
