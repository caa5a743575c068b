/**
 * Enrolment rules (pure): request/response shapes of POST /api/v1/enrol and the checks on a
 * one-time enrolment token (bound to a unit, with expiry and a use count).
 */
import { IdSchema, LoaError, RawPublicKeySchema, TrustPolicySchema, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import type { EnrolmentTokenRecord } from './model.js';

export const EnrolRequestSchema = z.strictObject({
  token: z.string().min(16).max(200),
  /** Raw Ed25519 public key, 32 bytes base64. */
  publicKey: RawPublicKeySchema,
  /** Hardware facts: model, serial, modem IMEI/ICCID, agent version… (small, flat). */
  hardware: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
      z.union([z.string().max(200), z.number(), z.boolean(), z.null()]),
    )
    .refine((h) => Object.keys(h).length <= 32, 'tối đa 32 thông tin phần cứng')
    .default({}),
  /** A device id the agent prefers (kept when free), else the server assigns one. */
  deviceId: IdSchema.optional(),
  name: z.string().trim().max(200).optional(),
});
export type EnrolRequest = z.infer<typeof EnrolRequestSchema>;

export const EnrolResponseSchema = z.object({
  deviceId: IdSchema,
  unit: UnitPathSchema,
  status: z.enum(['active', 'pending']),
  mqtt: z.object({ url: z.string(), username: z.string(), password: z.string(), clientId: z.string() }),
  trust: TrustPolicySchema.nullable(),
  endpoints: z.object({ api: z.string(), blobs: z.string(), mqttWs: z.string() }),
});
export type EnrolResponse = z.infer<typeof EnrolResponseSchema>;

export const EnrolTokenCreateSchema = z.strictObject({
  unit: UnitPathSchema,
  kind: z.enum(['station', 'noticeboard']).default('station'),
  groups: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/))
    .max(32)
    .default([]),
  /** How many devices may enrol with it (a technician's day of work: up to 500). */
  maxUses: z.number().int().min(1).max(500).default(1),
  /** Lifetime in hours (at most 30 days). */
  ttlHours: z
    .number()
    .min(0.05)
    .max(24 * 30)
    .default(24),
  requireApproval: z.boolean().optional(),
  note: z.string().trim().max(500).optional(),
});
export type EnrolTokenCreate = z.infer<typeof EnrolTokenCreateSchema>;

/** Throws the reason a token cannot be used at `now` (codes: ENROL_TOKEN_*). */
export function checkEnrolmentToken(t: EnrolmentTokenRecord | undefined, now: number): EnrolmentTokenRecord {
  if (!t) throw new LoaError('ENROL_TOKEN_INVALID', 'mã đăng ký thiết bị không đúng');
  if (t.revokedAt) throw new LoaError('ENROL_TOKEN_REVOKED', 'mã đăng ký thiết bị đã bị thu hồi');
  if (Date.parse(t.expiresAt) <= now)
    throw new LoaError('ENROL_TOKEN_EXPIRED', 'mã đăng ký thiết bị đã hết hạn');
  if (t.uses >= t.maxUses) throw new LoaError('ENROL_TOKEN_USED', 'mã đăng ký thiết bị đã được dùng hết');
  return t;
}

/** A device id derived from the unit and key: stable for the same key, readable by operators. */
export function proposeDeviceId(unit: string, keyId: string): string {
  return `st-${unit.split('/').at(-1)}-${keyId.slice(0, 10)}`;
}
