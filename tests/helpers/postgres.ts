/**
 * A fresh database on the cluster the PostgreSQL test project started (tests/setup/postgres.ts),
 * dropped again by the returned `drop()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(inject('postgresUrl'));
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new database; `migrated` copies the template the global setup migrated (the default). */
export async function freshDatabase(o: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `loa_${randomBytes(6).toString('hex')}`;
  const template = o.migrated === false ? '' : ' TEMPLATE loa_template';
  await admin((c) => c.query(`CREATE DATABASE ${name}${template}`));
  const base = new URL(inject('postgresUrl'));
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
