/**
 * Guess limits count before the work, over a real socket: parallel logins, one address over many
 * names, the password-change route, made-up names and the audit log, sessions after a password
 * change, a device lockout attempted from another loopback address (two mqtt.js clients), and a
 * device's message bucket across reconnects.
 */
import { connect as netConnect } from 'node:net';
import { deviceTopic } from '@loa/protocol';
import { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC } from '../../../fleet-server/src/metrics.js';
import {
  connectDevice,
  createUser,
  enrolDevice,
  loginAs,
  PASSWORD,
  Session,
  startTestServer,
  type TestServer,
} from '../app/harness.js';

function login(s: TestServer, username: string, password: string, from?: string): Promise<Response> {
  return fetch(`${s.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // the server trusts X-Forwarded-For from a loopback peer (as behind a local reverse proxy)
      ...(from ? { 'x-forwarded-for': from } : {}),
    },
    body: JSON.stringify({ username, password }),
  });
}

/** An mqtt.js client whose TCP socket leaves from `localAddress` (e.g. 127.0.0.2). */
function connectFrom(
  s: TestServer,
  localAddress: string,
  deviceId: string,
  password: string,
): Promise<MqttClient> {
  const c = new MqttClient(() => netConnect({ host: '127.0.0.1', port: s.mqttPort, localAddress }), {
    clientId: deviceId,
    username: deviceId,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

describe('rate limits count before the work', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('60 parallel wrong passwords for one account: only the allowed number are checked, the rest get 429', async () => {
    s = await startTestServer();
    await createUser(s, 'lan', 'editor', ['08']);
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => login(s as TestServer, 'lan', 'wrong-guess')),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((x) => x === 401).length).toBe(5);
    expect(statuses.filter((x) => x === 429).length).toBe(55);
    // the right password from the same address is refused too while the window lasts
    expect((await login(s, 'lan', PASSWORD)).status).toBe(429);
  });

  it('one address trying many different user names meets a per-address limit', async () => {
    s = await startTestServer();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await login(s, `user${i}`, 'x')).status);
    expect(statuses.slice(0, 20).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(20).every((x) => x === 429)).toBe(true);
    // another address is not affected
    expect((await login(s, 'someone', 'x', '10.0.0.9')).status).toBe(401);
  });

  it('the password-change route limits guesses of the current password', async () => {
    s = await startTestServer();
    const sess = await loginAs(s, 'mai', 'editor', ['08']);
    const tries = await Promise.all(
      Array.from({ length: 30 }, () =>
        sess.request('POST', '/api/v1/auth/password', {
          currentPassword: 'guess',
          newPassword: 'a-new-long-password-1',
        }),
      ),
    );
    const statuses = tries.map((r) => r.status);
    expect(statuses.filter((x) => x === 401).length).toBe(5);
    expect(statuses.filter((x) => x === 429).length).toBe(25);
    const body = (await tries.find((r) => r.status === 429)?.json()) as { error: { code: string } };
    expect(body.error.code).toBe('AUTH_RATE_LIMITED');
  });

  it('failed logins under made-up names from many addresses do not grow the audit log without bound', async () => {
    s = await startTestServer();
    for (let batch = 0; batch < 160; batch += 40) {
      const rs = await Promise.all(
        Array.from({ length: 40 }, (_, k) => {
          const i = batch + k;
          return login(s as TestServer, `ghost-${i}`, 'x', `10.1.${i >> 8}.${i & 255}`);
        }),
      );
      expect(rs.every((r) => r.status === 401)).toBe(true);
    }
    const failed = await s.deps.store.audit.query({ action: 'auth.login-failed', limit: 10_000 });
    expect(failed.length).toBeLessThanOrEqual(100);
    // every failure is still counted
    expect(s.deps.metrics.get(METRIC.loginFailures)).toBe(160);
    // a known account's failures are still audited one by one
    await createUser(s, 'hoa', 'editor', ['08']);
    await login(s, 'hoa', 'nope', '10.9.9.9');
    const known = await s.deps.store.audit.query({ action: 'auth.login-failed', limit: 1 });
    expect(known[0]?.actor.name).toBe('hoa');
  }, 120_000);

  it("changing a password ends the user's other sessions and keeps the current one", async () => {
    s = await startTestServer();
    const a = await loginAs(s, 'tuan', 'editor', ['08']);
    const b = new Session(s.url);
    expect((await b.login('tuan')).status).toBe(200);
    expect((await b.request('GET', '/api/v1/auth/me')).status).toBe(200);
    const r = await a.request('POST', '/api/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'another-long-password-2',
    });
    expect(r.status).toBe(200);
    expect((await b.request('GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await a.request('GET', '/api/v1/auth/me')).status).toBe(200);
  });

  it('wrong device passwords from another address do not lock the real station out', async () => {
    s = await startTestServer();
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    // an attacker at 127.0.0.2 who knows the id tries 40 wrong passwords (limit: 20 per minute)
    for (let i = 0; i < 40; i++) {
      await connectFrom(s, '127.0.0.2', d.deviceId, `wrong-${i}`).then(
        (c) => c.end(true),
        () => undefined,
      );
    }
    const refusedWithoutCheck = s.deps.deviceAuth.throttled;
    expect(refusedWithoutCheck).toBeGreaterThan(0);
    // the credential cache is empty after a restart: the station must still get in from its address
    s.deps.deviceAuth.forget(d.deviceId);
    const real = await connectFrom(s, '127.0.0.1', d.deviceId, d.password);
    expect(real.connected).toBe(true);
    real.end(true);
  });

  it('a device that reconnects keeps its message bucket (no refill by reconnecting)', async () => {
    s = await startTestServer({ config: { broker: { ratePerSecond: 5, burst: 10, maxViolations: 5 } } });
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    const passed = () =>
      (s as TestServer).deps.metrics.get(METRIC.mqttInvalid, { kind: 'health' }) +
      (s as TestServer).deps.metrics.get(METRIC.mqttMessagesIn);
    const started = Date.now();
    for (let round = 0; round < 10; round++) {
      const c = await connectDevice(s.mqttUrl, d.deviceId, d.password).catch(() => undefined);
      if (!c) continue;
      const gone = new Promise<void>((resolve) => c.once('close', () => resolve()));
      for (let i = 0; i < 60 && c.connected; i++)
        c.publish(deviceTopic(d.deviceId, 'health'), 'not json', { qos: 0 });
      await Promise.race([gone, new Promise((r) => setTimeout(r, 300))]);
      c.end(true);
    }
    const seconds = (Date.now() - started) / 1000;
    // one bucket for the whole run: the burst once, then the refill over the elapsed time (each
    // refilled token lets up to maxViolations over-rate messages through before the refusal)
    expect(passed()).toBeLessThanOrEqual(10 + 5 + 5 * seconds * (1 + 5));
    // a bucket refilled per connection would let burst + violations through on every one
    expect(passed()).toBeLessThan(10 * 10);
  });
});
