/**
 * Moving between stores and backing up PostgreSQL: an embedded data directory with a week of
 * history is copied into PostgreSQL and back (`loa-fleet-server copy-store`), verified by counts
 * and hashes on both sides; a pg_dump of the PostgreSQL store restored into an empty database
 * holds the same digest and serves again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyStoreCommand } from '../../../../fleet-server/src/copy-store.js';
import { createFileStore } from '../../../../fleet-server/src/store/file-store.js';
import { createPgStore } from '../../../../fleet-server/src/store/pg-store.js';
import type { Store } from '../../../../fleet-server/src/store/ports.js';
import { storeDigest } from '../../../../fleet-server/src/store/transfer.js';
import { postgresBinDir } from '../../../../scripts/src/postgres/temp-cluster.js';
import { freshDatabase, type TestDatabase } from '../../../helpers/postgres.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-07T09:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A province's worth of records in miniature, with 7 days of history written day by day. */
async function fill(dir: string): Promise<void> {
  const clock = { now: NOW - 7 * DAY };
  const s = createFileStore({
    dataDir: dir,
    now: () => clock.now,
    retentionDays: 30,
    registryFlushMs: 5,
    healthFsyncMs: 5,
  });
  await s.start();
  const at = iso(clock.now);
  await s.units.putMany([
    {
      path: '08',
      code: '08',
      name: 'Tuyên Quang',
      level: 'province',
      parent: null,
      createdAt: at,
      updatedAt: at,
    },
    {
      path: '08/02500',
      code: '02500',
      name: 'Xã Minh Xuân',
      level: 'commune',
      parent: '08',
      createdAt: at,
      updatedAt: at,
    },
  ]);
  await s.users.insert({
    id: 'u1',
    username: 'lan',
    displayName: 'Nguyễn Thị Lan',
    role: 'operator',
    scope: ['08'],
    passwordHash: 'scrypt$1',
    mustChangePassword: false,
    disabled: false,
    createdAt: at,
    updatedAt: at,
  });
  await s.sessions.insert({ id: 'sess', userId: 'u1', csrf: 'c', createdAt: at, expiresAt: iso(NOW + DAY) });
  for (let i = 0; i < 20; i++)
    await s.devices.insert({
      id: `d${i}`,
      unit: '08/02500',
      kind: i % 4 ? 'station' : 'noticeboard',
      name: `Cụm loa số ${i}`,
      status: 'active',
      publicKey: `pk${i}`,
      keyId: `k${i}`,
      mqttPasswordHash: 'scrypt$2',
      groups: [],
      hardware: { serial: `S${i}` },
      enrolledAt: at,
      updatedAt: at,
    });
  await s.trust.put({ version: 1, policy: { version: 1 } as never, uploadedAt: at, uploadedBy: 'u1' });
  await s.webhooks.insert({
    id: 'wh-1',
    url: 'http://127.0.0.1:9/h',
    events: ['alert.opened'],
    secret: 'x',
    createdAt: at,
    createdBy: 'u1',
  });
  let seq = 0;
  for (let d = 0; d < 7; d++) {
    for (let m = 0; m < 6; m++) {
      clock.now = NOW - (7 - d) * DAY + m * 3600_000;
      seq++;
      for (let i = 0; i < 20; i++) {
        await s.health.append({ deviceId: `d${i}`, receivedAt: iso(clock.now), health: { n: seq } as never });
        await s.proofs.append({
          deviceId: `d${i}`,
          receivedAt: iso(clock.now),
          hash: `h${i}-${seq}`,
          proof: { seq, eventId: `e${i}-${seq}`, bundleId: `b${d}` } as never,
        });
      }
      await s.audit.append({ actor: { type: 'user', id: 'u1' }, action: 'device.update', unit: '08/02500' });
    }
  }
  await s.stop();
}

