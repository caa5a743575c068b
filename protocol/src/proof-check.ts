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
import { ID_PATTERN, InstantSchema } from './manifest.js';
import { PROOF_BATCH_MAX, type Proof, ProofSchema, type ProofUplink, ProofUplinkSchema } from './proof.js';

/** The pattern a zod string format checks with (read once, so both use the same). */
function patternOf(schema: unknown, what: string): RegExp {
  const p = (schema as { _zod?: { pattern?: unknown } })._zod?.pattern;
  if (!(p instanceof RegExp)) throw new Error(`proof check: ${what} has no pattern`);
  return p;
}

const INSTANT = patternOf(InstantSchema, 'InstantSchema');
const UUID = patternOf(ProofSchema.shape.eventId, 'eventId');
const SHA256 = /^[0-9a-f]{64}$/;
const KEYID = /^[0-9a-f]{64}$/;
const SIG = /^[A-Za-z0-9+/]{86}==$/;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlain = (v: unknown): v is Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
const numIn = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const int = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const str = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
const instant = (v: unknown) => typeof v === 'string' && INSTANT.test(v);
const id = (v: unknown) => typeof v === 'string' && ID_PATTERN.test(v);
const sha = (v: unknown) => typeof v === 'string' && SHA256.test(v);
const oneOf = (v: unknown, values: readonly string[]) => typeof v === 'string' && values.includes(v);

function onlyKeys(o: Obj, keys: ReadonlySet<string>): boolean {
  for (const k in o) if (Object.hasOwn(o, k) && !keys.has(k)) return false;
  return true;
}

const PROOF_KEYS = new Set(Object.keys(ProofSchema.shape));
const RELAY_KEYS = new Set(['amplifier', 'zones', 'input']);
const RELAY_INPUTS = ['player', 'fm', 'line'];
const SWITCH_KEYS = new Set(['at', 'to', 'reason']);
const SWITCH_TO = ['stream', 'fm', 'line', 'recording', 'silence'];
const SIGNATURE_KEYS = new Set(['keyid', 'sig']);
const KINDS = ['play', 'display'];
const PRIORITIES = ['normal', 'priority', 'emergency', 'live', 'fill'];
const OUTCOMES = ['started', 'completed', 'interrupted', 'failed', 'skipped', 'withdrawn'];
const BATCH_KEYS = new Set(['type', 'format', 'proofs']);

function zones(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k) && typeof v[k] !== 'boolean') return false;
  return true;
}

function relays(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, RELAY_KEYS) &&
    typeof v.amplifier === 'boolean' &&
    (v.zones === undefined || zones(v.zones)) &&
    (v.input === undefined || oneOf(v.input, RELAY_INPUTS))
  );
}

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
