/**
 * Health, proof and audit streams on append-only segments, each with in-memory latest state that
 * is snapshotted (atomically, with the log position it reflects) every 5 minutes and rebuilt on start
 * from the snapshot plus the segment lines written after it.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@loa/protocol/fs';
import { withDefaults } from '../../defaults.js';
import type { AuditEntry, AuditInput, HealthEntry, PresenceEntry, ProofEntry } from '../../domain/model.js';
import { decodeSegmentCursor, encodeSegmentCursor } from '../cursor.js';
import { readJsonFile } from '../lowdb/durable-file.js';
import type {
  AuditLog,
  AuditQuery,
  HealthStream,
  PageQuery,
  PresenceStream,
  ProofStream,
  StreamPage,
  StreamQuery,
} from '../ports.js';
import { dayOf, SegmentLog, type SegmentLogOptions, type SegmentPosition } from './segment-log.js';

export type StreamOptions = SegmentLogOptions & {
  /** Snapshot interval (default 5 minutes: at most 5 minutes of lines are replayed on start). */
  snapshotMs?: number;
  /** Without a snapshot, replay only the last N days (health: latest state is recent). */
  replayDaysWithoutSnapshot?: number;
};

interface Snapshot<V> {
  format: 1;
  position: SegmentPosition;
  entries: [string, V][];
  extra?: Record<string, unknown>;
}

export const STREAM_DEFAULTS = {
  /** Interval of the snapshot of the latest map (a restart replays from it). */
  snapshotMs: 300_000,
};

/** A segment log plus a keyed "latest" map kept in memory and snapshotted. */
abstract class SnapshottedStream<R, V> {
  readonly log: SegmentLog;
  protected readonly latestMap = new Map<string, V>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly snapshotPath: string;
  /** Lines skipped as unreadable while rebuilding (torn or damaged lines). */
  skippedOnStart = 0;

  constructor(protected readonly opts: StreamOptions) {
    this.log = new SegmentLog(opts);
    this.snapshotPath = join(opts.dir, 'snapshot.json');
  }

  /** Applies a record to the latest map (also used when replaying). */
  protected abstract reduce(rec: R): void;
  protected snapshotExtra(): Record<string, unknown> | undefined {
    return undefined;
  }
  protected loadExtra(_extra: Record<string, unknown> | undefined): void {}

  async start(): Promise<void> {
    await fsp.mkdir(this.opts.dir, { recursive: true });
    const snap = await readJsonFile<Snapshot<V>>(this.snapshotPath).catch(() => null);
    let from: SegmentPosition | undefined;
    if (snap?.format === 1) {
      for (const [k, v] of snap.entries) this.latestMap.set(k, v);
      this.loadExtra(snap.extra);
      from = snap.position;
    }
    const r = await this.log.scan(
      (rec) => {
        this.reduce(rec as R);
        return undefined;
      },
      from
        ? { from }
        : this.opts.replayDaysWithoutSnapshot
          ? { fromDay: dayOf(this.opts.now() - this.opts.replayDaysWithoutSnapshot * 86_400_000) }
          : {},
    );
    this.skippedOnStart = r.skipped;
    await this.log.start();
    if (r.records > 0) this.dirty = true;
    const every = withDefaults(STREAM_DEFAULTS, this.opts).snapshotMs;
    this.timer = setInterval(() => {
      void this.snapshot().catch((e) => this.opts.onError?.(e));
    }, every);
    this.timer.unref();
  }

  protected touch(): void {
    this.dirty = true;
  }

  private snapshotting: Promise<void> = Promise.resolve();

  /** Writes the latest state with the log position it reflects (serialised: one at a time). */
  snapshot(): Promise<void> {
    const next = this.snapshotting.then(() => this.snapshotOnce());
    this.snapshotting = next.catch(() => {});
    return next;
  }

  private async snapshotOnce(): Promise<void> {
    if (!this.dirty) return;
    await this.log.flush();
    const snap: Snapshot<V> = {
      format: 1,
      position: this.log.position(),
      entries: [...this.latestMap],
      ...(this.snapshotExtra() ? { extra: this.snapshotExtra() } : {}),
    };
    this.dirty = false;
    await writeFileAtomic(this.snapshotPath, JSON.stringify(snap), { mode: 0o600 });
  }

  async flush(): Promise<void> {
    await this.log.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.log.flush();
    await this.snapshot();
    await this.log.stop();
  }