describe('moving between stores', () => {
  let dir: string;
  let back: string;
  let db: TestDatabase;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-copy-'));
    back = mkdtempSync(join(tmpdir(), 'loa-copy-back-'));
    db = await freshDatabase({ migrated: false });
    await fill(dir);
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(back, { recursive: true, force: true });
    await db.drop();
  });

  const digestOf = async (s: Store) => {
    await s.start();
    try {
      return await storeDigest(s, { days: 31, now: NOW });
    } finally {
      await s.stop();
    }
  };
  const lowdb = (d: string) =>
    createFileStore({ dataDir: d, now: () => NOW, retentionDays: 30, registryFlushMs: 5, healthFsyncMs: 5 });
  const postgres = (url: string) => createPgStore({ url, now: () => NOW, retentionDays: 30 });

  it('copies an embedded data directory into PostgreSQL and back, verified by counts and hashes', async () => {
    const lines: string[] = [];
    const common = { retentionDays: 30, now: () => NOW, out: (l: string) => lines.push(l) };
    const original = await digestOf(lowdb(dir));
    expect(original.devices?.count).toBe(20);
    expect(original.proofs?.count).toBe(7 * 6 * 20);
    expect(original.audit?.count).toBe(42);

    await copyStoreCommand({ ...common, from: `lowdb:${dir}`, to: `postgres:${db.url}` });
    expect(lines.at(-1)).toContain('verified');
    expect(await digestOf(postgres(db.url))).toEqual(original);

    // a second copy into the now full database is refused, and changes nothing
    await expect(
      copyStoreCommand({ ...common, from: `lowdb:${dir}`, to: `postgres:${db.url}` }),
    ).rejects.toMatchObject({
      code: 'STORE_TARGET_NOT_EMPTY',
    });

    await copyStoreCommand({ ...common, from: `postgres:${db.url}`, to: `lowdb:${back}` });
    expect(await digestOf(lowdb(back))).toEqual(original);
    // each day of history in its own segment (day-bounded queries and retention work on it)
    const written = readdirSync(join(back, 'proofs')).filter(
      (f) => f.endsWith('.ndjson') && statSync(join(back, 'proofs', f)).size > 0,
    );
    expect(written.sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((d) => `${iso(NOW - (7 - d) * DAY).slice(0, 10)}.ndjson`),
    );
    // the copy continues where the original stopped
    const again = lowdb(back);
    await again.start();
    expect(again.proofs.last('d3')?.seq).toBe(42);
    expect((await again.audit.append({ actor: { type: 'system', id: 's' }, action: 'x' })).seq).toBe(43);
    await again.stop();
  }, 120_000); // three stores opened and copied: well past 30 s on a loaded 2-core machine

  it('restores a pg_dump into an empty database with the same digest', async () => {
    await copyStoreCommand({
      from: `lowdb:${dir}`,
      to: `postgres:${db.url}`,
      retentionDays: 30,
      now: () => NOW,
      out: () => {},
    });
    const before = await digestOf(postgres(db.url));
    const bin = postgresBinDir();
    const dump = join(back, 'loa.dump');
    execFileSync(join(bin, 'pg_dump'), ['--format=custom', '--file', dump, '--dbname', db.url]);
    const empty = await freshDatabase({ migrated: false });
    try {
      execFileSync(join(bin, 'pg_restore'), ['--exit-on-error', '--no-owner', '--dbname', empty.url, dump]);
      const restored = postgres(empty.url);
      expect(await digestOf(restored)).toEqual(before);
      // and it serves: new partitions, sequences and constraints came back with it
      const s = postgres(empty.url);
      await s.start();
      const next = await s.audit.append({ actor: { type: 'system', id: 's' }, action: 'restore.check' });
      expect(next.seq).toBe(43);
      await expect(s.devices.insert({ ...(await s.devices.get('d1'))!, id: 'dup' })).rejects.toMatchObject({
        code: 'DEVICE_EXISTS',
      });
      await s.stop();
    } finally {
      await empty.drop();
    }
  }, 120_000); // three stores opened and copied: well past 30 s on a loaded 2-core machine
});
