/**
 * The registry in lowdb: units, devices, users, sessions, tokens, keys, content, bundles,
 * rollouts, alerts, trust. All in memory; changes are written by a scheduler that coalesces
 * everything within `flushMs` into one atomic fsync'd file write (DurableJsonFile), so a busy
 * fleet never rewrites the file per message.
 */
import { join } from 'node:path';
import { anyUnitCovers, LoaError, unitCovers } from '@loa/protocol';
import { Low } from 'lowdb';
import type { DocumentRecord } from '../../domain/documents.js';
import type {
  AlertRecord,
  ApiTokenRecord,
  BundleRecord,
  ChoicesRecord,
  ContentRecord,
  DeviceRecord,
  EnrolmentTokenRecord,
  FeedbackRecord,
  GroupRecord,
  LexiconEntryRecord,
  PushSubscriptionRecord,
  RatingRecord,
  RolloutRecord,
  SessionRecord,
  SigningKeyRecord,
  TrustPolicyRecord,
  UnitRecord,
  UserRecord,
  ZoneRecord,
} from '../../domain/model.js';
import type { RegisterEntry } from '../../domain/register.js';
import type { PeriodicReport } from '../../domain/reports/periodic.js';
import type { AttendanceRecord, CourseRecord, StaffRecord } from '../../domain/staff.js';
import type {
  ApiTokenRepository,
  BundleRepository,
  DeviceRepository,
  EnrolmentTokenRepository,
  RolloutRepository,
  SessionRepository,
  TrustRepository,
  UnitRepository,
  UserRepository,
} from '../ports.js';
import { deepFreeze, MemCollection } from './collections.js';
import { DurableJsonFile } from './durable-file.js';

export interface RegistryData {
  format: 1;
  units: Record<string, UnitRecord>;
  groups: Record<string, GroupRecord>;
  zones: Record<string, ZoneRecord>;
  devices: Record<string, DeviceRecord>;
  users: Record<string, UserRecord>;
  sessions: Record<string, SessionRecord>;
  apiTokens: Record<string, ApiTokenRecord>;
  enrolmentTokens: Record<string, EnrolmentTokenRecord>;
  signingKeys: Record<string, SigningKeyRecord>;
  content: Record<string, ContentRecord>;
  bundles: Record<string, BundleRecord>;
  rollouts: Record<string, RolloutRecord>;
  alerts: Record<string, AlertRecord>;
  feedback: Record<string, FeedbackRecord>;
  ratings: Record<string, RatingRecord>;
  pushSubscriptions: Record<string, PushSubscriptionRecord>;
  register: Record<string, RegisterEntry>;
  periodicReports: Record<string, PeriodicReport>;
  lexicon: Record<string, LexiconEntryRecord>;
  staff: Record<string, StaffRecord>;
  trainingCourses: Record<string, CourseRecord>;
  trainingAttendance: Record<string, AttendanceRecord>;
  documents: Record<string, DocumentRecord>;
  choices: Record<string, ChoicesRecord>;
  trust: TrustPolicyRecord[];
}

const COLLECTIONS = [
  'units',
  'groups',
  'zones',
  'devices',
  'users',
  'sessions',
  'apiTokens',
  'enrolmentTokens',
  'signingKeys',
  'content',
  'bundles',
  'rollouts',
  'alerts',
  'feedback',
  'ratings',
  'pushSubscriptions',
  'register',
  'periodicReports',
  'lexicon',
  'staff',
  'trainingCourses',
  'trainingAttendance',
  'documents',
  'choices',
] as const;

function emptyData(): RegistryData {
  const d = { format: 1, trust: [] } as unknown as RegistryData;
  for (const c of COLLECTIONS) (d as unknown as Record<string, unknown>)[c] = {};
  return d;
}

