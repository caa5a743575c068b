/**
 * The fleet server's model: the records it keeps (units, devices, users, content, bundles,
 * rollouts, alerts, trust, audit, health and proof entries). Plain JSON (ISO instants), owned by
 * the domain; the store (store/ports.ts) keeps them behind repository ports.
 *
 * Each record is a zod schema and its type is inferred from it, so the API documents its answers
 * with the very schemas the records are typed by (http/openapi.ts). Records are written by the
 * server itself (inputs are validated by their own schemas before they become records), so these
 * schemas describe; they are not run on every read.
 */
import {
  ChoicesSchema,
  HealthSchema,
  InstantSchema,
  ManifestSchema,
  ProofSchema,
  StatusSchema,
  TrustPolicySchema,
} from '@loa/protocol';
import { z } from 'zod';

/** ISO 8601 instant (UTC, `...Z`). */
export const Instant = InstantSchema;
export type Instant = string;

const JsonObject = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------- units, groups, zones
export const UnitRecordSchema = z.object({
  /** Path of official codes from the top, e.g. "08/02500" (also the id). */
  path: z.string(),
  /** The unit's own official code (last path segment). */
  code: z.string(),
  name: z.string(),
  /** Level name as data ("province", "district", "commune", …). */
  level: z.string(),
  /** Parent path, null for a top-level unit. */
  parent: z.string().nullable(),
  /** True for invented demo data (not an official code). */
  demo: z.boolean().optional(),
  createdAt: Instant,
  updatedAt: Instant,
});
export type UnitRecord = z.infer<typeof UnitRecordSchema>;

/** A set of devices inside a unit (e.g. "market cluster"); devices list their groups. */
export const GroupRecordSchema = z.object({
  id: z.string(),
  unit: z.string(),
  name: z.string(),
  description: z.string().optional(),
  createdAt: Instant,
});
export type GroupRecord = z.infer<typeof GroupRecordSchema>;

/** A named output zone inside a unit (a station's zone relays map to zone ids). */
export const ZoneRecordSchema = GroupRecordSchema;
export type ZoneRecord = z.infer<typeof ZoneRecordSchema>;

// ---------------------------------------------------------------- devices
export const DeviceKindSchema = z.enum(['station', 'noticeboard']);
export type DeviceKind = z.infer<typeof DeviceKindSchema>;
export const DeviceStatusSchema = z.enum(['pending', 'active', 'revoked', 'decommissioned']);
export type DeviceStatus = z.infer<typeof DeviceStatusSchema>;

/**
 * A station's loudspeaker zone: the id its zone relay has in the station's configuration (what a
 * programme's `zones` names) and the name people use for the area it covers ("Thôn 1", "Chợ").
 */
export const DeviceZoneSchema = z.object({ id: z.string(), name: z.string() });
export type DeviceZone = z.infer<typeof DeviceZoneSchema>;

export const DeviceRecordSchema = z.object({
  /** Device id, also its MQTT client id and username. */
  id: z.string(),
  unit: z.string(),
  kind: DeviceKindSchema,
  name: z.string(),
  status: DeviceStatusSchema,
  /** Raw Ed25519 public key (32 bytes, base64) and its key id. */
  publicKey: z.string(),
  keyId: z.string(),
  /** scrypt hash of the MQTT password ("scrypt$N$r$p$salt$hash"). */
  mqttPasswordHash: z.string(),
  groups: z.array(z.string()),
  /** Hardware facts sent at enrolment (model, serial, modem IMEI, …). */
  hardware: JsonObject,
  location: z.object({ lat: z.number(), lon: z.number() }).optional(),
  /** A station's loudspeaker zones by name (absent: none named yet). */
  zones: z.array(DeviceZoneSchema).optional(),
  /** Enrolment token id used. */
  enrolmentTokenId: z.string().optional(),
  enrolledAt: Instant,
  approvedAt: Instant.optional(),
  approvedBy: z.string().optional(),
  revokedAt: Instant.optional(),
  revokedBy: z.string().optional(),
  revokedReason: z.string().optional(),
  updatedAt: Instant,
});
export type DeviceRecord = z.infer<typeof DeviceRecordSchema>;

// ---------------------------------------------------------------- users and access
export const USER_ROLES = [
  'administrator',
  'editor',
  'approver',
  'operator',
  'technician',
  'viewer',
] as const;
export const UserRoleSchema = z.enum(USER_ROLES);
export type UserRole = (typeof USER_ROLES)[number];

