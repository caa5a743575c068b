/**
 * The whole fleet server on the PostgreSQL store (STORE=postgres): enrolment over HTTP with a
 * one-time token, a device connecting over MQTT with the credentials it got, sessions and audit,
 * and a restart on the same database that finds everything again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../../fleet-server/src/cli.js';
import { freshDatabase, type TestDatabase } from '../../../helpers/postgres.js';
import {
  connectDevice,
  enrolDevice,
  loginAs,
  Session,
  startTestServer,
  type TestServer,
} from '../../app/harness.js';

describe('fleet server on PostgreSQL', () => {
  let db: TestDatabase;
  let s: TestServer | undefined;
  beforeEach(async () => {
    db = await freshDatabase({ migrated: false });
  });
  afterEach(async () => {
    await s?.close();
    await db.drop();
  });

  it('reads STORE and DATABASE_URL from the environment and refuses postgres without a URL', async () => {
    expect(configFromEnv({ STORE: 'postgres', DATABASE_URL: db.url })).toMatchObject({
      store: 'postgres',
      databaseUrl: db.url,
    });
    expect(() => configFromEnv({ STORE: 'mysql' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    await expect(startTestServer({ config: { store: 'postgres' } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('enrols a device once per token, lets it connect, and finds it all again after a restart', async () => {
    const config = configFromEnv({ STORE: 'postgres', DATABASE_URL: db.url });
    s = await startTestServer({ config });
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    c.end(true);
    const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', { unit: '08/02503' });
    const enrol = () =>
      fetch(`${s?.url}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: t.body.token, publicKey: d.publicKey, hardware: {} }),
      });
    // the same public key twice
    const dup = await enrol();
    expect(((await dup.json()) as { error: { code: string } }).error.code).toBe('DEVICE_KEY_IN_USE');
    const audit = await s.deps.store.audit.query({ action: 'device.' });
    expect(audit.length).toBeGreaterThan(0);

    await s.close();
    s = await startTestServer({ config, seed: false });
    expect((await s.deps.store.devices.get(d.deviceId))?.unit).toBe('08/02503');
    const again = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    again.end(true);
    const same = new Session(s.url);
    same.cookie = admin.cookie;
    same.csrf = admin.csrf;
    const list = await same.json<unknown>('GET', `/api/v1/devices/${d.deviceId}`);
    // the session made before the restart is still valid: it lives in the database
    expect(list.status).toBe(200);
    expect((await s.deps.store.audit.query({ action: 'device.' })).map((e) => e.seq)).toEqual(
      audit.map((e) => e.seq),
    );
  });
});
