/**
 * The fleet server's model: the records it keeps (units, devices, users, content, bundles,
 * rollouts, alerts, trust, audit, health and proof entries). Plain JSON (ISO instants), owned by
 * the domain; the store (store/ports.ts) keeps them behind repository ports.
 */
import type { Health, Manifest, Proof, Status, TrustPolicy } from '@loa/protocol';

/** ISO 8601 instant (UTC, `...Z`). */
export type Instant = string;

// ---------------------------------------------------------------- units, groups, zones
export interface UnitRecord {
  /** Path of official codes from the top, e.g. "08/02500" (also the id). */
  path: string;
  /** The unit's own official code (last path segment). */
  code: string;
  name: string;
  /** Level name as data ("province", "district", "commune", …). */
  level: string;
  /** Parent path, null for a top-level unit. */
  parent: string | null;
  /** True for invented demo data (not an official code). */
  demo?: boolean;
  createdAt: Instant;
  updatedAt: Instant;
}

/** A set of devices inside a unit (e.g. "market cluster"); devices list their groups. */
export interface GroupRecord {
  id: string;
  unit: string;
  name: string;
  description?: string;
  createdAt: Instant;
}

/** A named output zone inside a unit (a station's zone relays map to zone ids). */
export interface ZoneRecord {
  id: string;
  unit: string;
  name: string;
  description?: string;
  createdAt: Instant;
}

// ---------------------------------------------------------------- devices
export type DeviceKind = 'station' | 'noticeboard';
export type DeviceStatus = 'pending' | 'active' | 'revoked' | 'decommissioned';

export interface DeviceRecord {
  /** Device id, also its MQTT client id and username. */
  id: string;
  unit: string;
  kind: DeviceKind;
  name: string;
  status: DeviceStatus;
  /** Raw Ed25519 public key (32 bytes, base64) and its key id. */
  publicKey: string;
  keyId: string;
  /** scrypt hash of the MQTT password ("scrypt$N$r$p$salt$hash"). */
  mqttPasswordHash: string;
  groups: string[];
  /** Hardware facts sent at enrolment (model, serial, modem IMEI, …). */
  hardware: Record<string, unknown>;
  location?: { lat: number; lon: number };
  /** Enrolment token id used. */
  enrolmentTokenId?: string;
  enrolledAt: Instant;
  approvedAt?: Instant;
  approvedBy?: string;
  revokedAt?: Instant;
  revokedBy?: string;
  revokedReason?: string;
  updatedAt: Instant;
}

// ---------------------------------------------------------------- users and access
export const USER_ROLES = [
  'administrator',
  'editor',
  'approver',
  'operator',
  'technician',
  'viewer',
] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserRecord {
  id: string;
  /** Login name, unique, lower-case. */
  username: string;
  displayName: string;
  role: UserRole;
  /** Unit paths this user may act on (each covers its subtree). */
  scope: string[];
  /** scrypt hash. */
  passwordHash: string;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface SessionRecord {
  /** SHA-256 (hex) of the session cookie value: the cookie itself is never stored. */
  id: string;
  userId: string;
  /** CSRF token for this session (sent in the X-CSRF-Token header or a `_csrf` form field). */
  csrf: string;
  createdAt: Instant;
  expiresAt: Instant;
  ip?: string;
  userAgent?: string;
}

export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  /** SHA-256 (hex) of the token secret. */
  hash: string;
  /** First characters of the token, to recognise it in lists. */
  prefix: string;
  createdAt: Instant;
  expiresAt?: Instant;
  lastUsedAt?: Instant;
  revokedAt?: Instant;
}

export interface EnrolmentTokenRecord {
  id: string;
  /** SHA-256 (hex) of the token secret. */
  hash: string;
  unit: string;
  kind: DeviceKind;
  groups: string[];
  maxUses: number;
  uses: number;
  expiresAt: Instant;
  /** Devices enrolled with it wait for an operator's approval. */
  requireApproval: boolean;
  note?: string;
  createdBy: string;
  createdAt: Instant;
  revokedAt?: Instant;
}