  protected async queryLog<
    T extends { deviceId?: string; receivedAt?: string; at?: string; proof?: { bundleId?: string } },
  >(q: StreamQuery): Promise<T[]> {
    const limit = q.limit ?? 1000;
    const out: T[] = [];
    // cheap text prefilters before JSON.parse (the parsed record is checked exactly below)
    const needles = [
      ...(q.deviceId ? [`"deviceId":${JSON.stringify(q.deviceId)}`] : []),
      ...(q.bundleId ? [`"bundleId":${JSON.stringify(q.bundleId)}`] : []),
    ];
    await this.log.scan(
      (rec) => {
        const r = rec as T;
        if (q.deviceId && r.deviceId !== q.deviceId) return undefined;
        if (q.bundleId && r.proof?.bundleId !== q.bundleId) return undefined;
        const t = r.receivedAt ?? r.at ?? '';
        if (q.from && t < q.from) return undefined;
        if (q.to && t > q.to) return undefined;
        out.push(r);
        if (out.length > limit) out.shift();
        return undefined;
      },
      {
        ...(q.from ? { fromDay: q.from.slice(0, 10) } : {}),
        ...(q.to ? { toDay: q.to.slice(0, 10) } : {}),
        ...(needles.length > 0 ? { filter: (line: string) => needles.every((n) => line.includes(n)) } : {}),
      },
    );
    return out;
  }
}

export class FileHealthStream extends SnapshottedStream<HealthEntry, HealthEntry> implements HealthStream {
  protected reduce(rec: HealthEntry): void {
    const prev = this.latestMap.get(rec.deviceId);
    if (!prev || prev.receivedAt <= rec.receivedAt) this.latestMap.set(rec.deviceId, rec);
  }
  append(entry: HealthEntry, healthJson?: string): Promise<void> {
    this.reduce(entry);
    this.touch();
    // the report's own text when it holds no line break (NDJSON: one record per line; a line
    // break outside strings is whitespace, a device may send pretty-printed JSON): no re-serialising
    if (healthJson !== undefined && !/[\n\r]/.test(healthJson))
      return this.log.appendLine(
        `{"deviceId":${JSON.stringify(entry.deviceId)},"receivedAt":${JSON.stringify(entry.receivedAt)},"health":${healthJson}}`,
        false,
      );
    return this.log.append(entry, false);
  }
  latest(deviceId: string): HealthEntry | undefined {
    return this.latestMap.get(deviceId);
  }
  latestAll(): ReadonlyMap<string, HealthEntry> {
    return this.latestMap;
  }
  remember(entry: HealthEntry): boolean {
    const prev = this.latestMap.get(entry.deviceId);
    if (prev && prev.receivedAt > entry.receivedAt) return false;
    this.latestMap.set(entry.deviceId, entry);
    this.touch();
    return true;
  }
  query(q: StreamQuery): Promise<HealthEntry[]> {
    return this.queryLog<HealthEntry>(q);
  }
}

type ProofLast = { seq: number; hash: string; eventId: string };

export class FileProofStream extends SnapshottedStream<ProofEntry, ProofLast> implements ProofStream {
  protected reduce(rec: ProofEntry): void {
    const prev = this.latestMap.get(rec.deviceId);
    if (!prev || rec.proof.seq > prev.seq)
      this.latestMap.set(rec.deviceId, { seq: rec.proof.seq, hash: rec.hash, eventId: rec.proof.eventId });
  }
  async append(entry: ProofEntry): Promise<void> {
    await this.log.append(entry, true);
    this.reduce(entry);
    this.touch();
  }
  async appendMany(entries: ProofEntry[], proofTexts?: readonly (string | undefined)[]): Promise<void> {
    const lines: string[] = [];
    for (const [i, e] of entries.entries()) {
      const text = proofTexts?.[i];
      // the proof's canonical text as it was hashed (one line: canonical JSON escapes line
      // breaks; checked all the same) rather than serialising it again
      lines.push(
        text !== undefined && !/[\n\r]/.test(text)
          ? `{"deviceId":${JSON.stringify(e.deviceId)},"receivedAt":${JSON.stringify(e.receivedAt)},"hash":${JSON.stringify(e.hash)},"proof":${text}}`
          : JSON.stringify(e),
      );
    }
    await this.log.appendLines(lines, true);
    for (const e of entries) this.reduce(e);
    this.touch();
  }
  last(deviceId: string): ProofLast | undefined {
    return this.latestMap.get(deviceId);
  }
  query(q: StreamQuery): Promise<ProofEntry[]> {
    return this.queryLog<ProofEntry>(q);
  }

