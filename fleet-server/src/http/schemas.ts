/**
 * Answer schemas shared by route modules, built from the model's record schemas
 * (domain/model.ts): what a route answers is documented by the schema its records are typed by.
 */
import { HealthSchema, PresenceSchema, ProofSchema } from '@loa/protocol';
import { z } from 'zod';
import {
  ApiTokenRecordSchema,
  BundleRecordSchema,
  DeviceRecordSchema,
  EnrolmentTokenRecordSchema,
  UserRecordSchema,
} from '../domain/model.js';

/** `{ ok: true }`: a change done, nothing more to say. */
export const OkSchema = z.object({ ok: z.literal(true) });

/** A device as the API shows it (no password hash). */
export const PublicDeviceSchema = DeviceRecordSchema.omit({ mqttPasswordHash: true });

/** A device with its live state (presence, latest health), as lists and pages show it. */
export const DeviceViewSchema = PublicDeviceSchema.extend({
  online: z.boolean(),
  presence: PresenceSchema.nullable(),
  presenceSince: z.string().nullable(),
  lastHealthAt: z.string().nullable(),
  health: HealthSchema.nullable(),
});

/** A user as the API shows it (no password hash). */
export const PublicUserSchema = UserRecordSchema.omit({ passwordHash: true });

/** An API token as listed (no hash). */
export const PublicApiTokenSchema = ApiTokenRecordSchema.omit({ hash: true });

/** An enrolment token as listed (no hash). */
export const PublicEnrolmentTokenSchema = EnrolmentTokenRecordSchema.omit({ hash: true });

/** Devices per rollout state of one bundle. */
export const RolloutSummarySchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  notified: z.number().int(),
  downloading: z.number().int(),
  verified: z.number().int(),
  active: z.number().int(),
  playing: z.number().int(),
  failed: z.number().int(),
});

/** The latest state of a device as ingest keeps it (server clock in ms). */
export const DeviceLiveStateSchema = z.object({
  deviceId: z.string(),
  unit: z.string(),
  online: z.boolean(),
  lastSeenMs: z.number(),
  offlineSinceMs: z.number().optional(),
  health: HealthSchema.optional(),
  healthAtMs: z.number().optional(),
  lastProof: z
    .object({
      seq: z.number().int(),
      outcome: ProofSchema.shape.outcome,
      itemId: z.string().optional(),
      reason: z.string().optional(),
      atMs: z.number(),
    })
    .optional(),
  lastFailedPlaybackMs: z.number().optional(),
  lastGoodPlaybackMs: z.number().optional(),
  proofGaps: z.number().int(),
  proofsRejected: z.number().int(),
});

/** Where each device stands with an emergency broadcast, and the counts per stage. */
export const EmergencyViewSchema = z.object({
  bundle: BundleRecordSchema,
  devices: z.array(
    z.object({
      deviceId: z.string(),
      unit: z.string(),
      stage: z.enum(['sent', 'received', 'playing', 'completed', 'failed', 'withdrawn']),
      receivedAt: z.string().optional(),
      startedAt: z.string().optional(),
      completedAt: z.string().optional(),
      failedReason: z.string().optional(),
      plays: z.number().int(),
      updatedAt: z.string(),
    }),
  ),
  summary: z.object({
    total: z.number().int(),
    sent: z.number().int(),
    received: z.number().int(),
    playing: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    withdrawn: z.number().int(),
  }),
});