export interface AuditEntry {
  /** Monotonic sequence number assigned by the log. */
  seq: number;
  at: Instant;
  actor: { type: 'user' | 'token' | 'device' | 'system'; id: string; name?: string };
  /** Dotted verb, e.g. "user.create", "device.revoke", "command.send". */
  action: string;
  target?: { type: string; id: string };
  /** Unit the change concerns (for scoped audit views). */
  unit?: string;
  ip?: string;
  details?: Record<string, unknown>;
}
export type AuditInput = Omit<AuditEntry, 'seq' | 'at'> & { at?: Instant };

// ---------------------------------------------------------------- signing keys (server-held, per user)
export interface SigningKeyRecord {
  /** Key id: hex SHA-256 of the raw public key. */
  keyid: string;
  userId: string;
  /** Raw Ed25519 public key, base64. */
  publicKey: string;
  /** The private key encrypted at rest (format owned by the signer service). */
  encryptedPrivateKey: string;
  createdAt: Instant;
  revokedAt?: Instant;
}

// ---------------------------------------------------------------- content, bundles, rollouts
export type ContentKind = 'audio' | 'image' | 'video' | 'text';

export interface ContentRecord {
  id: string;
  kind: ContentKind;
  title: string;
  lang: string;
  category?: string;
  unit: string;
  /** Content-addressed blob (absent for a text item without a file). */
  sha256?: string;
  size?: number;
  mediaType?: string;
  text?: string;
  durationMs?: number;
  /** Measured integrated loudness of the stored file. */
  loudnessLufs?: number;
  truePeakDbfs?: number;
  originalName?: string;
  createdBy: string;
  createdAt: Instant;
  /** Extra facts owned by the publisher (transcode settings, source format…). */
  meta?: Record<string, unknown>;
}

export type BundleState = 'draft' | 'submitted' | 'approved' | 'published' | 'rejected' | 'withdrawn';

export interface BundleRecord {
  id: string;
  channel: string;
  version: number;
  state: BundleState;
  /** The manifest (signatures accumulate as people sign). */
  manifest: Manifest;
  /** Top unit paths targeted (copied from the manifest's targets, for scope checks). */
  units: string[];
  createdBy: string;
  createdAt: Instant;
  updatedAt: Instant;
  submittedBy?: string;
  submittedAt?: Instant;
  approvedBy?: string[];
  approvedAt?: Instant;
  rejectedBy?: string;
  rejectedReason?: string;
  publishedBy?: string;
  publishedAt?: Instant;
  emergency?: boolean;
  meta?: Record<string, unknown>;
}

export interface RolloutRecord {
  bundleId: string;
  deviceId: string;
  state: Status['state'];
  reason?: string;
  message?: string;
  bytes?: number;
  totalBytes?: number;
  updatedAt: Instant;
}

// ---------------------------------------------------------------- alerts, trust
export type AlertState = 'open' | 'acknowledged' | 'resolved';

export interface AlertRecord {
  id: string;
  deviceId: string;
  unit: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  state: AlertState;
  message: string;
  openedAt: Instant;
  acknowledgedAt?: Instant;
  acknowledgedBy?: string;
  resolvedAt?: Instant;
  details?: Record<string, unknown>;
}

export interface TrustPolicyRecord {
  version: number;
  policy: TrustPolicy;
  uploadedAt: Instant;
  uploadedBy: string;
}

// ---------------------------------------------------------------- append-only stream entries
export interface HealthEntry {
  deviceId: string;
  /** When the server received it. */
  receivedAt: Instant;
  health: Health;
}

export interface ProofEntry {
  deviceId: string;
  receivedAt: Instant;
  /** proofHash(proof), so the chain can be continued after a restart. */
  hash: string;
  proof: Proof;
}
