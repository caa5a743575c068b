/**
 * Report rollups in PostgreSQL: one row per part of a rollup in `report_rollups` (migration 8), a
 * rollup replaced whole in one transaction. The parts' JSON is stored as text, as written (its key
 * order is kept); a row that no longer parses is reported damaged.
 */
import type { RollupRead, RollupStore } from '../ports.js';
import type { Db } from './db.js';

export class PgRollups implements RollupStore {
  constructor(private readonly db: Db) {}

  async read(kind: string, key: string, parts?: readonly string[]): Promise<RollupRead> {
    const r =
      parts === undefined
        ? await this.db.query<{ part: string; data: string }>(
            'SELECT part, data FROM report_rollups WHERE kind = $1 AND key = $2 ORDER BY part',
            [kind, key],
          )
        : await this.db.query<{ part: string; data: string }>(
            `SELECT part, data FROM report_rollups WHERE kind = $1 AND key = $2
               AND (part = ANY($3::text[]) OR part = '') ORDER BY part`,
            [kind, key, [...parts]],
          );
    const out: RollupRead = { found: false, parts: {}, damaged: [] };
    for (const row of r.rows) {
      out.found = true;
      if (row.part === '') continue; // the marker row: the rollup exists (it may have no parts)
      try {
        out.parts[row.part] = JSON.parse(row.data);
      } catch {
        out.damaged.push(row.part);
      }
    }
    return out;
  }

  async write(kind: string, key: string, parts: Readonly<Record<string, unknown>>): Promise<void> {
    const names = ['', ...Object.keys(parts)];
    const data = ['{}', ...Object.values(parts).map((v) => JSON.stringify(v))];
    await this.db.tx(async (c) => {
      await c.query('DELETE FROM report_rollups WHERE kind = $1 AND key = $2', [kind, key]);
      await c.query(
        `INSERT INTO report_rollups (kind, key, part, data)
           SELECT $1, $2, p, d FROM unnest($3::text[], $4::text[]) AS t(p, d)`,
        [kind, key, names, data],
      );
    });
  }

  async keys(kind: string): Promise<string[]> {
    const r = await this.db.query<{ key: string }>(
      "SELECT key FROM report_rollups WHERE kind = $1 AND part = '' ORDER BY key",
      [kind],
    );
    return r.rows.map((x) => x.key);
  }

  async clear(kind: string): Promise<void> {
    await this.db.query('DELETE FROM report_rollups WHERE kind = $1', [kind]);
  }
}
