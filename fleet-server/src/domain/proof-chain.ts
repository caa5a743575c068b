/**
 * Pure proof-of-play chain checks. Each device signs its proofs with its enrolled Ed25519 key and
 * chains them: seq 1, 2, 3, … and `prev` = proofHash of the previous signed proof.
 *
 * Verdicts:
 * - accept:    new proof, signature valid; `gap` tells which seqs never arrived (lost on the device).
 * - duplicate: a seq we already hold (a re-send after reconnect, or a replay): dropped, re-acked.
 * - reject:    forged (bad or foreign signature), wrong device, or a fork of the chain.
 */
import type { KeyObject } from 'node:crypto';
import { checkSignatures, GENESIS_PREV, keyId, type Proof, proofHash } from '@loa/protocol';

/** What the server remembers per device: the last accepted seq and its hash. */
export interface ChainState {
  seq: number;
  hash: string;
}

export interface ProofGap {
  /** First missing seq. */
  from: number;
  /** Last missing seq. */
  to: number;
}

export type ProofRejectCode = 'PROOF_DEVICE_MISMATCH' | 'PROOF_SIGNATURE_INVALID' | 'PROOF_CHAIN_BROKEN';

export type ChainVerdict =
  | { kind: 'accept'; state: ChainState; hash: string; gap?: ProofGap }
  | { kind: 'duplicate'; seq: number }
  | { kind: 'reject'; code: ProofRejectCode; message: string };

/**
 * True when a valid signature by the device's own key is on the proof (and no invalid one).
 * `keyid` may be passed precomputed (deriving it exports the key, which costs more than verifying).
 */
export function proofSignedBy(proof: Proof, devicePublicKey: KeyObject, keyid?: string): boolean {
  const id = keyid ?? keyId(devicePublicKey);
  const res = checkSignatures(proof, (k) => (k === id ? devicePublicKey : undefined));
  return res.valid.includes(id) && res.invalid.length === 0;
}

/**
 * Checks one proof against the device's chain state. `topicDeviceId` is the device the broker
 * authenticated (the topic it published on); the proof must be its own.
 */
export function checkProof(
  proof: Proof,
  topicDeviceId: string,
  devicePublicKey: KeyObject,
  state: ChainState | undefined,
  keyid?: string,
): ChainVerdict {
  if (proof.deviceId !== topicDeviceId)
    return {
      kind: 'reject',
      code: 'PROOF_DEVICE_MISMATCH',
      message: `device ${topicDeviceId} sent a proof for device ${proof.deviceId}`,
    };
  if (!proofSignedBy(proof, devicePublicKey, keyid))
    return {
      kind: 'reject',
      code: 'PROOF_SIGNATURE_INVALID',
      message: `proof seq ${proof.seq} is not signed by the enrolled key of ${topicDeviceId}`,
    };
  const hash = proofHash(proof);
  const last = state ?? { seq: 0, hash: GENESIS_PREV };
  if (proof.seq <= last.seq) {
    if (proof.seq === last.seq && hash !== last.hash)
      return {
        kind: 'reject',
        code: 'PROOF_CHAIN_BROKEN',
        message: `a different proof with seq ${proof.seq} is already stored`,
      };
    return { kind: 'duplicate', seq: proof.seq };
  }
  if (proof.seq === last.seq + 1) {
    if (proof.prev !== last.hash)
      return {
        kind: 'reject',
        code: 'PROOF_CHAIN_BROKEN',
        message: `proof seq ${proof.seq} does not follow seq ${last.seq} (prev hash differs)`,
      };
    return { kind: 'accept', state: { seq: proof.seq, hash }, hash };
  }
  // seq jumped: the missing proofs were lost on the device; the chain resumes from this proof.
  return {
    kind: 'accept',
    state: { seq: proof.seq, hash },
    hash,
    gap: { from: last.seq + 1, to: proof.seq - 1 },
  };
}
