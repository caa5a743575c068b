import { z } from 'zod';
import { InstantSchema } from './manifest.js';
import { KeyIdSchema, SignatureSchema } from './signing.js';
import { UnitPathSchema } from './units.js';

export const TRUST_FORMAT = 1;
/**
 * Signing roles. `release` signs agent releases (self-update): a province gives it to an offline
 * release key only, never to a content key or a server-held key (the server refuses such a policy).
 */
export const RoleSchema = z.enum(['content', 'emergency', 'live', 'command', 'release']);
export type Role = z.infer<typeof RoleSchema>;
export const ROLES: readonly Role[] = RoleSchema.options;

/** A raw Ed25519 public key, 32 bytes in base64. */
export const RawPublicKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'a public key is 32 bytes in base64');

export const RootKeySchema = z.strictObject({ keyid: KeyIdSchema, publicKey: RawPublicKeySchema });

export const DelegatedKeySchema = z.strictObject({
  keyid: KeyIdSchema,
  publicKey: RawPublicKeySchema,
  /** Who holds it, for people reading the policy. */
  name: z.string().max(200).optional(),
  roles: z.array(RoleSchema).min(1),
  /** Unit paths this key may address; a province path covers every unit under it. */
  scope: z.array(UnitPathSchema).min(1).max(10_000),
});
export type DelegatedKey = z.infer<typeof DelegatedKeySchema>;

const trustShape = {
  type: z.literal('loa-trust'),
  format: z.number().int(),
  /** Only goes up: a station refuses a policy older than the one it has. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  created: InstantSchema,
  expires: InstantSchema.optional(),
  /** The root keys that sign this policy and the next one. */
  root: z.strictObject({ keys: z.array(RootKeySchema).min(1).max(16), threshold: z.number().int().min(1) }),
  keys: z.array(DelegatedKeySchema).max(10_000),
  /** Distinct signatures needed per role; a role not listed needs 1. */
  thresholds: z.partialRecord(RoleSchema, z.number().int().min(1).max(16)),
};
export const TrustBodySchema = z.strictObject(trustShape);
export const TrustPolicySchema = z.strictObject({
  ...trustShape,
  signatures: z.array(SignatureSchema).max(32),
});
export type TrustBody = z.infer<typeof TrustBodySchema>;
export type TrustPolicy = z.infer<typeof TrustPolicySchema>;

export function thresholdFor(policy: Pick<TrustBody, 'thresholds'>, role: Role): number {
  return policy.thresholds[role] ?? 1;
}
