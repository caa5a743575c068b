/**
 * The registry in PostgreSQL: the collections of the ports on the generic jsonb table
 * (collection.ts), with the specific methods narrowing in SQL (subtree by path prefix, devices by
 * unit and key id, users by lower-cased name, tokens by hash) and the enrolment token consumed
 * with a row lock so that concurrent enrolments never exceed its uses.
 */
import { LoaError } from '@loa/protocol';
import type {
  ApiTokenRecord,
  BundleRecord,
  DeviceRecord,
  EnrolmentTokenRecord,
  RolloutRecord,
  SessionRecord,
  TrustPolicyRecord,
  UnitRecord,
  UserRecord,
} from '../../domain/model.js';
import { deepFreeze } from '../lowdb/collections.js';
import type {
  ApiTokenRepository,
  BundleRepository,
  DeviceRepository,
  EnrolmentTokenRepository,
  RolloutRepository,
  SessionRepository,
  TrustRepository,
  UnitRepository,
  UserRepository,
} from '../ports.js';
import { PgCollection } from './collection.js';
import { type Db, json, likePrefix, mapPgError } from './db.js';

/** `col` is one of the paths or inside one of their subtrees. */
function inSubtrees(col: string, paths: readonly string[], first = 1): { sql: string; values: string[] } {
  if (paths.length === 0) return { sql: 'false', values: [] };
  const values: string[] = [];
  const ors = paths.map((p) => {
    values.push(p, likePrefix(`${p}/`));
    return `(${col} = $${first + values.length - 2} OR ${col} LIKE $${first + values.length - 1} ESCAPE '\\')`;
  });
  return { sql: `(${ors.join(' OR ')})`, values };
}

export class PgUnits extends PgCollection<UnitRecord> implements UnitRepository {
  constructor(db: Db) {
    super(db, { table: 'units', entity: 'UNIT', idOf: (r) => r.path });
  }
  async subtree(path: string): Promise<UnitRecord[]> {
    const s = inSubtrees('id', [path]);
    return this.where(s.sql, s.values);
  }
  async children(path: string | null): Promise<UnitRecord[]> {
    return path === null ? this.where('parent IS NULL') : this.where('parent = $1', [path]);
  }
  async putMany(records: UnitRecord[]): Promise<void> {
    // one transaction, parent references checked at commit: any order, all or nothing
    try {
      await this.db.tx(async (c) => {
        for (const r of records) await this.putOn(c, JSON.parse(JSON.stringify(r)) as UnitRecord);
      });
    } catch (e) {
      mapPgError(e, 'UNIT');
    }
  }
}

export class PgDevices extends PgCollection<DeviceRecord> implements DeviceRepository {
  constructor(db: Db) {
    super(db, { table: 'devices', entity: 'DEVICE', idOf: (r) => r.id });
  }
  async inUnits(paths: readonly string[]): Promise<DeviceRecord[]> {
    const s = inSubtrees('unit', paths);
    return this.where(s.sql, s.values);
  }
  async byKeyId(keyId: string): Promise<DeviceRecord | undefined> {
    return this.one('key_id = $1', [keyId]);
  }
}

export class PgUsers extends PgCollection<UserRecord> implements UserRepository {
  constructor(db: Db) {
    super(db, { table: 'users', entity: 'USER', idOf: (r) => r.id });
  }
  async byUsername(username: string): Promise<UserRecord | undefined> {
    return this.one('username = lower($1)', [username]);
  }
}

export class PgSessions extends PgCollection<SessionRecord> implements SessionRepository {
  constructor(db: Db) {
    super(db, { table: 'sessions', entity: 'SESSION', idOf: (r) => r.id });
  }
  async deleteExpired(now: string): Promise<number> {
    const r = await this.db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
    return r.rowCount ?? 0;
  }
  async deleteForUser(userId: string): Promise<number> {
    const r = await this.db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    return r.rowCount ?? 0;
  }
}

export class PgApiTokens extends PgCollection<ApiTokenRecord> implements ApiTokenRepository {
  constructor(db: Db) {
    super(db, { table: 'api_tokens', entity: 'TOKEN', idOf: (r) => r.id });
  }
  async byHash(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.one('hash = $1', [hash]);
  }
}

