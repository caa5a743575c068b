/**
 * The generic jsonb-backed `Repository<T>`: one table per collection, the record as `data jsonb`,
 * its id as the primary key, and whatever constraints the collection needs as columns generated
 * from the record (`unit text GENERATED ALWAYS AS (data->>'unit') STORED REFERENCES units …`),
 * so one record shape serves both stores and the constraints are real. `pos` keeps insertion
 * order (what the embedded store lists in). Records handed out are frozen, as in the embedded
 * store. See store/README.md for adding a collection.
 */
import { LoaError } from '@loa/protocol';
import { deepFreeze } from '../lowdb/collections.js';
import type { Repository } from '../ports.js';
import { type Db, json, mapPgError, type Queryable } from './db.js';

export interface PgCollectionSpec<T> {
  /** Table name (created by a migration with `jsonTableSql`). */
  table: string;
  /** Upper-case entity name for error codes (DEVICE → DEVICE_EXISTS, DEVICE_NOT_FOUND). */
  entity: string;
  idOf: (r: T) => string;
}

/**
 * DDL of a collection table. `columns` are extra column definitions, usually generated from the
 * record with constraints; name foreign keys `<table>_<column>__<referenced entity>` so that a
 * violation maps to `<REFERENCED ENTITY>_NOT_FOUND`.
 */
export function jsonTableSql(table: string, columns: string[] = [], indexes: string[] = []): string {
  const cols = [
    'id text PRIMARY KEY',
    'data jsonb NOT NULL',
    'pos bigint GENERATED ALWAYS AS IDENTITY',
    ...columns,
  ];
  return [
    `CREATE TABLE ${table} (\n  ${cols.join(',\n  ')}\n);`,
    `CREATE INDEX ${table}_pos ON ${table} (pos);`,
    ...indexes,
  ].join('\n');
}

/** A column generated from a text field of the record. */
export const field = (column: string, key: string, constraint = ''): string =>
  `${column} text GENERATED ALWAYS AS (data->>'${key}') STORED${constraint ? ` ${constraint}` : ''}`;

function clean<T>(r: T): T {
  return JSON.parse(JSON.stringify(r)) as T;
}

export class PgCollection<T extends object> implements Repository<T> {
  constructor(
    protected readonly db: Db,
    protected readonly spec: PgCollectionSpec<T>,
  ) {}

  protected get table(): string {
    return this.spec.table;
  }

  /** Records matching a SQL condition over the table's columns, in insertion order. */
  protected async where(cond: string, values: unknown[] = [], q: Queryable = this.db): Promise<T[]> {
    const r = await q.query<{ data: T }>(`SELECT data FROM ${this.table} WHERE ${cond} ORDER BY pos`, values);
    return r.rows.map((x) => deepFreeze(x.data));
  }

  protected async one(cond: string, values: unknown[]): Promise<T | undefined> {
    return (await this.where(cond, values))[0];
  }

  async get(id: string): Promise<T | undefined> {
    return this.one('id = $1', [id]);
  }

  async list(filter?: (r: T) => boolean): Promise<T[]> {
    const all = await this.where('true');
    return filter ? all.filter(filter) : all;
  }

  async count(filter?: (r: T) => boolean): Promise<number> {
    if (filter) return (await this.list(filter)).length;
    const r = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(r.rows[0]?.n ?? 0);
  }

  async insert(record: T): Promise<T> {
    const rec = clean(record);
    try {
      await this.db.query(`INSERT INTO ${this.table} (id, data) VALUES ($1, $2)`, [
        this.spec.idOf(rec),
        json(rec),
      ]);
    } catch (e) {
      mapPgError(e, this.spec.entity);
    }
    this.db.stats.writes++;
    return deepFreeze(rec);
  }

  async update(id: string, patch: Partial<T>): Promise<T> {
    try {
      return await this.db.tx(async (c) => {
        const r = await c.query<{ data: T }>(`SELECT data FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
        const old = r.rows[0]?.data;
        if (!old) throw new LoaError(`${this.spec.entity}_NOT_FOUND`, `không tìm thấy ${id}`);
        const next = { ...old, ...structuredClone(patch) } as T;
        if (this.spec.idOf(next) !== id)
          throw new LoaError('VALIDATION_FAILED', 'không được đổi mã định danh');
        for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
        await c.query(`UPDATE ${this.table} SET data = $2 WHERE id = $1`, [id, json(next)]);
        return deepFreeze(clean(next));
      });
    } catch (e) {
      if (e instanceof LoaError) throw e;
      mapPgError(e, this.spec.entity);
    }
  }

  async put(record: T): Promise<T> {
    const rec = clean(record);
    await this.putOn(this.db, rec);
    this.db.stats.writes++;
    return deepFreeze(rec);
  }

  protected async putOn(q: Queryable, rec: T): Promise<void> {
    try {
      await q.query(
        `INSERT INTO ${this.table} (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
        [this.spec.idOf(rec), json(rec)],
      );
    } catch (e) {
      mapPgError(e, this.spec.entity);
    }
  }

  async delete(id: string): Promise<boolean> {
    try {
      const r = await this.db.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
      this.db.stats.writes++;
      return (r.rowCount ?? 0) > 0;
    } catch (e) {
      mapPgError(e, this.spec.entity, 'delete');
    }
  }
}
