import { deviceTopic, type Health, type Presence, unitTopic } from '@loa/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceMessage } from '../../../fleet-server/src/broker/types.js';
import { METRIC } from '../../../fleet-server/src/metrics.js';
import {
  closed,
  connectDevice,
  type EnrolledDevice,
  enrolDevice,
  loginAs,
  startTestServer,
  type TestServer,
  waitFor,
} from '../app/harness.js';

/** SUBACK granted QoS list (mqtt.js 5 rejects the promise when any entry is 128). */
async function granted(c: mqtt.MqttClient, topics: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(topics)).map((g) => g.qos);
  } catch (e) {
    return ((e as { packet: { granted: number[] } }).packet.granted ?? []).map(Number);
  }
}

const presence = (state: Presence['state'], boot: number, conn: number): Presence => ({
  state,
  boot,
  conn,
  at: new Date().toISOString(),
});

function health(seq: number): Health {
  return {
    at: new Date().toISOString(),
    seq,
    agentVersion: '0.1.0',
    uptimeS: 10,
    inputs: { mains: true, door: 'closed', ampFault: false },
    relays: { amplifier: false },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
  };
}

describe('broker policy with real aedes and mqtt.js', () => {
  let s: TestServer;
  let a: EnrolledDevice;
  let b: EnrolledDevice;
  const messages: DeviceMessage[] = [];

  beforeAll(async () => {
    s = await startTestServer({
      config: {
        broker: {
          ratePerSecond: 50,
          maxViolations: 10,
          burst: 200,
          drainTimeoutMs: 2000,
          connectTimeoutMs: 5000,
        },
      },
    });
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    a = await enrolDevice(s, admin, '08/02503');
    b = await enrolDevice(s, admin, '08/02506');
    s.deps.broker.onDeviceMessage((m) => {
      messages.push(m);
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('delivers a valid health message to the ingest hook, attributed to the connection', async () => {
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    await c.publishAsync(deviceTopic(a.deviceId, 'health'), JSON.stringify(health(1)), { qos: 1 });
    await waitFor(() => messages.some((m) => m.deviceId === a.deviceId && m.kind === 'health'));
    c.end(true);
    await closed(c);
  });

  it('answers a time request at once on the device topic, only to that device; a malformed one is dropped', async () => {
    const ca = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    const cb = await connectDevice(s.mqttUrl, b.deviceId, b.password);
    const toB: string[] = [];
    cb.on('message', (t) => toB.push(t));
    await cb.subscribeAsync(deviceTopic(b.deviceId, 'time'));
    await ca.subscribeAsync(deviceTopic(a.deviceId, 'time'));
    const reply = new Promise<{ id: string; serverTime: string }>((resolve) =>
      ca.on('message', (t, p) => {
        if (t === deviceTopic(a.deviceId, 'time')) resolve(JSON.parse(p.toString()));
      }),
    );
    const before = Date.now();
    await ca.publishAsync(deviceTopic(a.deviceId, 'time-req'), JSON.stringify({ id: 'abc123' }), { qos: 0 });
    const r = await reply;
    expect(r.id).toBe('abc123');
    const t = Date.parse(r.serverTime);
    expect(t).toBeGreaterThanOrEqual(before - 1);
    expect(t).toBeLessThanOrEqual(Date.now() + 1);
    const invalid = s.deps.metrics.get(METRIC.mqttInvalid, { kind: 'time-req' }) ?? 0;
    await ca.publishAsync(deviceTopic(a.deviceId, 'time-req'), JSON.stringify({ id: 'x'.repeat(200) }), {
      qos: 1,
    });
    await waitFor(() => (s.deps.metrics.get(METRIC.mqttInvalid, { kind: 'time-req' }) ?? 0) > invalid);
    expect(toB).toEqual([]);
    expect(messages.some((m) => (m.kind as string) === 'time-req')).toBe(false);
    ca.end(true);
    cb.end(true);
    await Promise.all([closed(ca), closed(cb)]);
  });

  it('refuses wrong passwords, a client id other than the username, and unknown devices', async () => {
    await expect(connectDevice(s.mqttUrl, a.deviceId, 'wrong-password')).rejects.toThrow();
    await expect(
      connectDevice(s.mqttUrl, a.deviceId, a.password, { clientId: b.deviceId }),
    ).rejects.toThrow();
    await expect(connectDevice(s.mqttUrl, 'st-nobody', a.password)).rejects.toThrow();
  });

  it('speaks MQTT 3.1.1 and 3.1; an MQTT 5 client is refused (unacceptable protocol version)', async () => {
    for (const protocolVersion of [4, 3] as const) {
      const c = await connectDevice(s.mqttUrl, a.deviceId, a.password, { protocolVersion });
      expect(c.connected).toBe(true);
      c.end(true);
      await closed(c);
    }
    const err = await connectDevice(s.mqttUrl, a.deviceId, a.password, { protocolVersion: 5 }).then(
      () => null,
      (e: Error) => e,
    );
    // CONNACK return code 1: aedes 1.x speaks MQTT 3.1 and 3.1.1 only
    expect(err?.message).toMatch(/unacceptable protocol version/i);
  });

  it('device A publishing as device B is disconnected and nothing reaches ingest', async () => {
    const before = messages.length;
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    const done = closed(c);
    c.publish(deviceTopic(b.deviceId, 'health'), JSON.stringify(health(2)), { qos: 1 });
    await done;
    expect(messages.slice(before).some((m) => m.deviceId === b.deviceId)).toBe(false);
  });

  it('device A subscribing to device B or another unit gets SUBACK failure (128); its own topics are granted', async () => {
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    const g = await granted(c, [
      deviceTopic(b.deviceId, 'cmd'),
      unitTopic('08/02506', 'emergency'),
      `loa/v1/d/${a.deviceId}/#`,
      '$SYS/#',
      deviceTopic(a.deviceId, 'cmd'),
      unitTopic('08', 'emergency'),
      unitTopic('08/02503', 'notify'),
    ]);
    expect(g).toEqual([128, 128, 128, 128, 0, 0, 0]);
    // and a server publish on its unit topic reaches it
    const got = new Promise<string>((resolve) => c.once('message', (_t, p) => resolve(p.toString())));
    await s.deps.broker.publish(unitTopic('08', 'emergency'), { hello: 'xin chào' });
    expect(JSON.parse(await got)).toEqual({ hello: 'xin chào' });
    c.end(true);
    await closed(c);
  });

  it('blocks $SYS publishing and deep topics by closing the connection', async () => {
    for (const topic of ['$SYS/broker/fake', `loa/v1/d/${a.deviceId}/health/a/b/c/d/e/f/g/h`]) {
      const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
      const done = closed(c);
      c.publish(topic, '{}', { qos: 1 });
      await done;
    }
    expect(s.deps.metrics.get(METRIC.mqttRejected, { reason: 'ACL_SYS' })).toBeGreaterThan(0);
  });

  it('closes a connection that sends an oversized packet before buffering it; the broker lives on', async () => {
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    const done = closed(c);
    c.publish(deviceTopic(a.deviceId, 'health'), Buffer.alloc(200 * 1024, 0x41), { qos: 0 });
    await done;
    expect(s.deps.metrics.get(METRIC.mqttRejected, { reason: 'frame-too-large' })).toBeGreaterThan(0);
    const ok = await connectDevice(s.mqttUrl, b.deviceId, b.password);
    ok.end(true);
    await closed(ok);
  });

  it('counts malformed JSON and schema-invalid payloads, keeps the connection, never dispatches them', async () => {
    const before = s.deps.metrics.get(METRIC.mqttInvalid, { kind: 'health' });
    const n = messages.length;
    const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    await c.publishAsync(deviceTopic(a.deviceId, 'health'), '{not json', { qos: 1 });
    await c.publishAsync(deviceTopic(a.deviceId, 'health'), JSON.stringify({ seq: -1 }), { qos: 1 });
    await c.publishAsync(deviceTopic(a.deviceId, 'proof'), JSON.stringify({ deviceId: b.deviceId }), {
      qos: 1,
    });
    expect(c.connected).toBe(true);
    expect(s.deps.metrics.get(METRIC.mqttInvalid, { kind: 'health' })).toBe(before + 2);
    expect(messages.length).toBe(n);
    c.end(true);
    await closed(c);
  });

  it('survives a QoS 0 flood from one client (rate limit closes it) while another device keeps working', async () => {
    const good = await connectDevice(s.mqttUrl, b.deviceId, b.password);
    const flooder = await connectDevice(s.mqttUrl, a.deviceId, a.password);
    const done = closed(flooder);
    const payload = JSON.stringify(health(3));
    for (let i = 0; i < 20_000 && flooder.connected; i++)
      flooder.publish(deviceTopic(a.deviceId, 'health'), payload, { qos: 0 });
    await done;
    expect(s.deps.metrics.get(METRIC.mqttRateLimited)).toBeGreaterThan(0);
    const before = messages.filter((m) => m.deviceId === b.deviceId).length;
    await good.publishAsync(deviceTopic(b.deviceId, 'health'), JSON.stringify(health(4)), { qos: 1 });
    await waitFor(() => messages.filter((m) => m.deviceId === b.deviceId).length > before);
    good.end(true);
    await closed(good);
  });

  it('orders presence by (boot, conn): a late will of an older connection does not overwrite a newer online', async () => {
    // a device of its own: the flood test above leaves device a's shared message bucket drained, and
    // the broker may still be working through the flooder's buffered frames when this test begins
    const admin = await loginAs(s, 'boss2', 'administrator', ['08']);
    const c = await enrolDevice(s, admin, '08/02509');
    const old = await connectDevice(s.mqttUrl, c.deviceId, c.password, {
      will: {
        topic: deviceTopic(c.deviceId, 'presence'),
        payload: Buffer.from(JSON.stringify(presence('offline', 5, 1))),
        qos: 1,
        retain: true,
      },
    });
    await old.publishAsync(deviceTopic(c.deviceId, 'presence'), JSON.stringify(presence('online', 5, 1)), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => s.deps.broker.presence(c.deviceId)?.presence?.conn === 1);
    // the same device reconnects (conn 2) while the old socket is taken over: its will fires late
    const fresh = await connectDevice(s.mqttUrl, c.deviceId, c.password);
    await fresh.publishAsync(deviceTopic(c.deviceId, 'presence'), JSON.stringify(presence('online', 5, 2)), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => s.deps.broker.presence(c.deviceId)?.presence?.conn === 2);
    old.end(true);
    await closed(old);
    expect(s.deps.broker.presence(c.deviceId)?.presence).toMatchObject({ state: 'online', conn: 2 });
    expect(s.deps.broker.presence(c.deviceId)?.connected).toBe(true);
    // a stale "offline" published explicitly is ignored as well, and not retained
    await fresh.publishAsync(deviceTopic(c.deviceId, 'presence'), JSON.stringify(presence('offline', 4, 9)), {
      qos: 1,
      retain: true,
    });
    expect(s.deps.broker.presence(c.deviceId)?.presence).toMatchObject({ state: 'online', boot: 5, conn: 2 });
    fresh.end(true);
    await closed(fresh);
    await waitFor(() => s.deps.broker.presence(c.deviceId)?.connected === false);
  });

  it('retains only valid, newest presence: never health, proofs or stale presence', async () => {
    const c = await connectDevice(s.mqttUrl, b.deviceId, b.password);
    await c.publishAsync(deviceTopic(b.deviceId, 'presence'), JSON.stringify(presence('online', 7, 3)), {
      qos: 1,
      retain: true,
    });
    await c.publishAsync(deviceTopic(b.deviceId, 'health'), JSON.stringify(health(5)), {
      qos: 1,
      retain: true,
    });
    await c.publishAsync(deviceTopic(b.deviceId, 'presence'), JSON.stringify(presence('offline', 7, 1)), {
      qos: 1,
      retain: true,
    });
    await c.publishAsync(deviceTopic(b.deviceId, 'presence'), '{broken', { qos: 1, retain: true });
    const persistence = (
      s.broker.aedes as unknown as {
        persistence: { createRetainedStream(p: string): AsyncIterable<{ topic: string; payload: Buffer }> };
      }
    ).persistence;
    const retained: { topic: string; payload: string }[] = [];
    for await (const p of persistence.createRetainedStream(`loa/v1/d/${b.deviceId}/#`))
      retained.push({ topic: p.topic, payload: p.payload.toString() });
    expect(retained.map((r) => r.topic)).toEqual([deviceTopic(b.deviceId, 'presence')]);
    expect(JSON.parse(retained[0]?.payload as string)).toMatchObject({ state: 'online', boot: 7, conn: 3 });
    c.end(true);
    await closed(c);
  });

  it('routes only presence: health, proofs and dropped payloads go to ingest (or nowhere), never to subscribers', async () => {
    const routed: string[] = [];
    const deliver = (p: { topic: string }, cb: () => void) => {
      routed.push(p.topic);
      cb();
    };
    const filter = `loa/v1/d/${a.deviceId}/+`;
    await new Promise<void>((r) => s.broker.aedes.subscribe(filter, deliver, r));
    try {
      const n = messages.length;
      const c = await connectDevice(s.mqttUrl, a.deviceId, a.password);
      await c.publishAsync(deviceTopic(a.deviceId, 'health'), JSON.stringify(health(7)), { qos: 1 });
      await c.publishAsync(deviceTopic(a.deviceId, 'health'), JSON.stringify(health(8)), { qos: 0 });
      await c.publishAsync(deviceTopic(a.deviceId, 'health'), '{not json', { qos: 1 });
      await c.publishAsync(deviceTopic(a.deviceId, 'presence'), JSON.stringify(presence('online', 9, 1)), {
        qos: 1,
        retain: true,
      });
      await expect.poll(() => routed, { timeout: 30_000 }).toContain(deviceTopic(a.deviceId, 'presence'));
      await expect
        .poll(() => messages.slice(n).filter((m) => m.kind === 'health').length, { timeout: 30_000 })
        .toBe(2);
      const got = messages.slice(n).filter((m) => m.kind === 'health');
      // the text as received travels with the report (the history writes it as it came)
      expect(got.map((m) => (m.kind === 'health' ? JSON.parse(m.json ?? '') : null))).toEqual(
        got.map((m) => m.payload),
      );
      expect(routed.filter((t) => t !== deviceTopic(a.deviceId, 'presence'))).toEqual([]);
      expect(c.connected).toBe(true);
      c.end(true);
      await closed(c);
    } finally {
      await new Promise<void>((r) => s.broker.aedes.unsubscribe(filter, deliver, r));
    }
  });

  it('serves MQTT over WebSocket at /mqtt on the HTTP port with the same policy', async () => {
    const url = `${s.url.replace('http', 'ws')}/mqtt`;
    const c = await connectDevice(url, b.deviceId, b.password);
    expect(await granted(c, [deviceTopic(a.deviceId, 'cmd'), deviceTopic(b.deviceId, 'cmd')])).toEqual([
      128, 0,
    ]);
    const n = messages.length;
    await c.publishAsync(deviceTopic(b.deviceId, 'health'), JSON.stringify(health(9)), { qos: 1 });
    await waitFor(() => messages.length > n);
    c.end(true);
    await closed(c);
    await expect(connectDevice(url, b.deviceId, 'nope')).rejects.toThrow();
  });

  it('a revoked device is disconnected at once and cannot reconnect', async () => {
    const admin = await loginAs(s, 'boss2', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02509');
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    const done = closed(c);
    expect(
      (await admin.json('POST', `/api/v1/devices/${d.deviceId}/revoke`, { reason: 'stolen' })).status,
    ).toBe(200);
    await done;
    await expect(connectDevice(s.mqttUrl, d.deviceId, d.password)).rejects.toThrow();
  });

  it('refuses raw MQTT without credentials', async () => {
    await new Promise<void>((resolve) => {
      const c = mqtt.connect(s.mqttUrl, { clientId: 'anon', reconnectPeriod: 0 });
      c.once('error', () => {
        c.end(true);
        resolve();
      });
    });
  });
});
