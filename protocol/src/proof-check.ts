/**
 * A hand-written check of `ProofSchema` and `ProofUplinkSchema` for the server's proof ingest
 * (zod's generic walk cost about a tenth of the CPU of every proof, as much as the rest of the
 * path besides the signature). Like `isHealth` it answers only "valid and given back unchanged",
 * with zod's semantics for these schemas: strict objects, optional = absent or undefined, safe
 * integers for `.int()`, finite numbers, string lengths in UTF-16 units, the same id, SHA-256,
 * UUID and ISO-instant patterns. A signature entry with a key besides `keyid` and `sig` (which zod
 * strips rather than refuses) is left to zod. A property test (tests/protocol/proof-check.test.ts)
 * runs it beside the zod schemas on random valid and broken proofs and batches. Callers that need
 * the reason of a refusal ask zod (`parseProofUplink`), which is the cold path.
 */
import type { z } from 'zod';
import {
  id,
  instant,
  int,
  isObj,
  numIn,
  oneOf,
  onlyKeys,
  patternOf,
  relays,
  str,
} from './check-primitives.js';
import { SHA256_PATTERN } from './manifest.js';
import {
  PROOF_BATCH_MAX,
  type Proof,
  ProofKindSchema,
  ProofOutcomeSchema,
  ProofSchema,
  type ProofUplink,
  ProofUplinkSchema,
} from './proof.js';
import { KEYID_PATTERN, SIGNATURE_PATTERN } from './signing.js';

const UUID = patternOf(ProofSchema.shape.eventId, 'eventId');
const SHA256 = SHA256_PATTERN;
const KEYID = KEYID_PATTERN;
const SIG = SIGNATURE_PATTERN;
const sha = (v: unknown) => typeof v === 'string' && SHA256.test(v);

const PROOF_KEYS = new Set(Object.keys(ProofSchema.shape));
const SWITCH_KEYS = new Set(['at', 'to', 'reason']);
const SWITCH_TO = ['stream', 'fm', 'line', 'recording', 'silence'];
const SIGNATURE_KEYS = new Set(['keyid', 'sig']);
const KINDS: readonly string[] = ProofKindSchema.options;
const PRIORITIES: readonly string[] = ProofSchema.shape.priority.unwrap().options;
const OUTCOMES: readonly string[] = ProofOutcomeSchema.options;
const BATCH_KEYS = new Set(['type', 'format', 'proofs']);

function switches(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 32) return false;
  for (const s of v)
    if (
      !(isObj(s) && onlyKeys(s, SWITCH_KEYS) && instant(s.at) && oneOf(s.to, SWITCH_TO) && str(s.reason, 200))
    )
      return false;
  return true;
}

function signatures(v: unknown): boolean {
  if (!Array.isArray(v) || v.length < 1 || v.length > 2) return false;
  for (const s of v)
    if (
      !(
        isObj(s) &&
        onlyKeys(s, SIGNATURE_KEYS) &&
        typeof s.keyid === 'string' &&
        KEYID.test(s.keyid) &&
        typeof s.sig === 'string' &&
        SIG.test(s.sig)
      )
    )
      return false;
  return true;
}

/**
 * True when `v` is a valid signed proof that zod would give back unchanged (then
 * `ProofSchema.safeParse(v)` succeeds with data equal to `v`).
 */
export function isProof(v: unknown): v is Proof {
  return (
    isObj(v) &&
    onlyKeys(v, PROOF_KEYS) &&
    v.type === 'loa-proof' &&
    v.format === 1 &&
    typeof v.eventId === 'string' &&
    UUID.test(v.eventId) &&
    id(v.deviceId) &&
    int(v.seq, 1) &&
    (v.kind === undefined || oneOf(v.kind, KINDS)) &&
    sha(v.prev) &&
    (v.bundleId === undefined || id(v.bundleId)) &&
    (v.channel === undefined || str(v.channel, 64)) &&
    (v.bundleVersion === undefined || int(v.bundleVersion, 1)) &&
    (v.itemId === undefined || id(v.itemId)) &&
    (v.entryId === undefined || str(v.entryId, 128)) &&
    (v.contentSha256 === undefined || sha(v.contentSha256)) &&
    (v.priority === undefined || oneOf(v.priority, PRIORITIES)) &&
    (v.scheduledAt === undefined || instant(v.scheduledAt)) &&
    (v.startedAt === undefined || instant(v.startedAt)) &&
    (v.endedAt === undefined || instant(v.endedAt)) &&
    oneOf(v.outcome, OUTCOMES) &&
    (v.reason === undefined || str(v.reason, 500)) &&
    (v.loudnessLufs === undefined || numIn(v.loudnessLufs, -200, 20)) &&
    (v.peakDbfs === undefined || numIn(v.peakDbfs, -200, 20)) &&
    relays(v.relays) &&
    (v.switches === undefined || switches(v.switches)) &&
    typeof v.clockTrusted === 'boolean' &&
    instant(v.at) &&
    signatures(v.signatures)
  );
}

/** True when `v` is a valid proof batch that zod would give back unchanged. */
export function isProofBatch(v: unknown): v is Extract<ProofUplink, { type: 'loa-proof-batch' }> {
  if (!(isObj(v) && onlyKeys(v, BATCH_KEYS) && v.type === 'loa-proof-batch' && v.format === 1)) return false;
  const ps = v.proofs;
  if (!Array.isArray(ps) || ps.length < 1 || ps.length > PROOF_BATCH_MAX) return false;
  let prevSeq = 0;
  for (const p of ps) {
    if (!isProof(p) || p.seq <= prevSeq) return false;
    prevSeq = p.seq;
  }
  return true;
}

/**
 * Parses what a device publishes on `d/{id}/proof`: the fast check for what is valid (the value
 * is returned as it is), zod for the rest (it strips what it strips, and its issues say why a
 * payload is refused). Same answers as `ProofUplinkSchema.safeParse`.
 */
export function parseProofUplink(
  v: unknown,
): { success: true; data: ProofUplink } | { success: false; error: z.ZodError } {
  if (isProof(v) || isProofBatch(v)) return { success: true, data: v };
  const r = ProofUplinkSchema.safeParse(v);
  return r.success ? { success: true, data: r.data } : { success: false, error: r.error };
}
