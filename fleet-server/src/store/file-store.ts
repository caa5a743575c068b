/**
 * The embedded store: lowdb registry (registry.json) + append-only segments
 * (health/, proofs/, presence/, audit/) and report rollups (rollups/) under one data directory.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { WebhookRecord } from '../domain/model.js';
import { JsonFileCollection } from './lowdb/json-file-collection.js';
import { Registry } from './lowdb/registry.js';
import { RollupFiles } from './lowdb/rollup-files.js';
import type { Store, StoreStats } from './ports.js';
import type { SegmentLogOptions } from './segments/segment-log.js';
import { FileAuditLog, FileHealthStream, FilePresenceStream, FileProofStream } from './segments/streams.js';

export interface FileStoreOptions {
  dataDir: string;
  now: () => number;
  retentionDays: number;
  /** Registry write coalescing window (ms). */
  registryFlushMs: number;
  /** Background fsync interval for health segments (ms). */
  healthFsyncMs: number;
  /** Snapshot interval of latest state (ms). */
  snapshotMs?: number;
  onError?: (e: unknown) => void;
  /** Damaged segment lines (copied to <stream>/quarantine.ndjson) and doubted retention runs. */
  onDamage?: SegmentLogOptions['onDamage'];
  onRetentionDoubt?: SegmentLogOptions['onRetentionDoubt'];
  retentionTrustClock?: boolean;
}

export function createFileStore(o: FileStoreOptions): Store {
  const onError = o.onError ?? (() => {});
  const registry = new Registry(o.dataDir, o.registryFlushMs, onError);
  const seg = (name: string, fsyncMs: number) => ({
    dir: join(o.dataDir, name),
    now: o.now,
    retentionDays: o.retentionDays,
    fsyncMs,
    onError,
    ...(o.snapshotMs ? { snapshotMs: o.snapshotMs } : {}),
    ...(o.onDamage ? { onDamage: o.onDamage } : {}),
    ...(o.onRetentionDoubt ? { onRetentionDoubt: o.onRetentionDoubt } : {}),
    ...(o.retentionTrustClock ? { retentionTrustClock: true } : {}),
  });
  const health = new FileHealthStream({ ...seg('health', o.healthFsyncMs), replayDaysWithoutSnapshot: 2 });
  const proofs = new FileProofStream(seg('proofs', o.healthFsyncMs));
  // presence feeds yearly uptime reports: kept as long as the audit log
  const presence = new FilePresenceStream({
    ...seg('presence', o.healthFsyncMs),
    retentionDays: Math.max(o.retentionDays, 366),
    replayDaysWithoutSnapshot: 1,
  });
  // audit is kept longer than telemetry: at least a year
  const audit = new FileAuditLog(
    { ...seg('audit', o.healthFsyncMs), retentionDays: Math.max(o.retentionDays, 366) },
    () => new Date(o.now()).toISOString(),
  );
  const webhooks = new JsonFileCollection<WebhookRecord>(
    join(o.dataDir, 'webhooks.json'),
    'hooks',
    'WEBHOOK',
    (r) => r.id,
  );
  const rollups = new RollupFiles(join(o.dataDir, 'rollups'));
  let started = false;

  const store: Store = {
    get units() {
      return registry.units;
    },
    get groups() {
      return registry.groups;
    },
    get zones() {
      return registry.zones;
    },
    get devices() {
      return registry.devices;
    },
    get users() {
      return registry.users;
    },
    get sessions() {
      return registry.sessions;
    },
    get apiTokens() {
      return registry.apiTokens;
    },
    get enrolmentTokens() {
      return registry.enrolmentTokens;
    },
    get signingKeys() {
      return registry.signingKeys;
    },
    get content() {
      return registry.content;
    },
    get bundles() {
      return registry.bundles;
    },
    get rollouts() {
      return registry.rollouts;
    },
    get alerts() {
      return registry.alerts;
    },
    get register() {
      return registry.register;
    },
    get periodicReports() {
      return registry.periodicReports;
    },
    get lexicon() {
      return registry.lexicon;
    },
    get staff() {
      return registry.staff;
    },
    get trainingCourses() {
      return registry.trainingCourses;
    },
    get trainingAttendance() {
      return registry.trainingAttendance;
    },
    get documents() {
      return registry.documents;
    },
    get choices() {
      return registry.choices;
    },
    get trust() {
      return registry.trust;
    },
    webhooks,
    get feedback() {
      return registry.feedback;
    },
    get ratings() {
      return registry.ratings;
    },
    get pushSubscriptions() {
      return registry.pushSubscriptions;
    },
    audit,
    health,
    proofs,
    presence,
    rollups,
    async start() {
      await fsp.mkdir(o.dataDir, { recursive: true, mode: 0o700 });
      await registry.start();
      await webhooks.start();
      await health.start();
      await proofs.start();
      await presence.start();
      await audit.start();
      started = true;
    },
    async flush() {
      await Promise.all([registry.flush(), health.flush(), proofs.flush(), presence.flush(), audit.flush()]);
    },
    async stop() {
      if (!started) return;
      started = false;
      await audit.stop();
      await presence.stop();
      await proofs.stop();
      await health.stop();
      await registry.stop();
    },
    stats(): StoreStats {
      const r = registry.stats();
      return {
        registryWrites: r.writes,
        registryBytesWritten: r.bytes,
        healthAppended: health.log.linesWritten,
        proofsAppended: proofs.log.linesWritten,
        segmentBytesWritten:
          health.log.bytesWritten +
          proofs.log.bytesWritten +
          presence.log.bytesWritten +
          audit.log.bytesWritten,
      };
    },
  };
  return store;
}