export const UserRecordSchema = z.object({
  id: z.string(),
  /** Login name, unique, lower-case. */
  username: z.string(),
  displayName: z.string(),
  role: UserRoleSchema,
  /** Unit paths this user may act on (each covers its subtree). */
  scope: z.array(z.string()),
  /** scrypt hash. */
  passwordHash: z.string(),
  mustChangePassword: z.boolean(),
  disabled: z.boolean(),
  createdAt: Instant,
  updatedAt: Instant,
});
export type UserRecord = z.infer<typeof UserRecordSchema>;

export const SessionRecordSchema = z.object({
  /** SHA-256 (hex) of the session cookie value: the cookie itself is never stored. */
  id: z.string(),
  userId: z.string(),
  /** CSRF token for this session (sent in the X-CSRF-Token header or a `_csrf` form field). */
  csrf: z.string(),
  createdAt: Instant,
  expiresAt: Instant,
  ip: z.string().optional(),
  userAgent: z.string().optional(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

export const ApiTokenRecordSchema = z.object({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  /** SHA-256 (hex) of the token secret. */
  hash: z.string(),
  /** First characters of the token, to recognise it in lists. */
  prefix: z.string(),
  createdAt: Instant,
  expiresAt: Instant.optional(),
  lastUsedAt: Instant.optional(),
  revokedAt: Instant.optional(),
});
export type ApiTokenRecord = z.infer<typeof ApiTokenRecordSchema>;

export const EnrolmentTokenRecordSchema = z.object({
  id: z.string(),
  /** SHA-256 (hex) of the token secret. */
  hash: z.string(),
  unit: z.string(),
  kind: DeviceKindSchema,
  groups: z.array(z.string()),
  maxUses: z.number().int(),
  uses: z.number().int(),
  expiresAt: Instant,
  /** Devices enrolled with it wait for an operator's approval. */
  requireApproval: z.boolean(),
  note: z.string().optional(),
  createdBy: z.string(),
  createdAt: Instant,
  revokedAt: Instant.optional(),
});
export type EnrolmentTokenRecord = z.infer<typeof EnrolmentTokenRecordSchema>;

export const AuditEntrySchema = z.object({
  /** Monotonic sequence number assigned by the log. */
  seq: z.number().int(),
  at: Instant,
  actor: z.object({
    type: z.enum(['user', 'token', 'device', 'system']),
    id: z.string(),
    name: z.string().optional(),
  }),
  /** Dotted verb, e.g. "user.create", "device.revoke", "command.send". */
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).optional(),
  /** Unit the change concerns (for scoped audit views). */
  unit: z.string().optional(),
  ip: z.string().optional(),
  details: JsonObject.optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditInput = Omit<AuditEntry, 'seq' | 'at'> & { at?: Instant };

// ---------------------------------------------------------------- signing keys (server-held, per user)
export const SigningKeyRecordSchema = z.object({
  /** Key id: hex SHA-256 of the raw public key. */
  keyid: z.string(),
  userId: z.string(),
  /** Raw Ed25519 public key, base64. */
  publicKey: z.string(),
  /** The private key encrypted at rest (format owned by the signer service). */
  encryptedPrivateKey: z.string(),
  createdAt: Instant,
  revokedAt: Instant.optional(),
});
export type SigningKeyRecord = z.infer<typeof SigningKeyRecordSchema>;

// ---------------------------------------------------------------- content, bundles, rollouts
export const ContentKindSchema = z.enum(['audio', 'image', 'video', 'text']);
export type ContentKind = z.infer<typeof ContentKindSchema>;

export const ContentRecordSchema = z.object({
  id: z.string(),
  kind: ContentKindSchema,
  title: z.string(),
  lang: z.string(),
  category: z.string().optional(),
  unit: z.string(),
  /** Content-addressed blob (absent for a text item without a file). */
  sha256: z.string().optional(),
  size: z.number().int().optional(),
  mediaType: z.string().optional(),
  text: z.string().optional(),
  durationMs: z.number().optional(),
  /** A bulletin's issuing body and date, printed under it on noticeboards. */
  issuer: z.string().optional(),
  dated: z.string().optional(),
  /** Measured integrated loudness of the stored file. */
  loudnessLufs: z.number().optional(),
  truePeakDbfs: z.number().optional(),
  originalName: z.string().optional(),
  createdBy: z.string(),
  createdAt: Instant,
  /** Archived: kept (and playable where already published) but hidden from the library's pickers. */
  archivedAt: Instant.optional(),
  archivedBy: z.string().optional(),
  /** Extra facts owned by the publisher (transcode settings, source format…). */
  meta: JsonObject.optional(),
  /** Shown on the unit's public page once a published programme carries it (the editor's choice). */
  public: z.boolean().optional(),
  /** A short survey citizens may answer beside the bulletin on the public page. */
  survey: z.object({ question: z.string(), options: z.array(z.string()) }).optional(),
});
export type ContentRecord = z.infer<typeof ContentRecordSchema>;

export const BundleStateSchema = z.enum([
  'draft',
  'submitted',
  'approved',
  'published',
  'rejected',
  'withdrawn',
  /** Taken back after publication by a signed recall (services/recall-service.ts). */
  'recalled',
]);
export type BundleState = z.infer<typeof BundleStateSchema>;

export const BundleRecordSchema = z.object({
  id: z.string(),
  channel: z.string(),
  version: z.number().int(),
  state: BundleStateSchema,
  /** The manifest (signatures accumulate as people sign). */
  manifest: ManifestSchema,
  /** Top unit paths targeted (copied from the manifest's targets, for scope checks). */
  units: z.array(z.string()),
  createdBy: z.string(),
  createdAt: Instant,
  updatedAt: Instant,
  submittedBy: z.string().optional(),
  submittedAt: Instant.optional(),
  approvedBy: z.array(z.string()).optional(),
  approvedAt: Instant.optional(),
  rejectedBy: z.string().optional(),
  rejectedReason: z.string().optional(),
  publishedBy: z.string().optional(),
  publishedAt: Instant.optional(),
  emergency: z.boolean().optional(),
  meta: JsonObject.optional(),
});
export type BundleRecord = z.infer<typeof BundleRecordSchema>;

export const RolloutRecordSchema = z.object({
  bundleId: z.string(),
  deviceId: z.string(),
  state: StatusSchema.shape.state,
  reason: z.string().optional(),
  message: z.string().optional(),
  bytes: z.number().int().optional(),
  totalBytes: z.number().int().optional(),
  updatedAt: Instant,
});
export type RolloutRecord = z.infer<typeof RolloutRecordSchema>;

// ---------------------------------------------------------------- alerts, trust
export const AlertStateSchema = z.enum(['open', 'acknowledged', 'resolved']);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const AlertRecordSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  unit: z.string(),
  rule: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  state: AlertStateSchema,
  message: z.string(),
  openedAt: Instant,
  acknowledgedAt: Instant.optional(),
  acknowledgedBy: z.string().optional(),
  resolvedAt: Instant.optional(),
  details: JsonObject.optional(),
});
export type AlertRecord = z.infer<typeof AlertRecordSchema>;

export const TrustPolicyRecordSchema = z.object({
  version: z.number().int(),
  policy: TrustPolicySchema,
  uploadedAt: Instant,
  uploadedBy: z.string(),
});
export type TrustPolicyRecord = z.infer<typeof TrustPolicyRecordSchema>;

// ---------------------------------------------------------------- programme choices
/**
 * A unit's programme choices (protocol `loa-choices`): the document stations apply (`current`,
 * signed with the policy's threshold) and one waiting for more signatures (`pending`), keyed by
 * the unit path.
 */
export const ChoicesRecordSchema = z.object({
  id: z.string(),
  unit: z.string(),
  current: ChoicesSchema.optional(),
  publishedAt: Instant.optional(),
  publishedBy: z.array(z.string()).optional(),
  pending: z.object({ document: ChoicesSchema, requestedBy: z.array(z.string()), at: Instant }).optional(),
  updatedAt: Instant,
});
export type ChoicesRecord = z.infer<typeof ChoicesRecordSchema>;

// ---------------------------------------------------------------- webhook subscriptions
/** An outgoing webhook subscription (services/webhooks.ts owns the input schema and delivery). */
export const WebhookRecordSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().optional(),
  /** HMAC secret (shown once on creation). */
  secret: z.string(),
  createdAt: Instant,
  createdBy: z.string(),
  /** Units whose events the hook receives; absent on hooks older than scopes (province-wide). */
  scope: z.array(z.string()).optional(),
});
export type WebhookRecord = z.infer<typeof WebhookRecordSchema>;

