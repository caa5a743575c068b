/** Pure proof chain checks, with properties over generated chains. */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  GENESIS_PREV,
  generateKeyPair,
  type KeyPair,
  type Proof,
  type ProofBody,
  proofHash,
} from '@loa/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainState,
  checkProof,
  checkProofAsync,
} from '../../../fleet-server/src/domain/proof-chain.js';

const dev = generateKeyPair();
const rogue = generateKeyPair();

function mk(seq: number, prev: string, key: KeyPair = dev, deviceId = 'st-1'): Proof {
  const body: ProofBody = {
    type: 'loa-proof',
    format: 1,
    eventId: randomUUID(),
    deviceId,
    seq,
    prev,
    outcome: 'completed',
    relays: { amplifier: true },
    clockTrusted: true,
    at: '2026-11-26T05:30:00+07:00',
  };
  return addSignature(body, key.privateKey) as Proof;
}

function chainOf(n: number): Proof[] {
  const out: Proof[] = [];
  let prev = GENESIS_PREV;
  for (let i = 1; i <= n; i++) {
    const p = mk(i, prev);
    out.push(p);
    prev = proofHash(p);
  }
  return out;
}

describe('checkProof', () => {
  const chain = chainOf(12);

  it('accepts a whole chain in order, and every re-delivery afterwards is a duplicate', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 20 }), (replays) => {
        let state: ChainState | undefined;
        for (const p of chain) {
          const v = checkProof(p, 'st-1', dev.publicKey, state);
          expect(v.kind).toBe('accept');
          if (v.kind === 'accept') state = v.state;
        }
        for (const i of replays)
          expect(checkProof(chain[i] as Proof, 'st-1', dev.publicKey, state).kind).toBe('duplicate');
      }),
      { numRuns: 20 },
    );
  });

  it('reports a gap of exactly the missing seqs when proofs are lost on the device', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3 }), (upTo, lost) => {
        fc.pre(upTo + lost < 12);
        let state: ChainState | undefined;
        for (const p of chain.slice(0, upTo)) {
          const v = checkProof(p, 'st-1', dev.publicKey, state);
          if (v.kind === 'accept') state = v.state;
        }
        const v = checkProof(chain[upTo + lost] as Proof, 'st-1', dev.publicKey, state);
        expect(v).toMatchObject({ kind: 'accept', gap: { from: upTo + 1, to: upTo + lost } });
      }),
      { numRuns: 30 },
    );
  });

  it('rejects forged, foreign, forked and tampered proofs', () => {
    const state = { seq: 1, hash: proofHash(chain[0] as Proof) };
    expect(checkProof(mk(2, state.hash, rogue), 'st-1', dev.publicKey, state)).toMatchObject({
      kind: 'reject',
      code: 'PROOF_SIGNATURE_INVALID',
    });
    expect(checkProof(chain[1] as Proof, 'st-2', dev.publicKey, state)).toMatchObject({
      code: 'PROOF_DEVICE_MISMATCH',
    });
    expect(checkProof(mk(2, 'b'.repeat(64)), 'st-1', dev.publicKey, state)).toMatchObject({
      code: 'PROOF_CHAIN_BROKEN',
    });
    // a different proof with the seq already stored is a fork, not a duplicate
    expect(checkProof(mk(1, GENESIS_PREV), 'st-1', dev.publicKey, state)).toMatchObject({
      code: 'PROOF_CHAIN_BROKEN',
    });
    const tampered = { ...(chain[1] as Proof), outcome: 'failed' as const };
    expect(checkProof(tampered, 'st-1', dev.publicKey, state)).toMatchObject({
      code: 'PROOF_SIGNATURE_INVALID',
    });
  });

  it('a first proof must start from the genesis hash', () => {
    expect(checkProof(mk(1, 'c'.repeat(64)), 'st-1', dev.publicKey, undefined)).toMatchObject({
      code: 'PROOF_CHAIN_BROKEN',
    });
    expect(checkProof(chain[0] as Proof, 'st-1', dev.publicKey, undefined).kind).toBe('accept');
  });
});

describe('checkProofAsync (signature checked in the thread pool, as the ingest service does)', () => {
  const chain = chainOf(6);
  const state = { seq: 2, hash: proofHash(chain[1] as Proof) };
  const twoSigs = addSignature(mk(3, state.hash), rogue.privateKey) as Proof;
  const badSig = {
    ...(chain[2] as Proof),
    signatures: [{ ...(chain[2] as Proof).signatures[0], sig: `${'A'.repeat(86)}==` }],
  } as Proof;
  const cases: [string, Proof, string, ChainState | undefined][] = [
    ['next in chain', chain[2] as Proof, 'st-1', state],
    ['duplicate', chain[0] as Proof, 'st-1', state],
    ['gap', chain[5] as Proof, 'st-1', state],
    ['forged', mk(3, state.hash, rogue), 'st-1', state],
    ['foreign topic', chain[2] as Proof, 'st-2', state],
    ['fork', mk(2, state.hash), 'st-1', state],
    ['tampered', { ...(chain[2] as Proof), outcome: 'failed' } as Proof, 'st-1', state],
    ['signature bytes wrong', badSig, 'st-1', state],
    ['own and a foreign signature', twoSigs, 'st-1', state],
    ['first proof', chain[0] as Proof, 'st-1', undefined],
  ];
  for (const [name, proof, topic, st] of cases)
    it(`gives the same verdict as checkProof: ${name}`, async () => {
      const sync = checkProof(proof, topic, dev.publicKey, st);
      const async = await checkProofAsync(proof, topic, dev.publicKey, () => st);
      expect(async).toEqual(sync);
    });
});