class Units extends MemCollection<UnitRecord> implements UnitRepository {
  async subtree(path: string): Promise<UnitRecord[]> {
    return this.valuesSync().filter((u) => unitCovers(path, u.path));
  }
  async children(path: string | null): Promise<UnitRecord[]> {
    return this.valuesSync().filter((u) => u.parent === path);
  }
  async putMany(records: UnitRecord[]): Promise<void> {
    for (const r of records) this.putSync(r);
  }
}

class Devices extends MemCollection<DeviceRecord> implements DeviceRepository {
  async inUnits(paths: readonly string[]): Promise<DeviceRecord[]> {
    return this.valuesSync().filter((d) => anyUnitCovers(paths, d.unit));
  }
  async byKeyId(keyId: string): Promise<DeviceRecord | undefined> {
    return this.byIndex('keyId', keyId);
  }
}

class Users extends MemCollection<UserRecord> implements UserRepository {
  async byUsername(username: string): Promise<UserRecord | undefined> {
    return this.byIndex('username', username.toLowerCase());
  }
}

class Sessions extends MemCollection<SessionRecord> implements SessionRepository {
  async deleteExpired(now: string): Promise<number> {
    let n = 0;
    for (const s of this.valuesSync()) if (s.expiresAt <= now && (await this.delete(s.id))) n++;
    return n;
  }
  async deleteForUser(userId: string): Promise<number> {
    let n = 0;
    for (const s of this.valuesSync()) if (s.userId === userId && (await this.delete(s.id))) n++;
    return n;
  }
}

class ApiTokens extends MemCollection<ApiTokenRecord> implements ApiTokenRepository {
  async byHash(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.byIndex('hash', hash);
  }
}

class EnrolmentTokens extends MemCollection<EnrolmentTokenRecord> implements EnrolmentTokenRepository {
  async byHash(hash: string): Promise<EnrolmentTokenRecord | undefined> {
    return this.byIndex('hash', hash);
  }
  async consume(hash: string, now: string): Promise<EnrolmentTokenRecord> {
    // single-threaded: check and count happen with no await in between
    const t = this.byIndex('hash', hash);
    if (!t) throw new LoaError('ENROL_TOKEN_INVALID', 'mã đăng ký thiết bị không đúng');
    if (t.revokedAt) throw new LoaError('ENROL_TOKEN_REVOKED', 'mã đăng ký thiết bị đã bị thu hồi');
    if (t.expiresAt <= now) throw new LoaError('ENROL_TOKEN_EXPIRED', 'mã đăng ký thiết bị đã hết hạn');
    if (t.uses >= t.maxUses) throw new LoaError('ENROL_TOKEN_USED', 'mã đăng ký thiết bị đã được dùng hết');
    return this.putSync({ ...t, uses: t.uses + 1 });
  }
}

class Bundles extends MemCollection<BundleRecord> implements BundleRepository {
  async latestVersion(channel: string): Promise<number> {
    let v = 0;
    for (const b of this.valuesSync()) if (b.channel === channel && b.version > v) v = b.version;
    return v;
  }
}

