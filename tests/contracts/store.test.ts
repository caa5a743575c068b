/**
 * One contract suite for every store (as aedes runs one persistence suite against every
 * persistence): the embedded store (lowdb + NDJSON segments) and the PostgreSQL store run the same
 * tests through the ports of fleet-server/src/store/ports.ts. PostgreSQL comes from the cluster
 * the test project starts (tests/setup/postgres.ts); each test gets a database of its own.
 * What only an engine with constraints can refuse is at the end, for PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  BundleRecord,
  DeviceRecord,
  EnrolmentTokenRecord,
  HealthEntry,
  LexiconEntryRecord,
  ProofEntry,
  RolloutRecord,
  TrustPolicyRecord,
  UnitRecord,
  UserRecord,
} from '../../fleet-server/src/domain/model.js';
import { createFileStore } from '../../fleet-server/src/store/file-store.js';
import { createPgStore } from '../../fleet-server/src/store/pg-store.js';
import type { Store } from '../../fleet-server/src/store/ports.js';
import { freshDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

interface Harness {
  clock: { now: number };
  /** Opens (or reopens) the store on the same data. */
  open(o?: OpenOptions): Promise<Store>;
  cleanup(): Promise<void>;
}

type Kind = 'lowdb' | 'postgres';
type OpenOptions = { retentionTrustClock?: boolean; onDoubt?: () => void; retentionDays?: number };

