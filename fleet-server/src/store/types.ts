/**
 * Engine-neutral repository interfaces of the fleet server. The embedded implementation keeps the
 * registry in lowdb (store/lowdb/) and high-volume streams in append-only NDJSON segments
 * (store/segments/); a PostgreSQL implementation can follow behind the same interfaces. Every
 * method is async so that a networked engine fits. Records are plain JSON (ISO instants).
 *
 * Rules for callers: validate input before calling a write method (nothing half-written);
 * never put per-message data (health, proofs, presence) in the registry.
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

// ---------------------------------------------------------------- repository interfaces
/** Common shape of keyed collections. */
export interface Repository<T, K = string> {
  get(id: K): Promise<T | undefined>;
  list(filter?: (r: T) => boolean): Promise<T[]>;
  count(filter?: (r: T) => boolean): Promise<number>;
  /** Fails with code `<ENTITY>_EXISTS` when the id is taken. */
  insert(record: T): Promise<T>;
  /** Applies a patch; fails with `<ENTITY>_NOT_FOUND`. Returns the updated record. */
  update(id: K, patch: Partial<T>): Promise<T>;
  /** Inserts or replaces. */
  put(record: T): Promise<T>;
  delete(id: K): Promise<boolean>;
}

export interface UnitRepository extends Repository<UnitRecord> {
  /** Every unit inside the subtree of `path` (including it). */
  subtree(path: string): Promise<UnitRecord[]>;
  children(path: string | null): Promise<UnitRecord[]>;
  /** Inserts or replaces many units at once (import); all-or-nothing. */
  putMany(records: UnitRecord[]): Promise<void>;
}

export interface DeviceRepository extends Repository<DeviceRecord> {
  /** Devices whose unit lies inside any of the given subtrees. */
  inUnits(paths: readonly string[]): Promise<DeviceRecord[]>;
  byKeyId(keyId: string): Promise<DeviceRecord | undefined>;
}

export interface UserRepository extends Repository<UserRecord> {
  byUsername(username: string): Promise<UserRecord | undefined>;
}

export interface SessionRepository extends Repository<SessionRecord> {
  deleteExpired(now: Instant): Promise<number>;
  deleteForUser(userId: string): Promise<number>;
}

export interface ApiTokenRepository extends Repository<ApiTokenRecord> {
  byHash(hash: string): Promise<ApiTokenRecord | undefined>;
}

export interface EnrolmentTokenRepository extends Repository<EnrolmentTokenRecord> {
  byHash(hash: string): Promise<EnrolmentTokenRecord | undefined>;
  /**
   * Atomically checks (not revoked, not expired at `now`, uses < maxUses) and counts one use.
   * Fails with ENROL_TOKEN_INVALID / ENROL_TOKEN_EXPIRED / ENROL_TOKEN_USED without writing.
   */
  consume(hash: string, now: Instant): Promise<EnrolmentTokenRecord>;
}

export interface BundleRepository extends Repository<BundleRecord> {
  /** Highest version used on a channel (0 when none). */
  latestVersion(channel: string): Promise<number>;
}

export interface RolloutRepository {
  get(bundleId: string, deviceId: string): Promise<RolloutRecord | undefined>;
  forBundle(bundleId: string): Promise<RolloutRecord[]>;
  forDevice(deviceId: string): Promise<RolloutRecord[]>;
  put(record: RolloutRecord): Promise<RolloutRecord>;
  putMany(records: RolloutRecord[]): Promise<void>;
  /** Removes every row of a bundle (retention); returns how many were removed. */
  deleteForBundle(bundleId: string): Promise<number>;
}

export interface TrustRepository {
  current(): Promise<TrustPolicyRecord | undefined>;
  history(): Promise<TrustPolicyRecord[]>;
  /** Stores a newer policy; fails with TRUST_ROLLBACK when not newer than the current one. */
  put(record: TrustPolicyRecord): Promise<void>;
}

export interface AuditLog {
  /** Appends durably (fsync'd before it resolves) and returns the stored entry. */
  append(entry: AuditInput): Promise<AuditEntry>;
  /** Newest first. */
  query(q?: {
    limit?: number;
    beforeSeq?: number;
    actorId?: string;
    action?: string;
    units?: readonly string[];
    since?: Instant;
  }): Promise<AuditEntry[]>;
}

// ---------------------------------------------------------------- append-only streams
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

export interface StreamQuery {
  deviceId?: string;
  /** Proofs only: those of this bundle. */
  bundleId?: string;
  /** Inclusive bounds on receivedAt. */
  from?: Instant;
  to?: Instant;
  /** At most this many entries, the newest ones, in append order (default 1000). */
  limit?: number;
}

export interface HealthStream {
  /** Buffered append (batched fsync): health may lose the last second on power loss. */
  append(entry: HealthEntry): Promise<void>;
  latest(deviceId: string): HealthEntry | undefined;
  latestAll(): ReadonlyMap<string, HealthEntry>;
  query(q: StreamQuery): Promise<HealthEntry[]>;
}

export interface ProofStream {
  /** Durable append: resolves only once the entry is fsync'd (ack after this). */
  append(entry: ProofEntry): Promise<void>;
  /** Durable append of many entries with one fsync. */
  appendMany(entries: ProofEntry[]): Promise<void>;
  /** The newest stored proof of a device (seq and hash continue the chain). */
  last(deviceId: string): { seq: number; hash: string; eventId: string } | undefined;
  query(q: StreamQuery): Promise<ProofEntry[]>;
}

/** Everything the server stores. */
export interface Store {
  units: UnitRepository;
  groups: Repository<GroupRecord>;
  zones: Repository<ZoneRecord>;
  devices: DeviceRepository;
  users: UserRepository;
  sessions: SessionRepository;
  apiTokens: ApiTokenRepository;
  enrolmentTokens: EnrolmentTokenRepository;
  signingKeys: Repository<SigningKeyRecord>;
  content: Repository<ContentRecord>;
  bundles: BundleRepository;
  rollouts: RolloutRepository;
  alerts: Repository<AlertRecord>;
  trust: TrustRepository;
  audit: AuditLog;
  health: HealthStream;
  proofs: ProofStream;
  /** Opens files and rebuilds in-memory state. */
  start(): Promise<void>;
  /** Writes pending changes now (fsync'd). */
  flush(): Promise<void>;
  /** Flushes and closes. */
  stop(): Promise<void>;
  /** Counters for /metrics and benchmarks. */
  stats(): StoreStats;
}

export interface StoreStats {
  registryWrites: number;
  registryBytesWritten: number;
  healthAppended: number;
  proofsAppended: number;
  segmentBytesWritten: number;
}
