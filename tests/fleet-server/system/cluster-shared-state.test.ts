/**
 * What two nodes of a cluster must agree on beyond MQTT: two whole fleet servers (standard
 * plugins) sharing a real PostgreSQL and a real redis-server, on 127.0.0.1.
 *   - the health a device reports to node A is shown by node B's API (and a node started later
 *     reads it from Redis);
 *   - guesses spread over both nodes meet one limit: logins (per user and address), the
 *     password-change check, and a device's wrong MQTT passwords.
 */
import { deviceTopic, type Health } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';
import { freshDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  closed,
  connectDevice,
  createUser,
  enrolDevice,
  loginAs,
  Session,
  startTestServer,
  type TestServer,
} from '../app/harness.js';

function health(seq: number, uptimeS: number): Health {
  return {
    at: new Date().toISOString(),
    seq,
    agentVersion: '0.1.0',
    uptimeS,
    inputs: { mains: true, door: 'closed', ampFault: false },
    relays: { amplifier: false },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
  };
}

/** The status of a fresh login attempt (a new Session each time, as a guessing client). */
async function tryLogin(s: TestServer, username: string, password: string): Promise<number> {
  return (await new Session(s.url).login(username, password)).status;
}

describe('cluster: health and guess limits are shared by the nodes', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  const started: TestServer[] = [];
  const MAX = 4;

  async function node(): Promise<TestServer> {
    const s = await startTestServer({
      config: {
        store: 'postgres',
        databaseUrl: db.url,
        cluster: { kind: 'redis', redisUrl: redis.url },
        loginMaxAttempts: MAX,
      },
      // the units are seeded once, by the first node (one shared database)
      seed: started.length === 0,
      plugins: standardPlugins(),
    });
    started.push(s);
    return s;
  }

  beforeAll(async () => {
    db = await freshDatabase();
    redis = await startRedis();
    a = await node();
    b = await node();
  }, 120_000);
  afterAll(async () => {
    for (const s of started.reverse()) await s.close();
    await redis?.stop();
    await db?.drop();
  });

  it('the health a device reports to node A is shown by node B, and by a node started afterwards', async () => {
    const admin = await loginAs(a, 'boss', 'administrator', ['08']);
    const onB = new Session(b.url);
    expect((await onB.login('boss')).status).toBe(200);
    const d = await enrolDevice(a, admin, '08/02503');
    const c = await connectDevice(a.mqttUrl, d.deviceId, d.password);
    await c.publishAsync(deviceTopic(d.deviceId, 'health'), JSON.stringify(health(1, 4321)), { qos: 1 });
    await expect
      .poll(
        async () =>
          (await onB.json<{ health: Health | null }>('GET', `/api/v1/devices/${d.deviceId}`)).body.health
            ?.uptimeS,
        {
          timeout: 30_000,
        },
      )
      .toBe(4321);
    // a newer report replaces it on node B too
    await c.publishAsync(deviceTopic(d.deviceId, 'health'), JSON.stringify(health(2, 4400)), { qos: 1 });
    await expect
      .poll(
        async () =>
          (await onB.json<{ health: Health | null }>('GET', `/api/v1/devices/${d.deviceId}`)).body.health
            ?.seq,
        {
          timeout: 30_000,
        },
      )
      .toBe(2);
    const shown = await onB.json<{ lastHealthAt: string | null; online: boolean }>(
      'GET',
      `/api/v1/devices/${d.deviceId}`,
    );
    expect(shown.body.lastHealthAt).not.toBeNull();
    expect(shown.body.online).toBe(true);
    // a third node, started now, has it from the start
    const c3 = await node();
    expect(c3.deps.store.health.latest(d.deviceId)?.health.seq).toBe(2);
    c.end(true);
    await closed(c);
  }, 120_000);

  it('wrong passwords for one user, alternated between the nodes, meet one limit', async () => {
    await createUser(a, 'nam', 'editor', ['08']);
    // MAX wrong passwords, half through each node: each is refused as wrong
    for (let i = 0; i < MAX; i++) expect(await tryLogin(i % 2 === 0 ? a : b, 'nam', 'wrong-guess')).toBe(401);
    // one node alone has seen only MAX/2 of them, yet both now refuse even the right password
    expect(await tryLogin(a, 'nam', 'correct-horse-battery')).toBe(429);
    expect(await tryLogin(b, 'nam', 'correct-horse-battery')).toBe(429);
    // another user from the same address is still let in (the address limit is wider)
    await createUser(a, 'lan', 'editor', ['08']);
    expect(await tryLogin(b, 'lan', 'correct-horse-battery')).toBe(200);
  }, 60_000);

  it('wrong current passwords on the password-change route, alternated between the nodes, meet one limit', async () => {
    await createUser(a, 'hoa', 'editor', ['08']);
    const sa = new Session(a.url);
    const sb = new Session(b.url);
    expect((await sa.login('hoa')).status).toBe(200);
    expect((await sb.login('hoa')).status).toBe(200);
    const change = (s: Session) =>
      s.request('POST', '/api/v1/auth/password', {
        currentPassword: 'not-the-password',
        newPassword: 'a-new-long-passphrase-2026',
      });
    for (let i = 0; i < MAX; i++) expect((await change(i % 2 === 0 ? sa : sb)).status).toBe(401);
    const r = await change(sa);
    expect(r.status).toBe(429);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('AUTH_RATE_LIMITED');
    expect((await change(sb)).status).toBe(429);
  }, 60_000);

  it("a device's wrong MQTT passwords, alternated between the nodes, meet one limit", async () => {
    const admin = new Session(a.url);
    expect((await admin.login('boss')).status).toBe(200);
    const target = await enrolDevice(a, admin, '08/02503');
    const other = await enrolDevice(a, admin, '08/02503');
    // the device limit is 20 wrong passwords per device and address: 10 through each node
    for (let i = 0; i < 20; i++)
      await expect(
        connectDevice((i % 2 === 0 ? a : b).mqttUrl, target.deviceId, 'wrong-password'),
      ).rejects.toThrow();
    // now even the right password is refused from this address, on either node, without scrypt
    const throttledBefore = b.deps.deviceAuth.throttled;
    await expect(connectDevice(b.mqttUrl, target.deviceId, target.password)).rejects.toThrow();
    expect(b.deps.deviceAuth.throttled).toBeGreaterThan(throttledBefore);
    await expect(connectDevice(a.mqttUrl, target.deviceId, target.password)).rejects.toThrow();
    // another device from the same address still gets in
    const c = await connectDevice(b.mqttUrl, other.deviceId, other.password);
    c.end(true);
    await closed(c);
  }, 120_000);
});