async function harness(kind: Kind): Promise<Harness> {
  const clock = { now: T0 };
  const opened: Store[] = [];
  const common = (o: OpenOptions) => ({
    now: () => clock.now,
    retentionDays: o.retentionDays ?? 30,
    ...(o.retentionTrustClock ? { retentionTrustClock: true } : {}),
    ...(o.onDoubt ? { onRetentionDoubt: o.onDoubt } : {}),
  });
  if (kind === 'lowdb') {
    const dir = mkdtempSync(join(tmpdir(), 'loa-contract-'));
    return {
      clock,
      async open(o = {}) {
        const s = createFileStore({ dataDir: dir, registryFlushMs: 5, healthFsyncMs: 5, ...common(o) });
        await s.start();
        opened.push(s);
        return s;
      },
      async cleanup() {
        for (const s of opened) await s.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db: TestDatabase = await freshDatabase();
  return {
    clock,
    async open(o = {}) {
      const s = createPgStore({ url: db.url, poolSize: 4, ...common(o) });
      await s.start();
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.stop();
      await db.drop();
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

const unit = (path: string, name = path): UnitRecord => {
  const segs = path.split('/');
  return {
    path,
    code: segs.at(-1) ?? path,
    name,
    level: segs.length === 1 ? 'province' : 'commune',
    parent: segs.length === 1 ? null : segs.slice(0, -1).join('/'),
    createdAt: iso(T0),
    updatedAt: iso(T0),
  };
};

const device = (id: string, unitPath = '08/02500'): DeviceRecord => ({
  id,
  unit: unitPath,
  kind: 'station',
  name: `Trạm ${id}`,
  status: 'active',
  publicKey: `pk-${id}`,
  keyId: `k-${id}`,
  mqttPasswordHash: 'scrypt$x',
  groups: [],
  hardware: { model: 'pi4' },
  enrolledAt: iso(T0),
  updatedAt: iso(T0),
});

const user = (id: string, username: string): UserRecord => ({
  id,
  username,
  displayName: username,
  role: 'operator',
  scope: ['08'],
  passwordHash: 'scrypt$y',
  mustChangePassword: false,
  disabled: false,
  createdAt: iso(T0),
  updatedAt: iso(T0),
});

const enrolToken = (id: string, maxUses: number): EnrolmentTokenRecord => ({
  id,
  hash: `hash-${id}`,
  unit: '08/02500',
  kind: 'station',
  groups: [],
  maxUses,
  uses: 0,
  expiresAt: iso(T0 + DAY),
  requireApproval: false,
  createdBy: 'u1',
  createdAt: iso(T0),
});

// stream payloads are opaque to the store: only the indexed fields matter here
const health = (deviceId: string, at: number, n: number): HealthEntry => ({
  deviceId,
  receivedAt: iso(at),
  health: { n } as never,
});

const proof = (deviceId: string, at: number, seq: number, bundleId = 'b1'): ProofEntry => ({
  deviceId,
  receivedAt: iso(at),
  hash: `h-${deviceId}-${seq}`,
  proof: { seq, eventId: `e-${deviceId}-${seq}`, bundleId, deviceId } as never,
});

const lexEntry = (id: string, from: string, to: string, unitPath = '08'): LexiconEntryRecord => ({
  id,
  unit: unitPath,
  lang: 'vi',
  from,
  to,
  key: `${unitPath}|vi|${from}`,
  createdBy: 'u1',
  createdAt: iso(T0),
});

async function withUnits(s: Store): Promise<void> {
  await s.units.putMany([unit('08/02500'), unit('08'), unit('08/02503'), unit('09')]);
}

describe.each<Kind>(['lowdb', 'postgres'])('store contract: %s', (kind) => {
  let h: Harness;
  let s: Store;
  beforeEach(async () => {
    h = await harness(kind);
    s = await h.open();
    await withUnits(s);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('inserts, reads, updates, replaces and deletes, with stable error codes and frozen records', async () => {
    await s.devices.insert(device('a'));
    await expect(s.devices.insert(device('a'))).rejects.toMatchObject({ code: 'DEVICE_EXISTS' });
    await expect(s.devices.update('zz', { name: 'x' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    const got = await s.devices.get('a');
    expect(got).toEqual(device('a'));
    expect(Object.isFrozen(got)).toBe(true);
    const up = await s.devices.update('a', { name: 'Trạm chợ', location: { lat: 21, lon: 105.8 } });
    expect(up.name).toBe('Trạm chợ');
    // a patch with an undefined field removes it
    const cleared = await s.devices.update('a', { location: undefined });
    expect(cleared).not.toHaveProperty('location');
    await expect(s.devices.update('a', { id: 'b' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await s.devices.put({ ...device('a'), name: 'replaced' });
    expect((await s.devices.get('a'))?.name).toBe('replaced');
    await s.devices.insert(device('b', '08/02503'));
    await s.devices.insert(device('c', '09'));
    expect((await s.devices.list()).map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(await s.devices.count()).toBe(3);
    expect(await s.devices.count((d) => d.unit.startsWith('08'))).toBe(2);
    expect((await s.devices.list((d) => d.unit === '09')).map((d) => d.id)).toEqual(['c']);
    expect(await s.devices.delete('c')).toBe(true);
    expect(await s.devices.delete('c')).toBe(false);
    expect(await s.devices.get('c')).toBeUndefined();
  });

  it('narrows by unit subtree, key id, user name, token hash, bundle channel and rollout', async () => {
    expect((await s.units.subtree('08')).map((u) => u.path).sort()).toEqual(['08', '08/02500', '08/02503']);
    expect((await s.units.children(null)).map((u) => u.path).sort()).toEqual(['08', '09']);
    expect((await s.units.children('08')).map((u) => u.path).sort()).toEqual(['08/02500', '08/02503']);
    await s.devices.insert(device('a'));
    await s.devices.insert(device('b', '08/02503'));
    await s.devices.insert(device('c', '09'));
    expect((await s.devices.inUnits(['08/02503', '09'])).map((d) => d.id).sort()).toEqual(['b', 'c']);
    expect((await s.devices.inUnits(['08'])).map((d) => d.id).sort()).toEqual(['a', 'b']);
    // a code that is a prefix of another code is not its parent
    expect(await s.devices.inUnits(['0'])).toEqual([]);
    expect((await s.devices.byKeyId('k-b'))?.id).toBe('b');
    expect(await s.devices.byKeyId('k-zz')).toBeUndefined();

    await s.users.insert(user('u1', 'lan.nguyen'));
    expect((await s.users.byUsername('Lan.Nguyen'))?.id).toBe('u1');
    await s.sessions.insert({
      id: 's1',
      userId: 'u1',
      csrf: 'c',
      createdAt: iso(T0),
      expiresAt: iso(T0 + 1000),
    });
    await s.sessions.insert({
      id: 's2',
      userId: 'u1',
      csrf: 'c',
      createdAt: iso(T0),
      expiresAt: iso(T0 + DAY),
    });
    expect(await s.sessions.deleteExpired(iso(T0 + 5000))).toBe(1);
    expect(await s.sessions.deleteForUser('u1')).toBe(1);
    expect(await s.sessions.count()).toBe(0);

    await s.apiTokens.insert({
      id: 't1',
      userId: 'u1',
      name: 'flows',
      hash: 'th1',
      prefix: 'loa_',
      createdAt: iso(T0),
    });
    expect((await s.apiTokens.byHash('th1'))?.id).toBe('t1');
    await s.enrolmentTokens.insert(enrolToken('e1', 1));
    expect((await s.enrolmentTokens.byHash('hash-e1'))?.id).toBe('e1');

    const bundle = (id: string, channel: string, version: number): BundleRecord => ({
      id,
      channel,
      version,
      state: 'draft',
      manifest: {} as never,
      units: ['08'],
      createdBy: 'u1',
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    expect(await s.bundles.latestVersion('news')).toBe(0);
    await s.bundles.insert(bundle('b1', 'news', 3));
    await s.bundles.insert(bundle('b2', 'news', 7));
    await s.bundles.insert(bundle('b3', 'other', 9));
    expect(await s.bundles.latestVersion('news')).toBe(7);

    const ro = (bundleId: string, deviceId: string, state: RolloutRecord['state']): RolloutRecord => ({
      bundleId,
      deviceId,
      state,
      updatedAt: iso(T0),
    });
    await s.rollouts.putMany([
      ro('b1', 'a', 'notified'),
      ro('b1', 'b', 'notified'),
      ro('b2', 'a', 'notified'),
    ]);
    await s.rollouts.put(ro('b1', 'a', 'active'));
    expect((await s.rollouts.get('b1', 'a'))?.state).toBe('active');
    expect((await s.rollouts.forBundle('b1')).map((r) => r.deviceId).sort()).toEqual(['a', 'b']);
    expect((await s.rollouts.forDevice('a')).map((r) => r.bundleId).sort()).toEqual(['b1', 'b2']);
    expect(await s.rollouts.deleteForBundle('b1')).toBe(2);
    expect(await s.rollouts.forBundle('b1')).toEqual([]);
    expect((await s.rollouts.forDevice('a')).map((r) => r.bundleId)).toEqual(['b2']);
  });

  it('consumes an enrolment token atomically: concurrent enrolments never exceed its uses', async () => {
    await s.enrolmentTokens.insert(enrolToken('e1', 3));
    const now = iso(T0);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => s.enrolmentTokens.consume('hash-e1', now)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(3);
    expect(refused.map((r) => (r.reason as { code: string }).code)).toEqual(
      Array(17).fill('ENROL_TOKEN_USED'),
    );
    expect((await s.enrolmentTokens.get('e1'))?.uses).toBe(3);
    await expect(s.enrolmentTokens.consume('nope', now)).rejects.toMatchObject({
      code: 'ENROL_TOKEN_INVALID',
    });
    await s.enrolmentTokens.insert({ ...enrolToken('e2', 5), hash: 'hash-e2' });
    await expect(s.enrolmentTokens.consume('hash-e2', iso(T0 + 2 * DAY))).rejects.toMatchObject({
      code: 'ENROL_TOKEN_EXPIRED',
    });
    await s.enrolmentTokens.update('e2', { revokedAt: now });
    await expect(s.enrolmentTokens.consume('hash-e2', now)).rejects.toMatchObject({
      code: 'ENROL_TOKEN_REVOKED',
    });
    expect((await s.enrolmentTokens.get('e2'))?.uses).toBe(0);
  });

  it('refuses a trust policy that is not newer, keeping the history', async () => {
    const policy = (version: number): TrustPolicyRecord => ({
      version,
      policy: { version } as never,
      uploadedAt: iso(T0),
      uploadedBy: 'u1',
    });
    expect(await s.trust.current()).toBeUndefined();
    await s.trust.put(policy(1));
    await s.trust.put(policy(3));
    await expect(s.trust.put(policy(3))).rejects.toMatchObject({ code: 'TRUST_ROLLBACK' });
    await expect(s.trust.put(policy(2))).rejects.toMatchObject({ code: 'TRUST_ROLLBACK' });
    expect((await s.trust.current())?.version).toBe(3);
    expect((await s.trust.history()).map((p) => p.version)).toEqual([1, 3]);
  });

  it('appends audit entries with a sequence and answers filtered, paged queries newest first', async () => {
    const actor = (id: string) => ({ type: 'user' as const, id });
    const e1 = await s.audit.append({ actor: actor('u1'), action: 'device.revoke', unit: '08/02500' });
    await s.audit.append({ actor: actor('u2'), action: 'device.approve', unit: '08/02503' });
    await s.audit.append({ actor: actor('u1'), action: 'user.create' });
    await s.audit.append({ actor: actor('u1'), action: 'device.revoke', unit: '09', at: iso(T0 + 1000) });
    await s.audit.append({ actor: actor('u2'), action: 'devices.import', unit: '080' });
    expect(e1.seq).toBeGreaterThan(0);
    expect(e1.at).toBe(iso(T0));
    const all = await s.audit.query();
    expect(all.map((e) => e.action)).toEqual([
      'devices.import',
      'device.revoke',
      'user.create',
      'device.approve',
      'device.revoke',
    ]);
    const seqs = all.map((e) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect((await s.audit.query({ actorId: 'u1' })).map((e) => e.action)).toEqual([
      'device.revoke',
      'user.create',
      'device.revoke',
    ]);
    expect((await s.audit.query({ action: 'device.' })).map((e) => e.unit)).toEqual([
      '09',
      '08/02503',
      '08/02500',
    ]);
    expect((await s.audit.query({ units: ['08'] })).map((e) => e.unit)).toEqual(['08/02503', '08/02500']);
    expect(await s.audit.query({ units: [] })).toEqual([]);
    expect((await s.audit.query({ since: iso(T0 + 500) })).map((e) => e.unit)).toEqual(['09']);
    // paging: two at a time, each page before the last seen sequence number
    const page1 = await s.audit.query({ limit: 2 });
    const page2 = await s.audit.query({ limit: 2, beforeSeq: page1.at(-1)?.seq ?? 0 });
    const page3 = await s.audit.query({ limit: 2, beforeSeq: page2.at(-1)?.seq ?? 0 });
    expect([...page1, ...page2, ...page3].map((e) => e.seq)).toEqual(seqs);
  });

  it('answers stream queries within their bounds: device, bundle, from/to inclusive, newest N in order', async () => {
    for (let i = 0; i < 10; i++) {
      h.clock.now = T0 + i * 60_000;
      await s.health.append(health(i % 2 ? 'a' : 'b', h.clock.now, i));
    }
    await s.proofs.appendMany([
      proof('a', T0, 1),
      proof('a', T0 + 60_000, 2, 'b2'),
      proof('b', T0 + 60_000, 1),
    ]);
    await s.proofs.append(proof('a', T0 + 120_000, 3));
    await s.flush();
    const ns = (r: HealthEntry[]) => r.map((e) => (e.health as unknown as { n: number }).n);
    expect(ns(await s.health.query({}))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ns(await s.health.query({ deviceId: 'a' }))).toEqual([1, 3, 5, 7, 9]);
    expect(ns(await s.health.query({ from: iso(T0 + 2 * 60_000), to: iso(T0 + 5 * 60_000) }))).toEqual([
      2, 3, 4, 5,
    ]);
    expect(ns(await s.health.query({ deviceId: 'b', limit: 2 }))).toEqual([6, 8]);
    expect(ns(await s.health.query({ from: iso(T0 + DAY) }))).toEqual([]);
    const seqOf = (r: ProofEntry[]) => r.map((e) => `${e.deviceId}${e.proof.seq}`);
    expect(seqOf(await s.proofs.query({ deviceId: 'a' }))).toEqual(['a1', 'a2', 'a3']);
    expect(seqOf(await s.proofs.query({ bundleId: 'b1' }))).toEqual(['a1', 'b1', 'a3']);
    expect(seqOf(await s.proofs.query({ bundleId: 'b1', to: iso(T0 + 60_000) }))).toEqual(['a1', 'b1']);
    expect(seqOf(await s.proofs.query({ limit: 1 }))).toEqual(['a3']);
  });

  it('remembers health another node received as the latest, newer wins, without a history row', async () => {
    const n = (e: HealthEntry | undefined) => (e?.health as { n?: number } | undefined)?.n;
    await s.health.append(health('a', T0 + 1000, 1));
    expect(s.health.remember(health('a', T0 + 500, 2))).toBe(false);
    expect(n(s.health.latest('a'))).toBe(1);
    expect(s.health.remember(health('a', T0 + 2000, 3))).toBe(true);
    expect(s.health.remember(health('c', T0, 4))).toBe(true);
    expect(n(s.health.latest('a'))).toBe(3);
    expect(n(s.health.latestAll().get('c'))).toBe(4);
    // the history holds only what this store appended
    expect((await s.health.query({ deviceId: 'a' })).map(n)).toEqual([1]);
    expect(await s.health.query({ deviceId: 'c' })).toEqual([]);
  });

  it('pages proofs in stored order, each page resuming after the last (over day files), with filters', async () => {
    // three days of proofs, two devices: a's on the hour, b's on the half hour
    const all: ProofEntry[] = [];
    for (let d = 0; d < 3; d++) {
      h.clock.now = T0 + d * DAY;
      const batch = [0, 1, 2, 3].map((i) =>
        proof(i % 2 ? 'b' : 'a', T0 + d * DAY + i * 1800_000, d * 4 + i + 1, i === 3 ? 'b2' : 'b1'),
      );
      await s.proofs.appendMany(batch);
      all.push(...batch);
    }
    const key = (e: ProofEntry) => `${e.deviceId}${e.proof.seq}`;
    const walk = async (
      q: { from?: string; to?: string; deviceId?: string; bundleId?: string },
      limit: number,
    ) => {
      const out: string[] = [];
      let after: string | undefined;
      for (let n = 0; n < 50; n++) {
        const p = await s.proofs.page({ ...q, limit, ...(after ? { after } : {}) });
        expect(p.entries.length).toBeLessThanOrEqual(limit);
        out.push(...p.entries.map(key));
        if (p.next === null) return out;
        expect(p.entries.length).toBe(limit);
        after = p.next;
      }
      throw new Error('paging did not end');
    };
    expect(await walk({}, 5)).toEqual(all.map(key));
    expect(await walk({}, 12)).toEqual(all.map(key));
    expect(await walk({}, 100)).toEqual(all.map(key));
    expect(await walk({ deviceId: 'b' }, 2)).toEqual(all.filter((e) => e.deviceId === 'b').map(key));
    expect(await walk({ bundleId: 'b2' }, 1)).toEqual(['b4', 'b8', 'b12']);
    expect(await walk({ from: iso(T0 + DAY), to: iso(T0 + DAY + 3600_000) }, 1)).toEqual(['a5', 'b6', 'a7']);
    for (const bad of [
      'x',
      'not base64!',
      Buffer.from('{"f":"../../etc/passwd","o":0}').toString('base64url'),
    ])
      await expect(s.proofs.page({ after: bad })).rejects.toMatchObject({ code: 'STREAM_CURSOR_INVALID' });
  });

  it('rebuilds latest health and the last proof of each device on restart', async () => {
    await s.health.append(health('a', T0, 1));
    await s.health.append(health('a', T0 + 1000, 2));
    await s.health.append(health('b', T0 + 500, 3));
    await s.proofs.appendMany([proof('a', T0, 1), proof('a', T0, 2), proof('b', T0, 1)]);
    expect(s.proofs.last('a')).toEqual({ seq: 2, hash: 'h-a-2', eventId: 'e-a-2' });
    expect(s.health.latest('a')?.receivedAt).toBe(iso(T0 + 1000));
    await s.stop();
    const again = await h.open();
    expect(again.health.latest('a')).toEqual(health('a', T0 + 1000, 2));
    expect(again.health.latest('b')).toEqual(health('b', T0 + 500, 3));
    expect([...again.health.latestAll().keys()].sort()).toEqual(['a', 'b']);
    expect(again.proofs.last('a')).toEqual({ seq: 2, hash: 'h-a-2', eventId: 'e-a-2' });
    expect(again.proofs.last('b')).toEqual({ seq: 1, hash: 'h-b-1', eventId: 'e-b-1' });
    expect(again.proofs.last('zz')).toBeUndefined();
    // the registry survived too
    expect((await again.units.subtree('08')).length).toBe(3);
    const next = await again.audit.append({ actor: { type: 'system', id: 'x' }, action: 'a' });
    const prev = await again.audit.query({ limit: 2 });
    expect(prev[0]?.seq).toBe(next.seq);
  });

  it("keeps a station's named loudspeaker zones in order across updates and a restart", async () => {
    await s.devices.insert(device('a'));
    expect((await s.devices.get('a'))?.zones).toBeUndefined();
    const zones = [
      { id: 'thon-1', name: 'Thôn 1' },
      { id: 'cho', name: 'Chợ' },
    ];
    await s.devices.update('a', { zones, updatedAt: iso(T0 + 1000) });
    // another change leaves the zones as they were
    await s.devices.update('a', { name: 'Cụm loa chợ' });
    expect((await s.devices.get('a'))?.zones).toEqual(zones);
    await s.devices.update('a', { zones: [{ id: 'cho', name: 'Chợ Tân Trào' }] });
    await s.stop();
    const again = await h.open();
    const got = await again.devices.get('a');
    expect(got?.zones).toEqual([{ id: 'cho', name: 'Chợ Tân Trào' }]);
    expect(got?.name).toBe('Cụm loa chợ');
    // the zones do not disturb the unit and key-id queries
    expect((await again.devices.inUnits(['08'])).map((d) => d.id)).toEqual(['a']);
    expect((await again.devices.byKeyId('k-a'))?.zones).toHaveLength(1);
  });

  it('keeps webhook subscriptions across a restart', async () => {
    const hook = {
      id: 'wh-1',
      url: 'http://127.0.0.1:9/hook',
      events: ['alert.opened'],
      secret: 's3cret',
      createdAt: iso(T0),
      createdBy: 'u1',
      scope: ['08'],
    };
    await s.webhooks.insert(hook);
    await expect(s.webhooks.insert(hook)).rejects.toMatchObject({ code: 'WEBHOOK_EXISTS' });
    await s.webhooks.insert({ ...hook, id: 'wh-2', scope: ['09'] });
    expect(await s.webhooks.delete('wh-2')).toBe(true);
    await s.stop();
    const again = await h.open();
    expect(await again.webhooks.list()).toEqual([hook]);
  });

  it('keeps pronunciation entries across a restart, edits in place and refuses a taken id', async () => {
    const ubnd = lexEntry('lx-1', 'UBND', 'Ủy ban nhân dân');
    const place = lexEntry('lx-2', 'Tân Trào', 'Tân Trào', '08/02500');
    await s.lexicon.insert(ubnd);
    await s.lexicon.insert(place);
    await expect(s.lexicon.insert({ ...ubnd, key: '08|vi|other' })).rejects.toMatchObject({
      code: 'LEXICON_EXISTS',
    });
    const edited = await s.lexicon.update('lx-1', {
      to: 'Ủy ban nhân dân tỉnh',
      updatedBy: 'u2',
      updatedAt: iso(T0 + 1000),
    });
    expect(edited.to).toBe('Ủy ban nhân dân tỉnh');
    await expect(s.lexicon.update('lx-9', { to: 'x' })).rejects.toMatchObject({ code: 'LEXICON_NOT_FOUND' });
    await s.lexicon.insert(lexEntry('lx-3', 'HĐND', 'Hội đồng nhân dân'));
    expect(await s.lexicon.delete('lx-3')).toBe(true);
    await s.stop();
    const again = await h.open();
    expect(await again.lexicon.list()).toEqual([edited, place]);
    expect((await again.lexicon.list((e) => e.unit === '08/02500')).map((e) => e.from)).toEqual(['Tân Trào']);
  });

  it('keeps the staff and training register and the document library across a restart, by unit', async () => {
    const stamps = { createdAt: iso(T0), updatedAt: iso(T0) };
    const an = {
      id: 'CB-01',
      unit: '08/02500',
      name: 'Nguyễn Văn An',
      position: 'Phụ trách đài',
      phone: '0912 345 678',
      ...stamps,
    };
    await s.staff.insert(an);
    await s.staff.insert({ ...an, id: 'CB-02', unit: '08/02503', name: 'Lê Thị Ba' });
    await expect(s.staff.insert(an)).rejects.toMatchObject({ code: 'STAFF_EXISTS' });
    const course = {
      id: 'TQ-1',
      unit: '08',
      title: 'Bồi dưỡng vận hành đài IP',
      date: '2026-10-05',
      organiser: 'Sở VHTTDL',
      hours: 24,
      topics: ['Vận hành'],
      ...stamps,
    };
    await s.trainingCourses.insert(course);
    await expect(s.trainingCourses.insert(course)).rejects.toMatchObject({ code: 'COURSE_EXISTS' });
    const line = {
      id: 'TQ-1~CB-01',
      courseId: 'TQ-1',
      staffId: 'CB-01',
      unit: '08/02500',
      completed: true,
      certificateNo: 'CC-1',
      ...stamps,
    };
    await s.trainingAttendance.put(line);
    await s.trainingAttendance.put({
      ...line,
      id: 'TQ-1~CB-02',
      staffId: 'CB-02',
      unit: '08/02503',
      completed: false,
    });
    const doc = {
      id: 'd1',
      unit: '08',
      title: 'Nghị định về hoạt động thông tin cơ sở',
      number: '49/2024/NĐ-CP',
      issuer: 'Chính phủ',
      issuedOn: '2024-05-10',
      kind: 'legal' as const,
      name: 'nd-49-2024.pdf',
      file: { sha256: 'a'.repeat(64), bytes: 1234, type: 'application/pdf', ext: 'pdf' },
      uploadedBy: 'u1',
      ...stamps,
    };
    await s.documents.insert(doc);
    await expect(s.documents.insert(doc)).rejects.toMatchObject({ code: 'DOCUMENT_EXISTS' });
    await expect(s.staff.update('none', { name: 'x' })).rejects.toMatchObject({ code: 'STAFF_NOT_FOUND' });
    const moved = await s.trainingAttendance.update('TQ-1~CB-02', { completed: true });
    expect(moved.completed).toBe(true);
    await s.stop();
    const again = await h.open();
    expect(
      (await again.staff.list((x) => x.unit.startsWith('08/02500'))).map((x) => [x.id, x.phone]),
    ).toEqual([['CB-01', '0912 345 678']]);
    expect(await again.trainingCourses.get('TQ-1')).toEqual(course);
    expect(
      (await again.trainingAttendance.list((a) => a.courseId === 'TQ-1'))
        .map((a) => [a.staffId, a.completed])
        .sort(),
    ).toEqual([
      ['CB-01', true],
      ['CB-02', true],
    ]);
    expect(await again.documents.get('d1')).toEqual(doc);
    expect(await again.trainingAttendance.delete('TQ-1~CB-02')).toBe(true);
    expect(await again.trainingAttendance.count()).toBe(1);
  });

  it("keeps a unit's programme choices across a restart, one record per unit", async () => {
    const doc = {
      type: 'loa-choices' as const,
      format: 1,
      unit: '08/02500',
      version: 1,
      issued: iso(T0),
      optOut: [{ channel: 'tinh-thoi-su', entries: ['sang'] }],
      quietHours: [{ start: '21:00', end: '06:00' }],
      signatures: [{ keyid: 'a'.repeat(64), sig: 'c2ln' }],
    };
    const rec = { id: '08/02500', unit: '08/02500', current: doc, publishedAt: iso(T0), updatedAt: iso(T0) };
    await s.choices.insert(rec);
    await expect(s.choices.insert(rec)).rejects.toMatchObject({ code: 'CHOICES_EXISTS' });
    const next = { ...doc, version: 2, optOut: [] };
    const pending = { document: next, requestedBy: ['u1'], at: iso(T0 + 1000) };
    await s.choices.update('08/02500', { pending, updatedAt: iso(T0 + 1000) });
    await s.choices.put({ id: '08/02503', unit: '08/02503', updatedAt: iso(T0) });
    await s.stop();
    const again = await h.open();
    expect(await again.choices.get('08/02500')).toEqual({ ...rec, pending, updatedAt: iso(T0 + 1000) });
    expect((await again.choices.list()).map((r) => r.id).sort()).toEqual(['08/02500', '08/02503']);
    await expect(again.choices.update('09', { updatedAt: iso(T0) })).rejects.toMatchObject({
      code: 'CHOICES_NOT_FOUND',
    });
  });

  it('keeps report rollups whole across a restart: parts read by name, key order kept, replaced whole, cleared by kind', async () => {
    expect(await s.rollups.read('proofs', '2026-12-01')).toEqual({ found: false, parts: {}, damaged: [] });
    const parts = {
      '08/02500': {
        v: 1,
        d: { st1: [['b|s|1'], [], { 'news|vi': [900_000, 1], '|': [1, 1] }, 1, 0, 0, 0, []] },
      },
      '08/02503': { v: 1, d: {} },
      '~server': { v: 1, serverUp: [[1, 2]] },
    };
    await s.rollups.write('proofs', '2026-12-01', parts);
    await s.rollups.write('proofs', '2026-11-30', {});
    await s.rollups.write('presence', '2026-12-01', { '~server': { v: 1 } });
    await s.stop();
    const again = await h.open();
    const all = await again.rollups.read('proofs', '2026-12-01');
    expect(all).toEqual({ found: true, parts, damaged: [] });
    // the air map's keys in the order written (a report adds airtime up in that order)
    expect(
      Object.keys(((all.parts['08/02500'] as (typeof parts)['08/02500']).d.st1?.[2] ?? {}) as object),
    ).toEqual(['news|vi', '|']);
    expect(await again.rollups.read('proofs', '2026-12-01', ['08/02503', 'nowhere'])).toEqual({
      found: true,
      parts: { '08/02503': { v: 1, d: {} } },
      damaged: [],
    });
    expect(await again.rollups.read('proofs', '2026-11-30')).toEqual({ found: true, parts: {}, damaged: [] });
    expect(await again.rollups.keys('proofs')).toEqual(['2026-11-30', '2026-12-01']);
    await again.rollups.write('proofs', '2026-12-01', { '08/02509': { v: 1 } });
    expect((await again.rollups.read('proofs', '2026-12-01')).parts).toEqual({ '08/02509': { v: 1 } });
    await again.rollups.clear('proofs');
    expect(await again.rollups.keys('proofs')).toEqual([]);
    expect(await again.rollups.keys('presence')).toEqual(['2026-12-01']);
  });

  it('gives the instant of the oldest presence entry', async () => {
    expect(await s.presence.firstAt()).toBeUndefined();
    await s.presence.append({ at: iso(T0 - 5000), event: 'server-start' });
    await s.presence.append({ at: iso(T0), event: 'connect', deviceId: 'a' });
    await s.flush();
    expect(await s.presence.firstAt()).toBe(iso(T0 - 5000));
  });

  it('drops history past retention, but not on a clock that jumped', async () => {
    // two weeks of daily proofs and health, the clock stepping a day at a time, 5 days kept
    await s.stop();
    const keep = { retentionDays: 5 };
    s = await h.open(keep);
    for (let d = 0; d < 14; d++) {
      h.clock.now = T0 + d * DAY;
      await s.proofs.append(proof('a', h.clock.now, d + 1));
      await s.health.append(health('a', h.clock.now, d));
    }
    await s.flush();
    await s.stop();
    const keptBefore = (await (await h.open(keep)).proofs.query({ limit: 100 })).map((e) => e.proof.seq);
    expect(keptBefore).toEqual([9, 10, 11, 12, 13, 14]);

    // the clock jumps a year ahead (a reset RTC): retention refuses to delete on it
    h.clock.now = T0 + 400 * DAY;
    let doubted = 0;
    const jumped = await h.open({ ...keep, onDoubt: () => doubted++ });
    expect(doubted).toBeGreaterThan(0);
    expect((await jumped.proofs.query({ limit: 100 })).map((e) => e.proof.seq)).toEqual(keptBefore);
    expect((await jumped.health.query({ limit: 100 })).length).toBe(keptBefore.length);
    // an operator confirms the clock: now retention acts on it
    const confirmed = await h.open({ ...keep, retentionTrustClock: true });
    expect(await confirmed.proofs.query({ limit: 100 })).toEqual([]);
    // the last proof of the device is still known (the chain continues)
    expect(confirmed.proofs.last('a')?.seq).toBe(14);
  });
});

describe('store contract: constraints only PostgreSQL enforces', () => {
  let h: Harness;
  let s: Store;
  beforeEach(async () => {
    h = await harness('postgres');
    s = await h.open();
    await withUnits(s);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('maps foreign keys and unique columns to stable codes, leaving stored data as it was', async () => {
    await expect(s.devices.insert(device('a', '77'))).rejects.toMatchObject({ code: 'UNIT_NOT_FOUND' });
    await expect(s.units.insert(unit('77/00001'))).rejects.toMatchObject({ code: 'UNIT_NOT_FOUND' });
    await s.devices.insert(device('a'));
    await expect(s.devices.insert({ ...device('b'), keyId: 'k-a' })).rejects.toMatchObject({
      code: 'DEVICE_EXISTS',
    });
    await expect(s.units.delete('08/02500')).rejects.toMatchObject({ code: 'UNIT_CONFLICT' });
    await expect(s.units.delete('08')).rejects.toMatchObject({ code: 'UNIT_CONFLICT' });
    await s.users.insert(user('u1', 'lan'));
    await expect(s.users.insert(user('u2', 'LAN'))).rejects.toMatchObject({ code: 'USER_EXISTS' });
    await s.enrolmentTokens.insert(enrolToken('e1', 1));
    await expect(s.enrolmentTokens.insert({ ...enrolToken('e2', 1), hash: 'hash-e1' })).rejects.toMatchObject(
      {
        code: 'ENROL_TOKEN_EXISTS',
      },
    );
    // an import whose parent is missing is refused whole
    await expect(s.units.putMany([unit('10'), unit('11/00001')])).rejects.toMatchObject({
      code: 'UNIT_NOT_FOUND',
    });
    expect(await s.units.get('10')).toBeUndefined();
    // in any order inside one import
    await s.units.putMany([unit('12/00001'), unit('12')]);
    expect((await s.units.subtree('12')).length).toBe(2);
    expect(await s.devices.count()).toBe(1);
    expect(await s.users.count()).toBe(1);
    // the lexicon: one entry per unit, language and written form; only known units
    await s.lexicon.insert(lexEntry('lx-1', 'UBND', 'Ủy ban nhân dân'));
    await expect(s.lexicon.insert(lexEntry('lx-2', 'UBND', 'U bê en đê'))).rejects.toMatchObject({
      code: 'LEXICON_EXISTS',
    });
    await expect(s.lexicon.insert(lexEntry('lx-3', 'UBND', 'x', '77'))).rejects.toMatchObject({
      code: 'UNIT_NOT_FOUND',
    });
    expect((await s.lexicon.list()).map((e) => e.to)).toEqual(['Ủy ban nhân dân']);
    // the staff register and the library refer to units too
    const stamps = { createdAt: iso(T0), updatedAt: iso(T0) };
    await expect(
      s.staff.insert({ id: 'x', unit: '77', name: 'A', position: 'B', ...stamps }),
    ).rejects.toMatchObject({ code: 'UNIT_NOT_FOUND' });
    await s.staff.insert({ id: 'x', unit: '08/02503', name: 'A', position: 'B', ...stamps });
    await expect(s.units.delete('08/02503')).rejects.toMatchObject({ code: 'UNIT_CONFLICT' });
    expect(await s.staff.count()).toBe(1);
  });

  it('consumes a token once per use across two processes sharing the database', async () => {
    const other = await h.open();
    await s.enrolmentTokens.insert(enrolToken('e1', 5));
    const tries = Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? s : other).enrolmentTokens.consume('hash-e1', iso(T0)),
    );
    const results = await Promise.allSettled(tries);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect((await other.enrolmentTokens.get('e1'))?.uses).toBe(5);
  });
});
