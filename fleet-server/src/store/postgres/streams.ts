/**
 * Health, proof and audit streams in day-partitioned tables. The "latest per device" maps the
 * ports answer synchronously stay in memory, rebuilt at start from `health_latest` and
 * `proof_last`, which are upserted in the same transaction as the rows they summarise.
 *
 * - Health: appends are group-committed (everything queued while a write is in flight goes in
 *   the next one) with synchronous_commit off: like the embedded store, the last moment of
 *   health may be lost on power loss, never a proof.
 * - Proofs: one transaction per appendMany, committed durably before it resolves (ack after).
 * - Audit: the sequence comes from a PostgreSQL sequence; appends are durable.
 * - Presence: a device's connects and disconnects and the server's own life (uptime reports);
 *   a few lines a minute, each appended durably.
 */
import type { AuditEntry, AuditInput, HealthEntry, PresenceEntry, ProofEntry } from '../../domain/model.js';
import { decodeKeyCursor, encodeKeyCursor } from '../cursor.js';
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
import { DayPartitions, type DayPartitionsOptions, dayOf, Where } from './day-stream.js';
import { type Db, json, likePrefix } from './db.js';

type PartitionOptions = Omit<DayPartitionsOptions, 'table'>;

const dayOfIso = (iso: string) => dayOf(Date.parse(iso));

interface Pending {
  entry: HealthEntry;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function streamWhere(q: StreamQuery, time: string): Where {
  const w = new Where();
  if (q.deviceId !== undefined) w.add('device_id = ?', q.deviceId);
  if (q.bundleId !== undefined) w.add('bundle_id = ?', q.bundleId);
  if (q.from) w.add(`${time} >= ?`, q.from);
  if (q.to) w.add(`${time} <= ?`, q.to);
  return w;
}

export class PgHealthStream implements HealthStream {
  readonly partitions: DayPartitions;
  private readonly latestMap = new Map<string, HealthEntry>();
  private queue: Pending[] = [];
  private pumping: Promise<void> | undefined;
  appended = 0;

  constructor(
    private readonly db: Db,
    o: PartitionOptions,
  ) {
    this.partitions = new DayPartitions(db, { ...o, table: 'health' });
  }

  async start(): Promise<void> {
    await this.partitions.start();
    const r = await this.db.query<{ data: HealthEntry }>('SELECT data FROM health_latest');
    for (const x of r.rows) this.latestMap.set(x.data.deviceId, x.data);
  }

  append(entry: HealthEntry): Promise<void> {
    const prev = this.latestMap.get(entry.deviceId);
    if (!prev || prev.receivedAt <= entry.receivedAt) this.latestMap.set(entry.deviceId, entry);
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.pumping ??= this.pump();
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.write(batch.map((p) => p.entry));
          this.appended += batch.length;
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.pumping = undefined;
    }
  }

  private async write(entries: HealthEntry[]): Promise<void> {
    await this.partitions.ensure(entries.map((e) => dayOfIso(e.receivedAt)));
    const newest = new Map<string, HealthEntry>();
    for (const e of entries) {
      const p = newest.get(e.deviceId);
      if (!p || p.receivedAt <= e.receivedAt) newest.set(e.deviceId, e);
    }
    await this.db.tx(async (c) => {
      await c.query('SET LOCAL synchronous_commit = off');
      await c.query(
        `INSERT INTO health (device_id, received_at, data)
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[])`,
        [entries.map((e) => e.deviceId), entries.map((e) => e.receivedAt), entries.map(json)],
      );
      const l = [...newest.values()];
      await c.query(
        `INSERT INTO health_latest (device_id, received_at, data)
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[])
           ON CONFLICT (device_id) DO UPDATE SET received_at = excluded.received_at, data = excluded.data
           WHERE health_latest.received_at <= excluded.received_at`,
        [l.map((e) => e.deviceId), l.map((e) => e.receivedAt), l.map(json)],
      );
    });
  }

  async flush(): Promise<void> {
    while (this.pumping) await this.pumping.catch(() => {});
  }

  latest(deviceId: string): HealthEntry | undefined {
    return this.latestMap.get(deviceId);
  }
  latestAll(): ReadonlyMap<string, HealthEntry> {
    return this.latestMap;
  }
  /** In memory only: `health_latest` is shared and the receiving node upserted it. */
  remember(entry: HealthEntry): boolean {
    const prev = this.latestMap.get(entry.deviceId);
    if (prev && prev.receivedAt > entry.receivedAt) return false;
    this.latestMap.set(entry.deviceId, entry);
    return true;
  }

