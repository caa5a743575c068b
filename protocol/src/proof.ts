import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalize, canonicalizeWithout } from './canonical-json.js';
import { IdSchema, InstantSchema, Sha256Schema } from './manifest.js';
import { SignatureSchema } from './signing.js';

/** The `prev` of a device's first proof. */
export const GENESIS_PREV = '0'.repeat(64);

/** `withdrawn`: the station dropped a recalled bundle (protocol/src/recall.ts). */
export const ProofOutcomeSchema = z.enum([
  'started',
  'completed',
  'interrupted',
  'failed',
  'skipped',
  'withdrawn',
]);
export type ProofOutcome = z.infer<typeof ProofOutcomeSchema>;

export const RelayStateSchema = z.strictObject({
  amplifier: z.boolean(),
  zones: z.record(z.string(), z.boolean()).optional(),
  input: z.enum(['player', 'fm', 'line']).optional(),
});
export type RelayState = z.infer<typeof RelayStateSchema>;

/** What a proof attests: sound out of the loudspeakers (`play`, the default) or a frame on a screen. */
export const ProofKindSchema = z.enum(['play', 'display']);
export type ProofKind = z.infer<typeof ProofKindSchema>;

const proofShape = {
  type: z.literal('loa-proof'),
  format: z.literal(1),
  /** Unique per event (UUID). */
  eventId: z.uuid(),
  deviceId: IdSchema,
  /** 1, 2, 3, … per device, without gaps. */
  seq: z.number().int().min(1),
  /** Absent means `play`; `display` proofs come from a noticeboard's screen (first frame shown). */
  kind: ProofKindSchema.optional(),
  /** SHA-256 (hex) of the canonical JSON of the previous signed proof, or 64 zeros. */
  prev: Sha256Schema,
  bundleId: IdSchema.optional(),
  channel: z.string().max(64).optional(),
  bundleVersion: z.number().int().min(1).optional(),
  itemId: IdSchema.optional(),
  /** Why it played: the schedule entry, a command id, or an emergency. */
  entryId: z.string().max(128).optional(),
  contentSha256: Sha256Schema.optional(),
  priority: z.enum(['normal', 'priority', 'emergency', 'live', 'fill']).optional(),
  scheduledAt: InstantSchema.optional(),
  startedAt: InstantSchema.optional(),
  endedAt: InstantSchema.optional(),
  outcome: ProofOutcomeSchema,
  reason: z.string().max(500).optional(),
  /** Integrated loudness (EBU R128, LUFS) and true/sample peak (dBFS) measured on the output. */
  loudnessLufs: z.number().min(-200).max(20).optional(),
  peakDbfs: z.number().min(-200).max(20).optional(),
  relays: RelayStateSchema,
  /**
   * Live relays: every switch of source while the item played (to the fallback and back), with
   * the instant and the reason, e.g. {to: "fm", reason: "the stream ended early"}.
   */
  switches: z
    .array(
      z.strictObject({
        at: InstantSchema,
        to: z.enum(['stream', 'fm', 'line', 'recording', 'silence']),
        reason: z.string().max(200),
      }),
    )
    .max(32)
    .optional(),
  clockTrusted: z.boolean(),
  /** When the agent wrote the event (its own clock). */
  at: InstantSchema,
};
export const ProofBodySchema = z.strictObject(proofShape);
export const ProofSchema = z.strictObject({
  ...proofShape,
  signatures: z.array(SignatureSchema).min(1).max(2),
});
export type ProofBody = z.infer<typeof ProofBodySchema>;
export type Proof = z.infer<typeof ProofSchema>;

/** At most this many proofs travel in one `d/{id}/proof` message (a batch). */
export const PROOF_BATCH_MAX = 64;

/**
 * Several signed proofs of one device in one MQTT message, in increasing `seq` order. Each proof
 * keeps its own signature and chain link: the server judges each one exactly as if it had come
 * alone, in the batch's order, writes the accepted ones in one durable append and sends one
 * cumulative ack. The whole message stays within the device payload limit (64 KiB).
 */
export const ProofBatchSchema = z
  .strictObject({
    type: z.literal('loa-proof-batch'),
    format: z.literal(1),
    proofs: z.array(ProofSchema).min(1).max(PROOF_BATCH_MAX),
  })
  .refine((b) => b.proofs.every((p, i) => i === 0 || p.seq > (b.proofs[i - 1] as Proof).seq), {
    message: 'proofs of a batch must be in increasing seq order',
    path: ['proofs'],
  });
export type ProofBatch = z.infer<typeof ProofBatchSchema>;

/** What a device publishes on `d/{id}/proof`: one signed proof (every agent) or a batch. */
export const ProofUplinkSchema = z.union([ProofSchema, ProofBatchSchema]);
export type ProofUplink = z.infer<typeof ProofUplinkSchema>;

/**
 * Largest `d/{id}/proof` message an agent builds (bytes of JSON): under the broker's 64 KiB device
 * payload limit with room to spare.
 */
export const PROOF_MESSAGE_MAX_BYTES = 48 * 1024;

/**
 * Packs proofs (in seq order) into the payloads of `d/{id}/proof` messages: as many as fit in
 * `maxBytes` and PROOF_BATCH_MAX per batch; a message that would carry one proof carries it in the
 * single-proof form, which every server version reads. Each proof is written in its canonical form
 * (section 2, signatures included): a server then hashes and verifies it without re-serialising.
 */
export function packProofMessages(
  proofs: readonly Proof[],
  maxBytes = PROOF_MESSAGE_MAX_BYTES,
): { payload: string; lastSeq: number }[] {
  const out: { payload: string; lastSeq: number }[] = [];
  // `{"type":"loa-proof-batch","format":1,"proofs":[` … `]}`
  const envelope = 48;
  let group: string[] = [];
  let bytes = envelope;
  let lastSeq = 0;
  const close = () => {
    if (group.length === 1) out.push({ payload: group[0] as string, lastSeq });
    else if (group.length > 1)
      out.push({ payload: `{"type":"loa-proof-batch","format":1,"proofs":[${group.join(',')}]}`, lastSeq });
    group = [];
    bytes = envelope;
  };
  for (const p of proofs) {
    const text = canonicalize(p);
    const size = Buffer.byteLength(text) + 1;
    if (group.length > 0 && (bytes + size > maxBytes || group.length >= PROOF_BATCH_MAX)) close();
    group.push(text);
    bytes += size;
    lastSeq = p.seq;
  }
  close();
  return out;
}

/** The proofs an uplink carries, in order. */
export function proofsOf(u: ProofUplink): Proof[] {
  return u.type === 'loa-proof-batch' ? u.proofs : [u];
}

/** The hash that the next proof's `prev` must carry: SHA-256 of this signed proof's canonical JSON. */
export function proofHash(proof: Proof): string {
  return createHash('sha256').update(canonicalBytes(proof)).digest('hex');
}

/**
 * A proof's signing bytes, its hash (proofHash) and its canonical text (signatures included) from
 * one canonicalisation: the server needs all three for every proof it ingests (it stores the
 * canonical text). A proof received in canonical form is not serialised again (see canonicalize).
 */
export function proofDigests(proof: Proof): { signingBytes: Buffer; hash: string; canonical: string } {
  const { without, full } = canonicalizeWithout(proof, 'signatures');
  return {
    signingBytes: Buffer.from(without, 'utf8'),
    hash: createHash('sha256').update(full, 'utf8').digest('hex'),
    canonical: full,
  };
}