export class PgEnrolmentTokens
  extends PgCollection<EnrolmentTokenRecord>
  implements EnrolmentTokenRepository
{
  constructor(db: Db) {
    super(db, { table: 'enrolment_tokens', entity: 'ENROL_TOKEN', idOf: (r) => r.id });
  }
  async byHash(hash: string): Promise<EnrolmentTokenRecord | undefined> {
    return this.one('hash = $1', [hash]);
  }
  async consume(hash: string, now: string): Promise<EnrolmentTokenRecord> {
    // one statement: the row lock re-checks the condition for a concurrent consumer (also in
    // another process), so uses never pass maxUses
    const r = await this.db.query<{ data: EnrolmentTokenRecord }>(
      `UPDATE enrolment_tokens
          SET data = jsonb_set(data, '{uses}', to_jsonb((data->>'uses')::int + 1))
        WHERE hash = $1
          AND data->>'revokedAt' IS NULL
          AND data->>'expiresAt' > $2
          AND (data->>'uses')::int < (data->>'maxUses')::int
        RETURNING data`,
      [hash, now],
    );
    const done = r.rows[0]?.data;
    if (done) {
      this.db.stats.writes++;
      return deepFreeze(done);
    }
    // refused: say why, from the row as it is
    const t = await this.byHash(hash);
    if (!t) throw new LoaError('ENROL_TOKEN_INVALID', 'mã đăng ký thiết bị không đúng');
    if (t.revokedAt) throw new LoaError('ENROL_TOKEN_REVOKED', 'mã đăng ký thiết bị đã bị thu hồi');
    if (t.expiresAt <= now) throw new LoaError('ENROL_TOKEN_EXPIRED', 'mã đăng ký thiết bị đã hết hạn');
    throw new LoaError('ENROL_TOKEN_USED', 'mã đăng ký thiết bị đã được dùng hết');
  }
}

export class PgBundles extends PgCollection<BundleRecord> implements BundleRepository {
  constructor(db: Db) {
    super(db, { table: 'bundles', entity: 'BUNDLE', idOf: (r) => r.id });
  }
  async latestVersion(channel: string): Promise<number> {
    const r = await this.db.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM bundles WHERE channel = $1',
      [channel],
    );
    return r.rows[0]?.v ?? 0;
  }
}

const rolloutKey = (bundleId: string, deviceId: string) => `${bundleId}|${deviceId}`;

export class PgRollouts implements RolloutRepository {
  private readonly rows: PgCollection<RolloutRecord>;
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
    this.rows = new PgCollection(db, {
      table: 'rollouts',
      entity: 'ROLLOUT',
      idOf: (r) => rolloutKey(r.bundleId, r.deviceId),
    });
  }
  private async where(cond: string, values: unknown[]): Promise<RolloutRecord[]> {
    const r = await this.db.query<{ data: RolloutRecord }>(
      `SELECT data FROM rollouts WHERE ${cond} ORDER BY pos`,
      values,
    );
    return r.rows.map((x) => deepFreeze(x.data));
  }
  get(bundleId: string, deviceId: string): Promise<RolloutRecord | undefined> {
    return this.rows.get(rolloutKey(bundleId, deviceId));
  }
  forBundle(bundleId: string): Promise<RolloutRecord[]> {
    return this.where('bundle_id = $1', [bundleId]);
  }
  forDevice(deviceId: string): Promise<RolloutRecord[]> {
    return this.where('device_id = $1', [deviceId]);
  }
  put(record: RolloutRecord): Promise<RolloutRecord> {
    return this.rows.put(record);
  }
  async putMany(records: RolloutRecord[]): Promise<void> {
    if (records.length === 0) return;
    const recs = records.map((r) => JSON.parse(JSON.stringify(r)) as RolloutRecord);
    // a bundle's rows in one statement (10,000 devices: one round trip); the last of a key wins
    const byKey = new Map(recs.map((r) => [rolloutKey(r.bundleId, r.deviceId), r]));
    await this.db.query(
      `INSERT INTO rollouts (id, data) SELECT * FROM unnest($1::text[], $2::jsonb[])
         ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
      [[...byKey.keys()], [...byKey.values()].map(json)],
    );
    this.db.stats.writes++;
  }
  async deleteForBundle(bundleId: string): Promise<number> {
    const r = await this.db.query('DELETE FROM rollouts WHERE bundle_id = $1', [bundleId]);
    return r.rowCount ?? 0;
  }
}

export class PgTrust implements TrustRepository {
  constructor(private readonly db: Db) {}
  async current(): Promise<TrustPolicyRecord | undefined> {
    const r = await this.db.query<{ data: TrustPolicyRecord }>(
      'SELECT data FROM trust_policies ORDER BY version DESC LIMIT 1',
    );
    const d = r.rows[0]?.data;
    return d ? deepFreeze(d) : undefined;
  }
  async history(): Promise<TrustPolicyRecord[]> {
    const r = await this.db.query<{ data: TrustPolicyRecord }>(
      'SELECT data FROM trust_policies ORDER BY version',
    );
    return r.rows.map((x) => deepFreeze(x.data));
  }
  async put(record: TrustPolicyRecord): Promise<void> {
    try {
      await this.db.tx(async (c) => {
        // one writer at a time: the check and the insert see the same current version
        await c.query('LOCK TABLE trust_policies IN EXCLUSIVE MODE');
        const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM trust_policies');
        const cur = r.rows[0]?.v ?? null;
        if (cur !== null && record.version <= cur)
          throw new LoaError(
            'TRUST_ROLLBACK',
            `chính sách tin cậy phiên bản ${record.version} không mới hơn ${cur}`,
          );
        await c.query('INSERT INTO trust_policies (version, data) VALUES ($1, $2)', [
          record.version,
          json(record),
        ]);
      });
    } catch (e) {
      if (e instanceof LoaError) throw e;
      mapPgError(e, 'TRUST');
    }
  }
}
