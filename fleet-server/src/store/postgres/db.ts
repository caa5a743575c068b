/**
 * The connection pool and the small SQL helpers every PostgreSQL adapter shares: transactions,
 * and the mapping of constraint violations to the stable error codes of the ports
 * (`<ENTITY>_EXISTS`, `<REFERENCED>_NOT_FOUND`, `<ENTITY>_CONFLICT`).
 */
import { LoaError } from '@loa/protocol';
import pg from 'pg';

/** A pool, a client in a transaction, or the Db: what runs one statement. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface DbOptions {
  url: string;
  /** Connections in the pool (default 10). */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

/** Counters for /metrics and benchmarks. */
export interface DbStats {
  writes: number;
}

export class Db {
  readonly pool: pg.Pool;
  readonly stats: DbStats = { writes: 0 };
  constructor(o: DbOptions) {
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.max ?? 10,
      application_name: o.applicationName ?? 'loa-fleet-server',
      // day partitions and ISO instants are UTC
      options: '-c TimeZone=UTC',
    });
    // an idle client that loses its connection must not crash the process (the pool replaces it)
    this.pool.on('error', () => {});
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs `fn` in one transaction (READ COMMITTED), committed when it resolves. */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      this.stats.writes++;
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
}

/**
 * Maps a constraint violation to a LoaError: unique → `<entity>_EXISTS`; a foreign key on
 * insert/update → `<referenced>_NOT_FOUND` (constraint names end in `__<referenced entity>`), on
 * delete → `<entity>_CONFLICT`. Anything else is rethrown as it is.
 */
export function mapPgError(e: unknown, entity: string, op: 'write' | 'delete' = 'write'): never {
  const pe = e as PgError;
  if (pe?.code === '23505')
    throw new LoaError(
      `${entity}_EXISTS`,
      'bản ghi đã tồn tại (trùng mã hoặc trùng một giá trị phải là duy nhất)',
      { cause: e },
    );
  if (pe?.code === '23503') {
    if (op === 'delete')
      throw new LoaError(
        `${entity}_CONFLICT`,
        'bản ghi vẫn đang được dùng ở nơi khác (đơn vị con, thiết bị…)',
        { cause: e },
      );
    const ref = pe.constraint?.split('__')[1]?.toUpperCase() ?? 'REFERENCE';
    throw new LoaError(`${ref}_NOT_FOUND`, 'không tìm thấy bản ghi được tham chiếu (ví dụ đơn vị)', {
      cause: e,
    });
  }
  throw e;
}

/** JSON for a jsonb parameter (undefined fields dropped, as in a stored record). */
export const json = (v: unknown): string => JSON.stringify(v);

/** Escapes LIKE wildcards in a prefix. */
export const likePrefix = (s: string): string => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
