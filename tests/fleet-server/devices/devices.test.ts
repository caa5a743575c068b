import { deviceTopic } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  connectDevice,
  type EnrolledDevice,
  enrolDevice,
  loginAs,
  type Session,
  startTestServer,
  type TestServer,
  waitFor,
} from '../app/harness.js';

type DeviceView = { id: string; online: boolean; unit: string; presence: unknown; mqttPasswordHash?: string };

describe('devices API', () => {
  let s: TestServer;
  let admin: Session;
  let a: EnrolledDevice;
  let b: EnrolledDevice;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await loginAs(s, 'root', 'administrator', ['08']);
    a = await enrolDevice(s, admin, '08/02500');
    b = await enrolDevice(s, admin, '08/02503');
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists devices in scope with live presence, never their password hash', async () => {
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    await c.publishAsync(
      deviceTopic(a.deviceId, 'presence'),
      JSON.stringify({ state: 'online', boot: 1, conn: 1, at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
    await waitFor(() => s.deps.broker.presence(a.deviceId)?.presence !== null);
    const commune = await loginAs(s, 'viewer-a', 'viewer', ['08/02500']);
    const list = await commune.json<{ total: number; devices: DeviceView[] }>('GET', '/api/v1/devices');
    expect(list.body.total).toBe(1);
    expect(list.body.devices[0]).toMatchObject({
      id: a.deviceId,
      online: true,
      presence: { state: 'online' },
    });
    expect(JSON.stringify(list.body)).not.toContain('scrypt$');
    const all = await admin.json<{ total: number }>('GET', '/api/v1/devices?online=false');
    expect(all.body.total).toBe(1);
    c.end(true);
    await closed(c);
  });

  it('answers the health history of a device in scope, bounded by range and limit', async () => {
    const now = Date.now();
    for (let i = 0; i < 5; i++)
      await s.deps.store.health.append({
        deviceId: a.deviceId,
        receivedAt: new Date(now - (5 - i) * 60_000).toISOString(),
        health: { seq: i } as never,
      });
    const r = await admin.json<{ entries: { health: { seq: number } }[] }>(
      'GET',
      `/api/v1/devices/${a.deviceId}/health?limit=3&from=${encodeURIComponent(new Date(now - 3_600_000).toISOString())}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.entries.map((e) => e.health.seq)).toEqual([2, 3, 4]);
    expect((await admin.json('GET', `/api/v1/devices/${a.deviceId}/health?limit=0`)).status).toBe(400);
    const other = await loginAs(s, 'viewer-h', 'viewer', ['08/02506']);
    expect((await other.json('GET', `/api/v1/devices/${a.deviceId}/health`)).status).toBe(404);
  });

  it('hides devices of other communes (404, no probing) and refuses filters outside the scope', async () => {
    const commune = await loginAs(s, 'viewer-a2', 'viewer', ['08/02500']);
    expect((await commune.json('GET', `/api/v1/devices/${b.deviceId}`)).status).toBe(404);
    expect((await commune.json('GET', '/api/v1/devices?unit=08/02503')).status).toBe(403);
    expect((await commune.json('GET', `/api/v1/devices/${a.deviceId}`)).status).toBe(200);
  });

  it('an operator of commune X cannot revoke a device of commune Y; a viewer cannot change anything', async () => {
    const op = await loginAs(s, 'op-a', 'operator', ['08/02500']);
    expect((await op.json('POST', `/api/v1/devices/${b.deviceId}/revoke`, {})).status).toBe(403);
    const viewer = await loginAs(s, 'viewer-b', 'viewer', ['08']);
    const r = await viewer.json<{ error: { code: string } }>('PATCH', `/api/v1/devices/${b.deviceId}`, {
      name: 'x',
    });
    expect(r.status).toBe(403);
    expect((await s.deps.store.devices.get(b.deviceId))?.status).toBe('active');
  });

  it('moves a device to another unit in scope (it reconnects to re-subscribe), sets groups and location', async () => {
    const r = await admin.json<DeviceView>('PATCH', `/api/v1/devices/${b.deviceId}`, {
      unit: '08/02506',
      groups: ['cho'],
      location: { lat: 21.7, lon: 105.4 },
      name: 'Cụm loa chợ <Sơn Nam>',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ unit: '08/02506', name: 'Cụm loa chợ <Sơn Nam>' });
    expect((await admin.json('PATCH', `/api/v1/devices/${b.deviceId}`, { unit: '08/99999' })).status).toBe(
      404,
    );
    expect(
      (await admin.json('PATCH', `/api/v1/devices/${b.deviceId}`, { location: { lat: 200, lon: 0 } })).status,
    ).toBe(400);
  });

  it('decommissions a device: credentials stop working, history and audit remain', async () => {
    const d = await enrolDevice(s, admin, '08/02509');
    const r = await admin.json('POST', `/api/v1/devices/${d.deviceId}/decommission`, { reason: 'cột bị đổ' });
    expect(r.status).toBe(200);
    await expect(connectDevice(s.mqttUrl, d.deviceId, d.password)).rejects.toThrow();
    expect((await admin.json('POST', `/api/v1/devices/${d.deviceId}/decommission`, {})).status).toBe(409);
    const audit = await s.deps.store.audit.query({ action: 'device.decommission' });
    expect(audit[0]).toMatchObject({
      target: { id: d.deviceId },
      details: { reason: 'cột bị đổ' },
      unit: '08/02509',
    });
  });
});
