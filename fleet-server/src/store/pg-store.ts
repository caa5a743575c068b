/**
 * The PostgreSQL store (STORE=postgres, DATABASE_URL): the registry in jsonb tables with real
 * constraints (store/postgres/registry.ts), health/proof/audit in day-partitioned tables
 * (store/postgres/streams.ts), schema migrations applied at start under an advisory lock.
 * Same ports as the embedded store (file-store.ts); the contract suite runs against both.
 */

import type { DocumentRecord } from '../domain/documents.js';
import type {
  AlertRecord,
  ChoicesRecord,
  ContentRecord,
  FeedbackRecord,
  GroupRecord,
  LexiconEntryRecord,
  PushSubscriptionRecord,
  RatingRecord,
  SigningKeyRecord,
  WebhookRecord,
  ZoneRecord,
} from '../domain/model.js';
import type { RegisterEntry } from '../domain/register.js';
import type { PeriodicReport } from '../domain/reports/periodic.js';
import type { AttendanceRecord, CourseRecord, StaffRecord } from '../domain/staff.js';
import type { Store, StoreStats } from './ports.js';
import { PgCollection } from './postgres/collection.js';
import type { DayPartitionsOptions } from './postgres/day-stream.js';
import { Db } from './postgres/db.js';
import { migrate } from './postgres/migrations.js';
import {
  PgApiTokens,
  PgBundles,
  PgDevices,
  PgEnrolmentTokens,
  PgRollouts,
  PgSessions,
  PgTrust,
  PgUnits,
  PgUsers,
} from './postgres/registry.js';
import { PgRollups } from './postgres/rollups.js';
import { PgAuditLog, PgHealthStream, PgPresenceStream, PgProofStream } from './postgres/streams.js';

export interface PgStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  now: () => number;
  retentionDays: number;
  retentionTrustClock?: boolean;
  onRetentionDoubt?: DayPartitionsOptions['onRetentionDoubt'];
  onError?: (e: unknown) => void;
  /** Pool size (default 10). */
  poolSize?: number;
  /** Interval of the retention run (default 1 hour). */
  retentionEveryMs?: number;
}

export type PgStore = Store & {
  readonly db: Db;
  health: PgHealthStream;
  proofs: PgProofStream;
  audit: PgAuditLog;
};

export function createPgStore(o: PgStoreOptions): PgStore {
  const db = new Db({ url: o.url, ...(o.poolSize ? { max: o.poolSize } : {}) });
  const onError = o.onError ?? (() => {});
  const part = {
    now: o.now,
    retentionDays: o.retentionDays,
    ...(o.retentionTrustClock ? { retentionTrustClock: true } : {}),
    ...(o.onRetentionDoubt ? { onRetentionDoubt: o.onRetentionDoubt } : {}),
    onError,
  };
  const health = new PgHealthStream(db, part);
  const proofs = new PgProofStream(db, part);
  // audit is kept longer than telemetry: at least a year
  const audit = new PgAuditLog(db, { ...part, retentionDays: Math.max(o.retentionDays, 366) }, () =>
    new Date(o.now()).toISOString(),
  );
  // presence feeds yearly uptime reports: kept as long as the audit log
  const presence = new PgPresenceStream(db, { ...part, retentionDays: Math.max(o.retentionDays, 366) });
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  return {
    db,
    units: new PgUnits(db),
    groups: new PgCollection<GroupRecord>(db, { table: 'groups', entity: 'GROUP', idOf: (r) => r.id }),
    zones: new PgCollection<ZoneRecord>(db, { table: 'zones', entity: 'ZONE', idOf: (r) => r.id }),
    devices: new PgDevices(db),
    users: new PgUsers(db),
    sessions: new PgSessions(db),
    apiTokens: new PgApiTokens(db),
    enrolmentTokens: new PgEnrolmentTokens(db),
    signingKeys: new PgCollection<SigningKeyRecord>(db, {
      table: 'signing_keys',
      entity: 'SIGNING_KEY',
      idOf: (r) => r.keyid,
    }),
    content: new PgCollection<ContentRecord>(db, { table: 'content', entity: 'CONTENT', idOf: (r) => r.id }),
    bundles: new PgBundles(db),
    rollouts: new PgRollouts(db),
    alerts: new PgCollection<AlertRecord>(db, { table: 'alerts', entity: 'ALERT', idOf: (r) => r.id }),
    choices: new PgCollection<ChoicesRecord>(db, { table: 'choices', entity: 'CHOICES', idOf: (r) => r.id }),
    trust: new PgTrust(db),
    webhooks: new PgCollection<WebhookRecord>(db, {
      table: 'webhooks',
      entity: 'WEBHOOK',
      idOf: (r) => r.id,
    }),
    feedback: new PgCollection<FeedbackRecord>(db, {
      table: 'feedback',
      entity: 'FEEDBACK',
      idOf: (r) => r.id,
    }),
    ratings: new PgCollection<RatingRecord>(db, { table: 'ratings', entity: 'RATING', idOf: (r) => r.id }),
    pushSubscriptions: new PgCollection<PushSubscriptionRecord>(db, {
      table: 'push_subscriptions',
      entity: 'PUSH_SUBSCRIPTION',
      idOf: (r) => r.id,
    }),
    register: new PgCollection<RegisterEntry>(db, {
      table: 'register',
      entity: 'REGISTER',
      idOf: (r) => r.id,
    }),
    periodicReports: new PgCollection<PeriodicReport>(db, {
      table: 'periodic_reports',
      entity: 'REPORT',
      idOf: (r) => r.id,
    }),
    lexicon: new PgCollection<LexiconEntryRecord>(db, {
      table: 'lexicon',
      entity: 'LEXICON',
      idOf: (r) => r.id,
    }),
    staff: new PgCollection<StaffRecord>(db, { table: 'staff', entity: 'STAFF', idOf: (r) => r.id }),
    trainingCourses: new PgCollection<CourseRecord>(db, {
      table: 'training_courses',
      entity: 'COURSE',
      idOf: (r) => r.id,
    }),
    trainingAttendance: new PgCollection<AttendanceRecord>(db, {
      table: 'training_attendance',
      entity: 'ATTENDANCE',
      idOf: (r) => r.id,
    }),
    documents: new PgCollection<DocumentRecord>(db, {
      table: 'documents',
      entity: 'DOCUMENT',
      idOf: (r) => r.id,
    }),
    audit,
    presence,
    health,
    proofs,
    rollups: new PgRollups(db),
    async start() {
      await migrate(db);
      await health.start();
      await proofs.start();
      await audit.start();
      await presence.start();
      timer = setInterval(() => {
        for (const s of [health, proofs, audit, presence]) void s.partitions.retention().catch(onError);
      }, o.retentionEveryMs ?? 3600_000);
      timer.unref();
      started = true;
    },
    async flush() {
      await health.flush();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (!started) {
        await db.end().catch(() => {});
        return;
      }
      started = false;
      await health.flush();
      await db.end();
    },
    stats(): StoreStats {
      return {
        registryWrites: db.stats.writes,
        registryBytesWritten: 0,
        healthAppended: health.appended,
        proofsAppended: proofs.appended,
        segmentBytesWritten: 0,
      };
    },
  };
}