  async query(q: StreamQuery): Promise<HealthEntry[]> {
    await this.flush();
    const w = streamWhere({ ...q, bundleId: undefined }, 'received_at');
    const r = await this.db.query<{ data: HealthEntry }>(
      `SELECT data FROM health ${w.sql()} ORDER BY received_at DESC, id DESC LIMIT ${w.param(q.limit ?? 1000)}`,
      w.values,
    );
    return r.rows.map((x) => x.data).reverse();
  }
}

export class PgPresenceStream implements PresenceStream {
  readonly partitions: DayPartitions;
  appended = 0;

  constructor(
    private readonly db: Db,
    o: PartitionOptions,
  ) {
    this.partitions = new DayPartitions(db, { ...o, table: 'presence' });
  }

  async start(): Promise<void> {
    await this.partitions.start();
  }

  async append(entry: PresenceEntry): Promise<void> {
    await this.partitions.ensure([dayOfIso(entry.at)]);
    await this.db.query('INSERT INTO presence (device_id, at, event, data) VALUES ($1, $2, $3, $4)', [
      entry.deviceId ?? null,
      entry.at,
      entry.event,
      json(entry),
    ]);
    this.appended++;
  }

  async query(q: StreamQuery): Promise<PresenceEntry[]> {
    const w = streamWhere({ ...q, bundleId: undefined }, 'at');
    const r = await this.db.query<{ data: PresenceEntry }>(
      `SELECT data FROM presence ${w.sql()} ORDER BY at DESC, id DESC LIMIT ${w.param(q.limit ?? 1000)}`,
      w.values,
    );
    return r.rows.map((x) => x.data).reverse();
  }

  async firstAt(): Promise<string | undefined> {
    const r = await this.db.query<{ at: Date | null }>('SELECT min(at) AS at FROM presence');
    return r.rows[0]?.at ? r.rows[0].at.toISOString() : undefined;
  }
}

type ProofLast = { seq: number; hash: string; eventId: string };

export class PgProofStream implements ProofStream {
  readonly partitions: DayPartitions;
  private readonly lastMap = new Map<string, ProofLast>();
  appended = 0;

  constructor(
    private readonly db: Db,
    o: PartitionOptions,
  ) {
    this.partitions = new DayPartitions(db, { ...o, table: 'proofs' });
  }

  async start(): Promise<void> {
    await this.partitions.start();
    const r = await this.db.query<{ device_id: string; seq: string; hash: string; event_id: string }>(
      'SELECT device_id, seq, hash, event_id FROM proof_last',
    );
    for (const x of r.rows)
      this.lastMap.set(x.device_id, { seq: Number(x.seq), hash: x.hash, eventId: x.event_id });
  }

  append(entry: ProofEntry): Promise<void> {
    return this.appendMany([entry]);
  }

