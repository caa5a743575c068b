/**
 * Recalls (signed withdrawal of a published bundle). A recall, `loa-recall`, names one bundle
 * (id, channel, version) and is signed under the roles that bundle needed (`requiredRoles` of its
 * manifest: an emergency bundle is recalled by `emergency` keys, a programme by `content` keys),
 * covering every target unit, with the policy's threshold. A station that accepts it refuses that
 * bundle from then on, removes it from its programme (stopping it if it is on air) and signs a
 * proof with outcome `withdrawn`. The server re-sends it to a station that reconnects, so a
 * station offline at the time obeys when it returns. For an emergency, this is its cancel.
 */
import { z } from 'zod';
import { VerifyError } from './errors.js';
import { ChannelSchema, IdSchema, InstantSchema, type Manifest, TargetSchema } from './manifest.js';
import { SignatureSchema } from './signing.js';
import { type Role, RoleSchema, type TrustPolicy } from './trust.js';
import {
  checkRoleSignatures,
  DEFAULT_CLOCK_SKEW_MS,
  type DeviceIdentity,
  documentDigest,
  requiredRoles,
  targetMatches,
} from './verify.js';

export const RECALL_FORMAT = 1;

const recallShape = {
  type: z.literal('loa-recall'),
  format: z.number().int(),
  /** Unique per recall. */
  id: IdSchema,
  bundleId: IdSchema,
  channel: ChannelSchema,
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The roles the recalled bundle needed; the recall is signed under each of them. */
  roles: z.array(RoleSchema).min(1).max(5),
  /** The recalled bundle's targets (the signers' scope must cover every unit). */
  targets: z.array(TargetSchema).min(1).max(1000),
  /** Why, in the operator's words (shown on the technician page and in the proof). */
  reason: z.string().min(1).max(500),
  issued: InstantSchema,
  /** Stations keep the recall until then (the recalled bundle's expiry). */
  expires: InstantSchema,
};
export const RecallBodySchema = z.strictObject(recallShape);
export const RecallSchema = z.strictObject({ ...recallShape, signatures: z.array(SignatureSchema).max(32) });
export type RecallBody = z.infer<typeof RecallBodySchema>;
export type Recall = z.infer<typeof RecallSchema>;

/** Server → device (`d/{id}/recall`) or unit subtree (`u/{unit}/recall`). */
export const RecallNotifySchema = z.strictObject({ recall: RecallSchema, serverTime: InstantSchema });
export type RecallNotify = z.infer<typeof RecallNotifySchema>;

export interface VerifyRecallOptions {
  trust: TrustPolicy;
  now: Date;
  device?: DeviceIdentity;
  /** The recalled bundle's manifest when the station (or server) holds it. */
  manifest?: Manifest;
  clockSkewMs?: number;
}

/** True when a recall signed under `roles` may withdraw a bundle needing `manifest`'s roles. */
export function recallCovers(roles: readonly Role[], manifest: Pick<Manifest, 'items'>): boolean {
  return requiredRoles(manifest).every((r) => roles.includes(r));
}

/**
 * Verifies a recall: schema, format, signatures under every role it names (and, when the
 * recalled manifest is known, every role that manifest needs, over its target units too),
 * validity and target. Throws VerifyError with a stable code.
 */
export function verifyRecall(raw: unknown, opts: VerifyRecallOptions): { recall: Recall; digest: string } {
  const parsed = RecallSchema.safeParse(raw);
  if (!parsed.success)
    throw new VerifyError(
      'RECALL_MALFORMED',
      parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`)
        .join('; '),
    );
  const recall = parsed.data;
  if (recall.format !== RECALL_FORMAT)
    throw new VerifyError('FORMAT_UNSUPPORTED', `recall format ${recall.format} is not supported`);
  const m = opts.manifest;
  if (m) {
    if (m.id !== recall.bundleId || m.channel !== recall.channel || m.version !== recall.version)
      throw new VerifyError(
        'RECALL_MISMATCH',
        `the recall names ${recall.channel}@${recall.version} (${recall.bundleId}), not ${m.channel}@${m.version} (${m.id})`,
      );
    if (!recallCovers(recall.roles, m))
      throw new VerifyError(
        'ROLE_NOT_AUTHORISED',
        `the bundle needs the ${requiredRoles(m).join(', ')} role(s); the recall is signed under ${recall.roles.join(', ')}`,
      );
  }
  const units = [...new Set([...recall.targets, ...(m?.targets ?? [])].map((t) => t.unit))];
  checkRoleSignatures(recall, opts.trust, [...new Set(recall.roles)], units);
  const now = opts.now.getTime();
  if (Date.parse(recall.issued) - (opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS) > now)
    throw new VerifyError('NOT_YET_VALID', `the recall is issued at ${recall.issued}`);
  if (Date.parse(recall.expires) <= now)
    throw new VerifyError('EXPIRED', `the recall expired at ${recall.expires}`);
  if (opts.device && !recall.targets.some((t) => targetMatches(t, opts.device as DeviceIdentity)))
    throw new VerifyError('TARGET_MISMATCH', `the recall is not addressed to unit ${opts.device.unit}`);
  return { recall, digest: documentDigest(recall) };
}