// ---------------------------------------------------------------- append-only stream entries
export const HealthEntrySchema = z.object({
  deviceId: z.string(),
  /** When the server received it. */
  receivedAt: Instant,
  health: HealthSchema,
});
export type HealthEntry = z.infer<typeof HealthEntrySchema>;

export const ProofEntrySchema = z.object({
  deviceId: z.string(),
  receivedAt: Instant,
  /** proofHash(proof), so the chain can be continued after a restart. */
  hash: z.string(),
  proof: ProofSchema,
});
export type ProofEntry = z.infer<typeof ProofEntrySchema>;

// ---------------------------------------------------------------- citizens: feedback, ratings, push
export const FEEDBACK_STATUSES = ['new', 'assigned', 'answered', 'closed'] as const;
export const FeedbackStatusSchema = z.enum(FEEDBACK_STATUSES);
export type FeedbackStatus = z.infer<typeof FeedbackStatusSchema>;
export const FEEDBACK_TOPICS = ['question', 'complaint', 'speaker', 'suggestion', 'policy', 'other'] as const;
export const FeedbackTopicSchema = z.enum(FEEDBACK_TOPICS);
export type FeedbackTopic = z.infer<typeof FeedbackTopicSchema>;

/** A citizen's feedback (phản ánh, kiến nghị) to a unit, and its handling by the unit's staff. */
export const FeedbackRecordSchema = z.object({
  id: z.string(),
  unit: z.string(),
  topic: FeedbackTopicSchema,
  text: z.string(),
  /** Optional contact (phone or e-mail) the citizen gave for the answer. */
  contact: z.string().optional(),
  /** Re-encoded photo (metadata stripped), a blob in the blob store. */
  photo: z.object({ sha256: z.string(), size: z.number().int(), mediaType: z.string() }).optional(),
  status: FeedbackStatusSchema,
  createdAt: Instant,
  /** When an answer is due (the unit's deadline). */
  dueAt: Instant,
  assignedTo: z.string().optional(),
  assignedAt: Instant.optional(),
  answer: z.string().optional(),
  answeredBy: z.string().optional(),
  answeredAt: Instant.optional(),
  /** The answer is shown on the unit's public page. */
  answerPublic: z.boolean().optional(),
  /** How the answer reached the contact: sent through a webhook, or pending for staff to deliver. */
  delivery: z.enum(['sent', 'pending']).optional(),
  /** Bundle draft made from the answer, for broadcast. */
  bundleId: z.string().optional(),
  closedAt: Instant.optional(),
  /** Keyed hash of the sender's address (never the address itself), for rate limits and abuse review. */
  sender: z.string(),
  updatedAt: Instant,
});
export type FeedbackRecord = z.infer<typeof FeedbackRecordSchema>;