  async appendMany(entries: ProofEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.partitions.ensure(entries.map((e) => dayOfIso(e.receivedAt)));
    const newest = new Map<string, ProofEntry>();
    for (const e of entries) {
      const p = newest.get(e.deviceId);
      if (!p || e.proof.seq > p.proof.seq) newest.set(e.deviceId, e);
    }
    const l = [...newest.values()];
    await this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO proofs (device_id, received_at, bundle_id, seq, hash, data)
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::text[], $6::jsonb[])`,
        [
          entries.map((e) => e.deviceId),
          entries.map((e) => e.receivedAt),
          entries.map((e) => e.proof.bundleId ?? null),
          entries.map((e) => e.proof.seq),
          entries.map((e) => e.hash),
          entries.map(json),
        ],
      );
      await c.query(
        `INSERT INTO proof_last (device_id, seq, hash, event_id)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
           ON CONFLICT (device_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, event_id = excluded.event_id
           WHERE proof_last.seq < excluded.seq`,
        [
          l.map((e) => e.deviceId),
          l.map((e) => e.proof.seq),
          l.map((e) => e.hash),
          l.map((e) => e.proof.eventId),
        ],
      );
    });
    this.appended += entries.length;
    for (const e of l) {
      const prev = this.lastMap.get(e.deviceId);
      if (!prev || e.proof.seq > prev.seq)
        this.lastMap.set(e.deviceId, { seq: e.proof.seq, hash: e.hash, eventId: e.proof.eventId });
    }
  }

  last(deviceId: string): ProofLast | undefined {
    return this.lastMap.get(deviceId);
  }

  async query(q: StreamQuery): Promise<ProofEntry[]> {
    const w = streamWhere(q, 'received_at');
    const r = await this.db.query<{ data: ProofEntry }>(
      `SELECT data FROM proofs ${w.sql()} ORDER BY received_at DESC, id DESC LIMIT ${w.param(q.limit ?? 1000)}`,
      w.values,
    );
    return r.rows.map((x) => x.data).reverse();
  }

  /** Keyset paging on (received_at, id): each page reads from the index where the last one ended. */
  async page(q: PageQuery): Promise<StreamPage<ProofEntry>> {
    const limit = q.limit ?? 1000;
    const w = streamWhere(q, 'received_at');
    if (q.after !== undefined) {
      const c = decodeKeyCursor(q.after);
      w.add('(received_at, id) > (?::timestamptz, ?::bigint)', c.t, c.i);
    }
    const r = await this.db.query<{ data: ProofEntry; id: string; at: string }>(
      `SELECT data, id::text AS id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM proofs ${w.sql()} ORDER BY received_at, id LIMIT ${w.param(limit + 1)}`,
      w.values,
    );
    const rows = r.rows.slice(0, limit);
    const last = rows.at(-1);
    return {
      entries: rows.map((x) => x.data),
      next: r.rows.length > limit && last ? encodeKeyCursor({ t: last.at, i: last.id }) : null,
    };
  }
}

export class PgAuditLog implements AuditLog {
  readonly partitions: DayPartitions;
  constructor(
    private readonly db: Db,
    o: PartitionOptions,
    private readonly nowIso: () => string,
  ) {
    this.partitions = new DayPartitions(db, { ...o, table: 'audit' });
  }

  async start(): Promise<void> {
    await this.partitions.start();
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    const at = input.at ?? this.nowIso();
    await this.partitions.ensure([dayOfIso(at)]);
    // one statement (one round trip, committed durably): the sequence number goes into the record too
    const r = await this.db.query<{ seq: string }>(
      `WITH s AS (SELECT nextval('audit_seq') AS seq)
       INSERT INTO audit (seq, at, actor_id, action, unit, data)
       SELECT s.seq, $1, $2, $3, $4, $5::jsonb || jsonb_build_object('seq', s.seq) FROM s
       RETURNING seq`,
      [at, input.actor.id, input.action, input.unit ?? null, json({ ...input, at })],
    );
    this.db.stats.writes++;
    return { ...input, seq: Number(r.rows[0]?.seq), at };
  }

  async restore(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.partitions.ensure(entries.map((e) => dayOfIso(e.at)));
    await this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO audit (seq, at, actor_id, action, unit, data)
           SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
        [
          entries.map((e) => e.seq),
          entries.map((e) => e.at),
          entries.map((e) => e.actor.id),
          entries.map((e) => e.action),
          entries.map((e) => e.unit ?? null),
          entries.map(json),
        ],
      );
      await c.query("SELECT setval('audit_seq', GREATEST((SELECT max(seq) FROM audit), 1))");
    });
  }

  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const w = new Where();
    if (q.beforeSeq) w.add('seq < ?', q.beforeSeq);
    if (q.since) w.add('at >= ?', q.since);
    if (q.actorId) w.add('actor_id = ?', q.actorId);
    if (q.action) w.add("action LIKE ? ESCAPE '\\'", likePrefix(q.action));
    if (q.units) {
      if (q.units.length === 0) w.add('false');
      else {
        const ors = q.units.map(() => "(unit = ? OR unit LIKE ? ESCAPE '\\')").join(' OR ');
        w.add(`(${ors})`, ...q.units.flatMap((u) => [u, likePrefix(`${u}/`)]));
      }
    }
    const r = await this.db.query<{ data: AuditEntry }>(
      `SELECT data FROM audit ${w.sql()} ORDER BY seq DESC LIMIT ${w.param(q.limit ?? 100)}`,
      w.values,
    );
    return r.rows.map((x) => x.data);
  }
}