class Rollouts implements RolloutRepository {
  private readonly rows: MemCollection<RolloutRecord>;
  private readonly byBundle = new Map<string, Set<string>>();
  private readonly byDevice = new Map<string, Set<string>>();
  constructor(rows: Record<string, RolloutRecord>, changed: () => void) {
    this.rows = new MemCollection(rows, (r) => Rollouts.key(r.bundleId, r.deviceId), 'ROLLOUT', changed);
    for (const r of this.rows.valuesSync()) this.track(r);
  }
  static key(bundleId: string, deviceId: string): string {
    return `${bundleId}|${deviceId}`;
  }
  private track(r: RolloutRecord): void {
    const k = Rollouts.key(r.bundleId, r.deviceId);
    if (!this.byBundle.has(r.bundleId)) this.byBundle.set(r.bundleId, new Set());
    if (!this.byDevice.has(r.deviceId)) this.byDevice.set(r.deviceId, new Set());
    this.byBundle.get(r.bundleId)?.add(k);
    this.byDevice.get(r.deviceId)?.add(k);
  }
  async get(bundleId: string, deviceId: string): Promise<RolloutRecord | undefined> {
    return this.rows.getSync(Rollouts.key(bundleId, deviceId));
  }
  async forBundle(bundleId: string): Promise<RolloutRecord[]> {
    return [...(this.byBundle.get(bundleId) ?? [])].flatMap((k) => this.rows.getSync(k) ?? []);
  }
  async forDevice(deviceId: string): Promise<RolloutRecord[]> {
    return [...(this.byDevice.get(deviceId) ?? [])].flatMap((k) => this.rows.getSync(k) ?? []);
  }
  async put(record: RolloutRecord): Promise<RolloutRecord> {
    const r = this.rows.putSync(record);
    this.track(r);
    return r;
  }
  async putMany(records: RolloutRecord[]): Promise<void> {
    for (const r of records) await this.put(r);
  }
  async deleteForBundle(bundleId: string): Promise<number> {
    const keys = [...(this.byBundle.get(bundleId) ?? [])];
    for (const k of keys) {
      const r = this.rows.getSync(k);
      if (r) this.byDevice.get(r.deviceId)?.delete(k);
      await this.rows.delete(k);
    }
    this.byBundle.delete(bundleId);
    return keys.length;
  }
}

class Trust implements TrustRepository {
  constructor(
    private readonly data: () => RegistryData,
    private readonly changed: () => void,
  ) {}
  async current(): Promise<TrustPolicyRecord | undefined> {
    return this.data().trust.at(-1);
  }
  async history(): Promise<TrustPolicyRecord[]> {
    return [...this.data().trust];
  }
  async put(record: TrustPolicyRecord): Promise<void> {
    const cur = this.data().trust.at(-1);
    if (cur && record.version <= cur.version)
      throw new LoaError(
        'TRUST_ROLLBACK',
        `chính sách tin cậy phiên bản ${record.version} không mới hơn ${cur.version}`,
      );
    this.data().trust.push(deepFreeze(structuredClone(record)));
    this.changed();
  }
}

export class Registry {
  private db!: Low<RegistryData>;
  private readonly adapter: DurableJsonFile<RegistryData>;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  units!: Units;
  groups!: MemCollection<GroupRecord>;
  zones!: MemCollection<ZoneRecord>;
  devices!: Devices;
  users!: Users;
  sessions!: Sessions;
  apiTokens!: ApiTokens;
  enrolmentTokens!: EnrolmentTokens;
  signingKeys!: MemCollection<SigningKeyRecord>;
  content!: MemCollection<ContentRecord>;
  bundles!: Bundles;
  rollouts!: Rollouts;
  alerts!: MemCollection<AlertRecord>;
  feedback!: MemCollection<FeedbackRecord>;
  ratings!: MemCollection<RatingRecord>;
  pushSubscriptions!: MemCollection<PushSubscriptionRecord>;
  register!: MemCollection<RegisterEntry>;
  periodicReports!: MemCollection<PeriodicReport>;
  lexicon!: MemCollection<LexiconEntryRecord>;
  staff!: MemCollection<StaffRecord>;
  trainingCourses!: MemCollection<CourseRecord>;
  trainingAttendance!: MemCollection<AttendanceRecord>;
  documents!: MemCollection<DocumentRecord>;
  choices!: MemCollection<ChoicesRecord>;
  trust!: Trust;

  constructor(
    readonly dir: string,
    private readonly flushMs: number,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.adapter = new DurableJsonFile<RegistryData>(join(dir, 'registry.json'));
  }

  get path(): string {
    return join(this.dir, 'registry.json');
  }

