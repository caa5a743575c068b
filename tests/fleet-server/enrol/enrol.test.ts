import { generateKeyPair, rawPublicKey } from '@loa/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closed,
  connectDevice,
  enrolDevice,
  FakeClock,
  loginAs,
  type Session,
  startTestServer,
  type TestServer,
} from '../app/harness.js';

const key = () => rawPublicKey(generateKeyPair().publicKey).toString('base64');

describe('enrolment', () => {
  let s: TestServer;
  let admin: Session;
  let clock: FakeClock;
  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    s = await startTestServer({ clock });
    admin = await loginAs(s, 'boss', 'administrator', ['08']);
  });
  afterEach(async () => {
    await s.close();
  });

  const enrol = (body: unknown) =>
    fetch(`${s.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('gives a device its id, unit, MQTT credentials and endpoints; the password is hashed at rest', async () => {
    const d = await enrolDevice(s, admin, '08/02503');
    expect(d.response).toMatchObject({
      unit: '08/02503',
      status: 'active',
      mqtt: { url: s.mqttUrl, username: d.deviceId, clientId: d.deviceId },
      trust: null,
      endpoints: {
        api: `${s.url}/api/v1`,
        blobs: `${s.url}/blobs`,
        mqttWs: `${s.url.replace('http', 'ws')}/mqtt`,
      },
    });
    expect(d.password.length).toBeGreaterThanOrEqual(40);
    const rec = await s.deps.store.devices.get(d.deviceId);
    expect(rec?.mqttPasswordHash.startsWith('scrypt$')).toBe(true);
    expect(JSON.stringify(rec)).not.toContain(d.password);
    expect(rec?.publicKey).toBe(d.publicKey);
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    c.end(true);
  });

  it('refuses a reused one-time token and writes nothing', async () => {
    const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', { unit: '08/02503' });
    expect((await enrol({ token: t.body.token, publicKey: key(), hardware: {} })).status).toBe(201);
    const before = await s.deps.store.devices.count();
    const r = await enrol({ token: t.body.token, publicKey: key(), hardware: {} });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ENROL_TOKEN_USED');
    expect(await s.deps.store.devices.count()).toBe(before);
  });

  it('refuses an expired token (injected clock) and an unknown one', async () => {
    const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', {
      unit: '08/02503',
      ttlHours: 1,
    });
    clock.advance(3600_001);
    const r = await enrol({ token: t.body.token, publicKey: key(), hardware: {} });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ENROL_TOKEN_EXPIRED');
    const u = await enrol({ token: 'loaenr_thisisnotarealtoken', publicKey: key(), hardware: {} });
    expect(u.status).toBe(401);
    expect(((await u.json()) as { error: { code: string } }).error.code).toBe('ENROL_TOKEN_INVALID');
    expect(await s.deps.store.devices.count()).toBe(0);
  });

  it('counts uses of a multi-use token and refuses a revoked one', async () => {
    const t = await admin.json<{ token: string; record: { id: string } }>('POST', '/api/v1/enrol-tokens', {
      unit: '08/02503',
      maxUses: 2,
    });
    expect((await enrol({ token: t.body.token, publicKey: key() })).status).toBe(201);
    expect((await admin.json('DELETE', `/api/v1/enrol-tokens/${t.body.record.id}`)).status).toBe(200);
    const r = await enrol({ token: t.body.token, publicKey: key() });
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ENROL_TOKEN_REVOKED');
    const list = await admin.json<{ uses: number; usable: boolean }[]>('GET', '/api/v1/enrol-tokens');
    expect(list.body[0]).toMatchObject({ uses: 1, usable: false });
    expect(JSON.stringify(list.body)).not.toContain('"hash"');
  });

  it('rejects malformed bodies and keys with 400, a key already enrolled with 409, nothing written', async () => {
    const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', {
      unit: '08/02503',
      maxUses: 5,
    });
    const bad = await enrol({ token: t.body.token, publicKey: 'AAAA', hardware: {} });
    expect(bad.status).toBe(400);
    const badJson = await fetch(`${s.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"token": ',
    });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('BAD_JSON');
    const k = key();
    expect((await enrol({ token: t.body.token, publicKey: k })).status).toBe(201);
    const dup = await enrol({ token: t.body.token, publicKey: k });
    expect(dup.status).toBe(409);
    expect(await s.deps.store.devices.count()).toBe(1);
    const tok = (await s.deps.store.enrolmentTokens.list())[0];
    expect(tok?.uses).toBe(1);
  });

  it('keeps devices of an approval token pending (no MQTT) until an operator approves', async () => {
    const d = await enrolDevice(s, admin, '08/02506', { requireApproval: true });
    expect(d.response.status).toBe('pending');
    await expect(connectDevice(s.mqttUrl, d.deviceId, d.password)).rejects.toThrow();
    const op = await loginAs(s, 'op', 'operator', ['08/02506']);
    const r = await op.json('POST', `/api/v1/devices/${d.deviceId}/approve`);
    expect(r.status).toBe(200);
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    c.end(true);
    await closed(c);
  });

  it('lets a technician create tokens only inside their scope', async () => {
    const tech = await loginAs(s, 'tech', 'technician', ['08/02500']);
    expect((await tech.json('POST', '/api/v1/enrol-tokens', { unit: '08/02500' })).status).toBe(201);
    const r = await tech.json<{ error: { code: string } }>('POST', '/api/v1/enrol-tokens', {
      unit: '08/02503',
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_SCOPE');
    const viewer = await loginAs(s, 'v', 'viewer', ['08']);
    expect((await viewer.json('POST', '/api/v1/enrol-tokens', { unit: '08/02500' })).status).toBe(403);
  });
});