/** A citizen's rating of a public bulletin (1–5) and/or answer to its survey. */
export const RatingRecordSchema = z.object({
  id: z.string(),
  unit: z.string(),
  contentId: z.string(),
  stars: z.number().int().min(1).max(5).optional(),
  /** Index of the chosen survey option. */
  choice: z.number().int().optional(),
  sender: z.string(),
  createdAt: Instant,
});
export type RatingRecord = z.infer<typeof RatingRecordSchema>;

/** A browser's Web Push subscription for a unit's emergencies. */
export const PushSubscriptionRecordSchema = z.object({
  /** SHA-256 (hex) of the endpoint URL. */
  id: z.string(),
  unit: z.string(),
  endpoint: z.string(),
  keys: z.object({ p256dh: z.string(), auth: z.string() }),
  createdAt: Instant,
  /** Last delivery failure (a 404/410 from the push service removes the subscription). */
  failedAt: Instant.optional(),
});
export type PushSubscriptionRecord = z.infer<typeof PushSubscriptionRecordSchema>;
// ---------------------------------------------------------------- presence (uptime)
/**
 * One line of the presence stream: a device's MQTT connection opening or closing, or the server's
 * own life (start, a periodic "alive" mark, a clean stop), so that uptime can tell a station's
 * outage from the server's.
 */
export const PresenceEventSchema = z.enum([
  'connect',
  'disconnect',
  'server-start',
  'server-alive',
  'server-stop',
]);
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;
export const PresenceEntrySchema = z.object({
  /** When the server saw it. */
  at: Instant,
  event: PresenceEventSchema,
  /** The device (connect/disconnect only). */
  deviceId: z.string().optional(),
});
export type PresenceEntry = z.infer<typeof PresenceEntrySchema>;
// ---------------------------------------------------------------- pronunciation lexicon
/**
 * An editor's pronunciation entry: `from` (as written, matched as a whole word, case-sensitive)
 * is read as `to` in spoken bulletins of `unit` and its subtree, in language `lang`, on top of
 * the built-in lexicon (domain/speech-text.ts). `key` is the duplicate key (domain/lexicon.ts).
 */
export const LexiconEntryRecordSchema = z.object({
  id: z.string(),
  unit: z.string(),
  lang: z.string(),
  from: z.string(),
  to: z.string(),
  key: z.string(),
  createdBy: z.string(),
  createdAt: Instant,
  updatedBy: z.string().optional(),
  updatedAt: Instant.optional(),
});
export type LexiconEntryRecord = z.infer<typeof LexiconEntryRecordSchema>;
