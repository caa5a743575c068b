/**
 * Global setup of the PostgreSQL test project (vitest.config.ts): one throwaway cluster
 * (scripts/src/postgres/temp-cluster.ts: Debian's postgresql, initdb into a temporary
 * directory, 127.0.0.1 at a free port, as the `postgres` user when we are root) shared by every
 * test file of the project; each test takes a database of its own (tests/helpers/postgres.ts).
 * The schema is migrated once into a template database that each test database is copied from.
 * Stopped and removed after the run.
 */
import type { TestProject } from 'vitest/node';
import { Db } from '../../fleet-server/src/store/postgres/db.js';
import { migrate } from '../../fleet-server/src/store/postgres/migrations.js';
import { startTempPostgres } from '../../scripts/src/postgres/temp-cluster.js';

/** A migrated database that every test database is copied from (CREATE DATABASE … TEMPLATE). */
export const TEMPLATE_DB = 'loa_template';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startTempPostgres({ noFsync: true });
  const admin = new Db({ url: pg.url, max: 1 });
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const template = new Db({ url: pg.urlFor(TEMPLATE_DB), max: 1 });
  await migrate(template);
  await template.end();
  project.provide('postgresUrl', pg.url);
  return () => pg.stop();
}
