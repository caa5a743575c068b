/**
 * Schema migrations: applied once when several servers start together on an empty database
 * (advisory lock), skipped when present, and a database migrated by a newer version is refused
 * before anything is written.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPgStore } from '../../../../fleet-server/src/store/pg-store.js';
import { MIGRATIONS } from '../../../../fleet-server/src/store/postgres/migrations.js';
import { freshDatabase, type TestDatabase } from '../../../helpers/postgres.js';

describe('PostgreSQL migrations', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await freshDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  const store = () => createPgStore({ url: db.url, now: Date.now, retentionDays: 30, poolSize: 2 });
  const rows = async (sql: string) => {
    const c = new pg.Client(db.url);
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };

  it('three servers starting together apply each migration once', async () => {
    const stores = [store(), store(), store()];
    await Promise.all(stores.map((s) => s.start()));
    const applied = await rows('SELECT version FROM schema_migrations ORDER BY version');
    expect(applied.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    // and they all work on the same tables
    await stores[0]?.units.putMany([
      {
        path: '08',
        code: '08',
        name: 'Tuyên Quang',
        level: 'province',
        parent: null,
        createdAt: 'x',
        updatedAt: 'x',
      },
    ]);
    expect((await stores[2]?.units.get('08'))?.name).toBe('Tuyên Quang');
    for (const s of stores) await s.stop();
    const again = store();
    await again.start();
    expect((await rows('SELECT count(*)::int AS n FROM schema_migrations'))[0]?.n).toBe(MIGRATIONS.length);
    await again.stop();
  });

  it('refuses a database migrated by a newer version, writing nothing', async () => {
    const s = store();
    await s.start();
    await s.stop();
    await rows("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from the future')");
    const before = await rows('SELECT count(*)::int AS n FROM stream_retention');
    const newer = store();
    await expect(newer.start()).rejects.toMatchObject({ code: 'STORE_SCHEMA_NEWER' });
    await newer.stop();
    expect(await rows('SELECT count(*)::int AS n FROM stream_retention')).toEqual(before);
  });
});
