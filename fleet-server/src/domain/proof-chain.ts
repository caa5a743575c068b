/**
 * Pure proof-of-play chain checks. Each device signs its proofs with its enrolled Ed25519 key and
 * chains them: seq 1, 2, 3, … and `prev` = proofHash of the previous signed proof.
 *
 * Verdicts:
 * - accept:    new proof, signature valid; `gap` tells which seqs never arrived (lost on the device).
 * - duplicate: a seq we already hold (a re-send after reconnect, or a replay): dropped, re-acked.
 * - reject:    forged (bad or foreign signature), wrong device, a fork of the chain, or a seq
 *              jumping further than any real loss (MAX_PROOF_SEQ_JUMP).
 */
import type { KeyObject } from 'node:crypto';
import {
  checkSignatures,
  GENESIS_PREV,
  keyId,
  type Proof,
  proofDigests,
  verifyBytes,
  verifyBytesAsync,
} from '@loa/protocol';

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

export type ProofRejectCode =
  | 'PROOF_DEVICE_MISMATCH'
  | 'PROOF_SIGNATURE_INVALID'
  | 'PROOF_CHAIN_BROKEN'
  | 'PROOF_SEQ_JUMP';

/**
 * Largest forward jump of seq accepted as "proofs lost on the device". A station writes a few
 * hundred proofs a day; a jump past this is not a loss but a bogus number (2^53−1 would make every
 * later real proof a "duplicate"), so it is refused and the chain state is left as it was.
 */
export const MAX_PROOF_SEQ_JUMP = 100_000;

export type ChainVerdict =
  /** `canonical`: the proof's canonical text (signatures included), as stored (checkProofsAsync). */
  | { kind: 'accept'; state: ChainState; hash: string; gap?: ProofGap; canonical?: string }
  | { kind: 'duplicate'; seq: number }
  | { kind: 'reject'; code: ProofRejectCode; message: string };

/**
 * True when a valid signature by the device's own key is on the proof (and no invalid one).
 * `keyid` may be passed precomputed (deriving it exports the key, which costs more than verifying).
 */
export function proofSignedBy(
  proof: Proof,
  devicePublicKey: KeyObject,
  keyid?: string,
  signingBytes?: Buffer,
): boolean {
  const id = keyid ?? keyId(devicePublicKey);
  const res = checkSignatures(proof, (k) => (k === id ? devicePublicKey : undefined), signingBytes);
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
  const mismatch = deviceMismatch(proof, topicDeviceId);
  if (mismatch) return mismatch;
  const { signingBytes, hash } = proofDigests(proof);
  const signed = proofSignedBy(proof, devicePublicKey, keyid, signingBytes);
  return chainVerdict(proof, topicDeviceId, signed, hash, state);
}

/**
 * checkProof with the Ed25519 verification in libuv's thread pool (the server's ingest path): the
 * same verdicts, while the event loop keeps serving MQTT. `state` is read when the signature has
 * been checked, so pass a function when proofs of the same device may be checked concurrently
 * (the ingest service handles each device's proofs one at a time).
 */
export async function checkProofAsync(
  proof: Proof,
  topicDeviceId: string,
  devicePublicKey: KeyObject,
  state: () => ChainState | undefined,
  keyid?: string,
): Promise<ChainVerdict> {
  const mismatch = deviceMismatch(proof, topicDeviceId);
  if (mismatch) return mismatch;
  const { signingBytes, hash } = proofDigests(proof);
  const id = keyid ?? keyId(devicePublicKey);
  // same rule as proofSignedBy: the device's own signature valid, and no invalid one of its key
  const mine = proof.signatures.filter((s) => s.keyid === id);
  const results = await Promise.all(
    mine.map((s) => verifyBytesAsync(devicePublicKey, signingBytes, Buffer.from(s.sig, 'base64'))),
  );
  const signed = results.length > 0 && results.some((ok) => ok);
  return chainVerdict(proof, topicDeviceId, signed, hash, state());
}

/**
 * Proofs of a batch verified on the event loop between two yields. A thread-pool job per
 * signature costs a hand-over (and, on a busy machine, a context switch) about as dear as the
 * verification itself; a batch is verified in place instead, a few at a time (about 1.5 ms), so
 * other connections are served in between.
 */
