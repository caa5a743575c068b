/**
 * Engine-neutral repository ports of the fleet server: what the services need from storage,
 * over the records of the domain model (domain/model.ts). The embedded implementation keeps the
 * registry in lowdb (store/lowdb/) and high-volume streams in append-only NDJSON segments
 * (store/segments/); a PostgreSQL implementation plugs in behind the same ports. Nothing of an
 * engine (lowdb, file paths, SQL) appears here. Every method that may touch the engine is async
 * so that a networked engine fits. Records are plain JSON (ISO instants).
 *
 * Rules for callers: validate input before calling a write method (nothing half-written);
 * never put per-message data (health, proofs, presence) in the registry.
 */

import type { DocumentRecord } from '../domain/documents.js';
import type {
  AlertRecord,
  ApiTokenRecord,
  AuditEntry,
  AuditInput,
  BundleRecord,
  ChoicesRecord,
  ContentRecord,
  DeviceRecord,
  EnrolmentTokenRecord,
  FeedbackRecord,
  GroupRecord,
  HealthEntry,
  Instant,
  LexiconEntryRecord,
  PresenceEntry,
  ProofEntry,
  PushSubscriptionRecord,
  RatingRecord,
  RolloutRecord,
  SessionRecord,
  SigningKeyRecord,
  TrustPolicyRecord,
  UnitRecord,
  UserRecord,
  WebhookRecord,
  ZoneRecord,
} from '../domain/model.js';
import type { RegisterEntry } from '../domain/register.js';
import type { PeriodicReport } from '../domain/reports/periodic.js';
import type { AttendanceRecord, CourseRecord, StaffRecord } from '../domain/staff.js';

// ---------------------------------------------------------------- repository interfaces
/**
 * Common shape of keyed collections. `list`/`count` take a predicate over whole records: the
 * embedded registry holds every record in memory; an engine that does not (PostgreSQL) narrows
 * with the specific methods of each repository (by unit, by key id, by hash…) and filters the
 * rest in memory, so hot paths should use those methods.
 */
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
  query(q?: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Appends entries that already have their sequence number and time (moving a log between
   * stores, oldest first); later appends continue after the highest sequence number.
   */
  restore(entries: AuditEntry[]): Promise<void>;
}