  async start(): Promise<void> {
    this.db = new Low<RegistryData>(this.adapter, emptyData());
    await this.db.read();
    const d = this.db.data;
    if (d.format !== 1)
      throw new LoaError('REGISTRY_CORRUPT', `sổ đăng ký có định dạng lạ (${String(d.format)})`);
    for (const c of COLLECTIONS) (d as unknown as Record<string, unknown>)[c] ??= {};
    d.trust ??= [];
    const ch = () => this.markDirty();
    this.units = new Units(d.units, (r) => r.path, 'UNIT', ch);
    this.groups = new MemCollection(d.groups, (r) => r.id, 'GROUP', ch);
    this.zones = new MemCollection(d.zones, (r) => r.id, 'ZONE', ch);
    this.devices = new Devices(d.devices, (r) => r.id, 'DEVICE', ch);
    this.devices.addIndex('keyId', (r) => r.keyId);
    this.users = new Users(d.users, (r) => r.id, 'USER', ch);
    this.users.addIndex('username', (r) => r.username.toLowerCase());
    this.sessions = new Sessions(d.sessions, (r) => r.id, 'SESSION', ch);
    this.apiTokens = new ApiTokens(d.apiTokens, (r) => r.id, 'TOKEN', ch);
    this.apiTokens.addIndex('hash', (r) => r.hash);
    this.enrolmentTokens = new EnrolmentTokens(d.enrolmentTokens, (r) => r.id, 'ENROL_TOKEN', ch);
    this.enrolmentTokens.addIndex('hash', (r) => r.hash);
    this.signingKeys = new MemCollection(d.signingKeys, (r) => r.keyid, 'SIGNING_KEY', ch);
    this.content = new MemCollection(d.content, (r) => r.id, 'CONTENT', ch);
    this.bundles = new Bundles(d.bundles, (r) => r.id, 'BUNDLE', ch);
    this.rollouts = new Rollouts(d.rollouts, ch);
    this.alerts = new MemCollection(d.alerts, (r) => r.id, 'ALERT', ch);
    this.feedback = new MemCollection(d.feedback, (r) => r.id, 'FEEDBACK', ch);
    this.choices = new MemCollection(d.choices, (r) => r.id, 'CHOICES', ch);
    this.ratings = new MemCollection(d.ratings, (r) => r.id, 'RATING', ch);
    this.pushSubscriptions = new MemCollection(d.pushSubscriptions, (r) => r.id, 'PUSH_SUBSCRIPTION', ch);
    this.register = new MemCollection(d.register, (r) => r.id, 'REGISTER', ch);
    this.periodicReports = new MemCollection(d.periodicReports, (r) => r.id, 'REPORT', ch);
    this.lexicon = new MemCollection(d.lexicon, (r) => r.id, 'LEXICON', ch);
    this.staff = new MemCollection(d.staff, (r) => r.id, 'STAFF', ch);
    this.trainingCourses = new MemCollection(d.trainingCourses, (r) => r.id, 'COURSE', ch);
    this.trainingAttendance = new MemCollection(d.trainingAttendance, (r) => r.id, 'ATTENDANCE', ch);
    this.documents = new MemCollection(d.documents, (r) => r.id, 'DOCUMENT', ch);
    this.trust = new Trust(() => this.db.data, ch);
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNow().catch((e) => {
        this.onError(e);
        // keep trying (disk full, I/O error): the changes are still in memory
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          if (this.dirty) {
            this.dirty = false;
            this.markDirty();
          }
        }, 1000);
      });
    }, this.flushMs);
  }

  /** Writes once if dirty; concurrent calls share the write in progress, then write again if needed. */
  private async writeNow(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.db.write().finally(() => {
      this.writing = undefined;
    });
    try {
      await this.writing;
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  /** Writes pending changes now (fsync'd) and resolves when they are on disk. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.writeNow();
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.flush();
    this.stopped = true;
  }

  stats(): { writes: number; bytes: number } {
    return { writes: this.adapter.writes, bytes: this.adapter.bytes };
  }
}
