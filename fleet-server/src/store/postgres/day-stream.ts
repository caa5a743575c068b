/**
 * The generic day-partitioned stream: a table partitioned by range on a timestamptz column, one
 * partition per UTC day (`<table>_pYYYYMMDD`), created on first write to that day under an
 * advisory lock (two processes may write the same new day), and retention by dropping whole
 * partitions — never on a doubted clock (domain/retention.ts, as the embedded segments): the
 * last trusted run is kept in `stream_retention`. Indexes declared on the parent are created on
 * every partition. See store/README.md for adding a stream.
 */
import { decideRetention, type RetentionDecision } from '../../domain/retention.js';
import type { Db, Queryable } from './db.js';

/** DDL of a day-partitioned stream: its columns and the column lists to index. */
export function dayStreamSql(
  table: string,
  timeColumn: string,
  columns: string[],
  indexes: string[],
): string {
  return [
    `CREATE TABLE ${table} (\n  ${columns.join(',\n  ')}\n) PARTITION BY RANGE (${timeColumn});`,
    ...indexes.map((cols, i) => `CREATE INDEX ${table}_i${i} ON ${table} ${cols};`),
  ].join('\n');
}

export interface DayPartitionsOptions {
  table: string;
  now: () => number;
  retentionDays: number;
  retentionTrustClock?: boolean;
  maxClockJumpMs?: number;
  onRetentionDoubt?: (d: Extract<RetentionDecision, { trusted: false }> & { dir: string }) => void;
  /** Errors of a retention run started by a new day (the append itself goes on). */
  onError?: (e: unknown) => void;
}

const DAY_MS = 86_400_000;
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const compact = (day: string) => day.replaceAll('-', '');

/** Advisory-lock key of a stream's partition maintenance (hashtext of the table name). */
const lockSql = "SELECT pg_advisory_xact_lock(hashtext('loa-partitions:' || $1))";

export class DayPartitions {
  private readonly known = new Set<string>();
  constructor(
    private readonly db: Db,
    readonly o: DayPartitionsOptions,
  ) {}

  partitionName(day: string): string {
    return `${this.o.table}_p${compact(day)}`;
  }

  /** Days that have a partition, oldest first. */
  async days(q: Queryable = this.db): Promise<string[]> {
    const r = await q.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = $1`,
      [this.o.table],
    );
    const re = new RegExp(`^${this.o.table}_p(\\d{4})(\\d{2})(\\d{2})$`);
    return r.rows
      .map((x) => re.exec(x.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}-${m[2]}-${m[3]}`)
      .sort();
  }

  async start(): Promise<void> {
    for (const d of await this.days()) this.known.add(d);
    await this.retention();
  }

  /**
   * Creates the partitions of these days that do not exist yet. A new newest day runs retention
   * (as the embedded segments do at each rotation), so its marker follows the clock day by day.
   */
  async ensure(days: Iterable<string>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.known.has(d));
    if (missing.length === 0) return;
    const newest = [...this.known].sort().at(-1);
    const rotates = missing.some((d) => newest === undefined || d > newest);
    await this.db.tx(async (c) => {
      await c.query(lockSql, [this.o.table]);
      for (const day of missing) {
        const next = dayOf(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${this.partitionName(day)} PARTITION OF ${this.o.table}
             FOR VALUES FROM ('${day}T00:00:00Z') TO ('${next}T00:00:00Z')`,
        );
      }
    });
    for (const d of missing) this.known.add(d);
    if (rotates) await this.retention().catch((e) => this.o.onError?.(e));
  }

  /**
   * Drops partitions older than the retention window, on a clock it can trust: the last trusted
   * run (or, before the first, the newest stored day) is the reference. Returns the days dropped.
   */
  async retention(): Promise<string[]> {
    return this.db.tx(async (c) => {
      await c.query(lockSql, [this.o.table]);
      const m = await c.query<{ at: Date }>(
        'SELECT last_run_at AS at FROM stream_retention WHERE stream = $1',
        [this.o.table],
      );
      const days = await this.days(c);
      const now = this.o.now();
      const lastRunAt = m.rows[0]?.at.getTime();
      const newestDay = days.at(-1);
      const decision = decideRetention({
        now,
        retentionDays: this.o.retentionDays,
        ...(lastRunAt !== undefined ? { lastRunAt } : {}),
        ...(newestDay ? { newestDay } : {}),
        ...(this.o.maxClockJumpMs ? { maxJumpMs: this.o.maxClockJumpMs } : {}),
        ...(this.o.retentionTrustClock ? { confirmed: true } : {}),
      });
      if (!decision.trusted) this.o.onRetentionDoubt?.({ ...decision, dir: `postgres:${this.o.table}` });
      const drop = days.filter((d) => d < decision.cutoffDay);
      for (const d of drop) {
        await c.query(`DROP TABLE IF EXISTS ${this.partitionName(d)}`);
        this.known.delete(d);
      }
      if (decision.trusted)
        await c.query(
          `INSERT INTO stream_retention (stream, last_run_at) VALUES ($1, $2)
             ON CONFLICT (stream) DO UPDATE SET last_run_at = excluded.last_run_at`,
          [this.o.table, new Date(now)],
        );
      return drop;
    });
  }
}

/** WHERE clause builder: `add('device_id = ?', v)` numbers the parameters. */
export class Where {
  readonly parts: string[] = [];
  readonly values: unknown[] = [];
  add(cond: string, ...values: unknown[]): this {
    let i = this.values.length;
    this.parts.push(cond.replace(/\?/g, () => `$${++i}`));
    this.values.push(...values);
    return this;
  }
  /** Next parameter placeholder for a trailing value (LIMIT). */
  param(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
  sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