export interface AuditQuery {
  /** At most this many entries (default 100). */
  limit?: number;
  /** Entries older than this sequence number (paging). */
  beforeSeq?: number;
  actorId?: string;
  /** Entries whose action starts with this ("device." or "device.revoke"). */
  action?: string;
  /** Entries about these units' subtrees (and entries about no unit are left out). */
  units?: readonly string[];
  since?: Instant;
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

/**
 * The streams answer "latest per device" synchronously (ingest reads it per message): every
 * adapter keeps that map in memory, rebuilt at start() (the embedded one from a snapshot and the
 * segments after it).
 */
export interface HealthStream {
  /**
   * Buffered append (batched fsync): health may lose the last second on power loss (a device
   * sends health at QoS 0: nothing acknowledges it as stored). `healthJson`, when given, is the
   * report exactly as received (JSON text equal in meaning to `entry.health`, already validated):
   * a store may write it as it came instead of serialising the report again.
   */
  append(entry: HealthEntry, healthJson?: string): Promise<void>;
  latest(deviceId: string): HealthEntry | undefined;
  latestAll(): ReadonlyMap<string, HealthEntry>;
  /**
   * Takes a device's newest health learnt from another node of a cluster into `latest` (when it
   * is newer than the one held), without appending it to the history (the node that received it
   * did). False when the held one is newer.
   */
  remember(entry: HealthEntry): boolean;
  query(q: StreamQuery): Promise<HealthEntry[]>;
}

/** A page of a stream in stored order, resumable where it ended. */
export interface StreamPage<T> {
  entries: T[];
  /** Opaque position after the last entry (pass as `after` for the next page); null at the end. */
  next: string | null;
}

export interface PageQuery extends Omit<StreamQuery, 'limit'> {
  /** A `next` of an earlier page of the same stream: continue after it. */
  after?: string;
  /** At most this many entries (default 1000). */
  limit?: number;
}

export interface ProofStream {
  /** Durable append: resolves only once the entry is fsync'd (ack after this). */
  append(entry: ProofEntry): Promise<void>;
  /**
   * Durable append of many entries with one fsync. `proofTexts[i]`, when given, is the canonical
   * JSON text of `entries[i].proof` (what its hash covers): a store that keeps text may write it
   * as it is instead of serialising the proof again.
   */
  appendMany(entries: ProofEntry[], proofTexts?: readonly (string | undefined)[]): Promise<void>;
  /** The newest stored proof of a device (seq and hash continue the chain). */
  last(deviceId: string): { seq: number; hash: string; eventId: string } | undefined;
  query(q: StreamQuery): Promise<ProofEntry[]>;
  /**
   * The oldest matching proofs first (stored order), from `q.from` or after the cursor `q.after`,
   * reading only what the page needs; `next` is null once nothing matching follows. A malformed
   * cursor fails with STREAM_CURSOR_INVALID.
   */
  page(q: PageQuery): Promise<StreamPage<ProofEntry>>;
}

/**
 * Connection events of devices and the server's own start/alive/stop marks, in time order (uptime
 * is measured from them). Appends are buffered like health (a second may be lost on power loss; the
 * next start mark bounds the gap).
 */
export interface PresenceStream {
  append(entry: PresenceEntry): Promise<void>;
  /** Entries with `at` inside [from, to] (inclusive), in append order; `limit` as in StreamQuery. */
  query(q: StreamQuery): Promise<PresenceEntry[]>;
  /** The instant of the oldest stored entry (where a rebuild of the uptime rollups starts). */
  firstAt(): Promise<Instant | undefined>;
}

/**
 * What a stored rollup read gives: the parts asked for (every part when none were named), and the
 * parts whose stored bytes are damaged (unreadable or not matching their checksum; `*` when the
 * whole rollup is). Rollups are derived data: a caller rebuilds what is missing or damaged from the
 * raw streams.
 */
export interface RollupRead {
  found: boolean;
  parts: Record<string, unknown>;
  damaged: string[];
}

/**
 * Report rollups (per day, split in parts, e.g. one per unit): small JSON documents derived from
 * the proof and presence streams, so that a report reads a day's figures instead of its raw lines.
 * A rollup is replaced whole, atomically and durably (embedded: one file per day written through
 * `writeFileAtomic`, with an index of its parts; PostgreSQL: rows of `report_rollups` in one
 * transaction).
 */
export interface RollupStore {
  read(kind: string, key: string, parts?: readonly string[]): Promise<RollupRead>;
  /** Replaces the rollup (kind, key) with these parts. */
  write(kind: string, key: string, parts: Readonly<Record<string, unknown>>): Promise<void>;
  /** The keys of a kind's rollups, sorted. */
  keys(kind: string): Promise<string[]>;
  /** Removes every rollup of a kind (a rebuild from scratch). */
  clear(kind: string): Promise<void>;
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
  /** The station register (clusters and noticeboards, legacy equipment included). */
  register: Repository<RegisterEntry>;
  /** Periodic reports issued (their files are archived beside the store). */
  periodicReports: Repository<PeriodicReport>;
  /** Grassroots information staff per unit (phone numbers are personal data). */
  staff: Repository<StaffRecord>;
  /** Training courses and who attended them (with certificates). */
  trainingCourses: Repository<CourseRecord>;
  trainingAttendance: Repository<AttendanceRecord>;
  /** The document library's records (their files are kept beside the store). */
  documents: Repository<DocumentRecord>;
  trust: TrustRepository;
  /** Outgoing webhook subscriptions (embedded: webhooks.json beside the registry). */
  webhooks: Repository<WebhookRecord>;
  /** Citizens' feedback per unit, its ratings of public bulletins, Web Push subscriptions. */
  feedback: Repository<FeedbackRecord>;
  ratings: Repository<RatingRecord>;
  pushSubscriptions: Repository<PushSubscriptionRecord>;
  /** Editors' pronunciation entries for spoken bulletins (domain/lexicon.ts). */
  lexicon: Repository<LexiconEntryRecord>;
  /** Units' programme choices (opt-outs of upper-level content, quiet hours), keyed by unit path. */
  choices: Repository<ChoicesRecord>;
  audit: AuditLog;
  health: HealthStream;
  proofs: ProofStream;
  presence: PresenceStream;
  /** Report rollups derived from the streams (rebuilt from them when missing or damaged). */
  rollups: RollupStore;
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