  async page(q: PageQuery): Promise<StreamPage<ProofEntry>> {
    const limit = q.limit ?? 1000;
    const from = q.after === undefined ? undefined : decodeSegmentCursor(q.after);
    const entries: ProofEntry[] = [];
    let last: SegmentPosition | undefined;
    let more = false;
    const needles = [
      ...(q.deviceId ? [`"deviceId":${JSON.stringify(q.deviceId)}`] : []),
      ...(q.bundleId ? [`"bundleId":${JSON.stringify(q.bundleId)}`] : []),
    ];
    await this.log.scan(
      (rec, pos) => {
        const r = rec as ProofEntry;
        if (q.deviceId && r.deviceId !== q.deviceId) return undefined;
        if (q.bundleId && r.proof?.bundleId !== q.bundleId) return undefined;
        if (q.from && r.receivedAt < q.from) return undefined;
        if (q.to && r.receivedAt > q.to) return undefined;
        if (entries.length === limit) {
          more = true;
          return false;
        }
        entries.push(r);
        last = pos;
        return undefined;
      },
      {
        ...(from ? { from } : {}),
        ...(q.from ? { fromDay: q.from.slice(0, 10) } : {}),
        ...(q.to ? { toDay: q.to.slice(0, 10) } : {}),
        ...(needles.length > 0 ? { filter: (line: string) => needles.every((n) => line.includes(n)) } : {}),
      },
    );
    return { entries, next: more && last ? encodeSegmentCursor(last) : null };
  }
}

/** Audit entries: durable appends, a monotonic sequence, newest-first queries. */
export class FileAuditLog extends SnapshottedStream<AuditEntry, never> implements AuditLog {
  private seq = 0;
  constructor(
    opts: StreamOptions,
    private readonly nowIso: () => string,
  ) {
    super(opts);
  }
  protected reduce(rec: AuditEntry): void {
    if (typeof rec.seq === 'number' && rec.seq > this.seq) this.seq = rec.seq;
  }
  protected override snapshotExtra(): Record<string, unknown> {
    return { seq: this.seq };
  }
  protected override loadExtra(extra: Record<string, unknown> | undefined): void {
    if (typeof extra?.seq === 'number') this.seq = extra.seq;
  }
  async append(input: AuditInput): Promise<AuditEntry> {
    const entry: AuditEntry = { ...input, seq: ++this.seq, at: input.at ?? this.nowIso() };
    this.touch();
    await this.log.append(entry, true);
    return entry;
  }
  async restore(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.log.appendMany(entries, true);
    for (const e of entries) this.reduce(e);
    this.touch();
  }
  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = q.limit ?? 100;
    const out: AuditEntry[] = [];
    const files = (await this.log.files()).reverse();
    const sinceDay = q.since ? dayOf(Date.parse(q.since)) : undefined;
    for (const f of files) {
      if (sinceDay && f.slice(0, 10) < sinceDay) break;
      const text = await fsp.readFile(join(this.opts.dir, f), 'utf8');
      const lines = text.split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i];
        if (!line) continue;
        let e: AuditEntry;
        try {
          e = JSON.parse(line) as AuditEntry;
        } catch {
          continue;
        }
        if (q.beforeSeq && e.seq >= q.beforeSeq) continue;
        if (q.since && e.at < q.since) continue;
        if (q.actorId && e.actor.id !== q.actorId) continue;
        if (q.action && !e.action.startsWith(q.action)) continue;
        if (q.units && !(e.unit && q.units.some((u) => e.unit === u || e.unit?.startsWith(`${u}/`))))
          continue;
        out.push(e);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}

/** Presence events: buffered appends (batched fsync), time-range queries; no latest state. */
export class FilePresenceStream extends SnapshottedStream<PresenceEntry, never> implements PresenceStream {
  protected reduce(_rec: PresenceEntry): void {}
  append(entry: PresenceEntry): Promise<void> {
    return this.log.append(entry, false);
  }
  query(q: StreamQuery): Promise<PresenceEntry[]> {
    return this.queryLog<PresenceEntry>(q);
  }
  async firstAt(): Promise<string | undefined> {
    let first: string | undefined;
    await this.log.scan((rec) => {
      first = (rec as PresenceEntry).at;
      return false;
    });
    return first;
  }
}