const VERIFY_IN_PLACE = 8;

/**
 * Checks several proofs of one device, in order, as if each had come alone after the previous
 * one: the signatures are verified first (a lone proof in the thread pool, a batch in place a
 * few at a time), then the chain is walked from `state`, each accepted proof becoming the state
 * the next one is checked against. A rejected proof leaves the state as it was, so only that
 * proof is refused (a later one that links to it arrives as after a gap).
 */
export async function checkProofsAsync(
  proofs: readonly Proof[],
  topicDeviceId: string,
  devicePublicKey: KeyObject,
  state: () => ChainState | undefined,
  keyid?: string,
): Promise<ChainVerdict[]> {
  const id = keyid ?? keyId(devicePublicKey);
  const checked: Checked[] = [];
  if (proofs.length === 1) {
    const proof = proofs[0] as Proof;
    const mismatch = deviceMismatch(proof, topicDeviceId);
    if (mismatch) checked.push({ mismatch, signed: false, hash: '', canonical: '' });
    else {
      const { signingBytes, hash, canonical } = proofDigests(proof);
      const mine = proof.signatures.filter((s) => s.keyid === id);
      const results = await Promise.all(
        mine.map((s) => verifyBytesAsync(devicePublicKey, signingBytes, Buffer.from(s.sig, 'base64'))),
      );
      checked.push({ signed: results.length > 0 && results.some((ok) => ok), hash, canonical });
    }
  } else {
    for (let i = 0; i < proofs.length; i++) {
      if (i > 0 && i % VERIFY_IN_PLACE === 0) await new Promise((r) => setImmediate(r));
      const proof = proofs[i] as Proof;
      const mismatch = deviceMismatch(proof, topicDeviceId);
      if (mismatch) {
        checked.push({ mismatch, signed: false, hash: '', canonical: '' });
        continue;
      }
      const { signingBytes, hash, canonical } = proofDigests(proof);
      // same rule as proofSignedBy: the device's own signature valid
      let signed = false;
      for (const s of proof.signatures)
        if (s.keyid === id && verifyBytes(devicePublicKey, signingBytes, Buffer.from(s.sig, 'base64'))) {
          signed = true;
          break;
        }
      checked.push({ signed, hash, canonical });
    }
  }
  let cur = state();
  const out: ChainVerdict[] = [];
  for (let i = 0; i < proofs.length; i++) {
    const c = checked[i] as Checked;
    if (c.mismatch) {
      out.push(c.mismatch);
      continue;
    }
    const v = chainVerdict(proofs[i] as Proof, topicDeviceId, c.signed, c.hash, cur);
    if (v.kind === 'accept') {
      cur = v.state;
      v.canonical = c.canonical;
    }
    out.push(v);
  }
  return out;
}

/** One proof of a batch after its signature check, before the chain walk. */
interface Checked {
  mismatch?: ChainVerdict;
  signed: boolean;
  hash: string;
  canonical: string;
}

function deviceMismatch(proof: Proof, topicDeviceId: string): ChainVerdict | undefined {
  if (proof.deviceId === topicDeviceId) return undefined;
  return {
    kind: 'reject',
    code: 'PROOF_DEVICE_MISMATCH',
    message: `device ${topicDeviceId} sent a proof for device ${proof.deviceId}`,
  };
}

function chainVerdict(
  proof: Proof,
  topicDeviceId: string,
  signed: boolean,
  hash: string,
  state: ChainState | undefined,
): ChainVerdict {
  if (!signed)
    return {
      kind: 'reject',
      code: 'PROOF_SIGNATURE_INVALID',
      message: `proof seq ${proof.seq} is not signed by the enrolled key of ${topicDeviceId}`,
    };
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
  if (proof.seq - last.seq > MAX_PROOF_SEQ_JUMP)
    return {
      kind: 'reject',
      code: 'PROOF_SEQ_JUMP',
      message: `proof seq ${proof.seq} jumps more than ${MAX_PROOF_SEQ_JUMP} past seq ${last.seq}`,
    };
  // seq jumped: the missing proofs were lost on the device; the chain resumes from this proof.
  return {
    kind: 'accept',
    state: { seq: proof.seq, hash },
    hash,
    gap: { from: last.seq + 1, to: proof.seq - 1 },
  };
}
