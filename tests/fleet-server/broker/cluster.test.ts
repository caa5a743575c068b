/**
 * The clustered broker with a real redis-server and two real aedes brokers (nodes A and B) on
 * 127.0.0.1: node A is a whole fleet server started with `cluster: redis`; node B is a second
 * FleetBroker with its own Redis connections, sharing A's device registry (as two processes
 * share PostgreSQL). Devices are real mqtt.js clients.
 */
import { deviceTopic, type Presence } from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetBroker } from '../../../fleet-server/src/broker/broker.js';
import { RedisCluster } from '../../../fleet-server/src/broker/cluster.js';
import type { PresenceInfo } from '../../../fleet-server/src/broker/types.js';
import { parseConfig } from '../../../fleet-server/src/config.js';
import { METRIC, Metrics } from '../../../fleet-server/src/metrics.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
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

const presence = (state: Presence['state'], boot: number, conn: number): Presence => ({
  state,
  boot,
  conn,
  at: new Date().toISOString(),
});

/** The retained message of a topic as the shared persistence (Redis) holds it. */
async function retained(broker: FleetBroker, topic: string): Promise<Presence | undefined> {
  const persistence = (
    broker.aedes as unknown as { persistence: { createRetainedStream(t: string): unknown } }
  ).persistence;
  const stream = persistence.createRetainedStream(topic) as AsyncIterable<{ payload: Buffer }>;
  for await (const p of stream) return JSON.parse(p.payload.toString()) as Presence;
  return undefined;
}

describe('clustered broker: two nodes sharing Redis', () => {
  let redis: TestRedis;
  let a: TestServer;
  let clusterB: RedisCluster;
  let b: FleetBroker;
  let bUrl: string;
  const metricsB = new Metrics(() => Date.now());
  let admin: Session;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ config: { cluster: { kind: 'redis', redisUrl: redis.url } } });
    admin = await loginAs(a, 'boss', 'administrator', ['08']);
    clusterB = new RedisCluster({ url: redis.url, logger });
    await clusterB.start();
    const config = parseConfig({});
    b = new FleetBroker({
      deviceAuth: a.deps.deviceAuth,
      metrics: metricsB,
      logger,
      clock: a.deps.clock,
      limits: config.broker,
      host: '127.0.0.1',
      port: 0,
      cluster: { bus: clusterB, aedes: await clusterB.aedesParts() },
    });
    bUrl = `mqtt://127.0.0.1:${await b.start()}`;
  }, 60_000);

  afterAll(async () => {
    await b?.stop();
    await clusterB?.stop();
    await a?.close();
    await redis?.stop();
  });

  const device = (): Promise<EnrolledDevice> => enrolDevice(a, admin, '08/02503');

  it('a device connected to node B receives what node A publishes (QoS 1)', async () => {
    const d = await device();
    const c = await connectDevice(bUrl, d.deviceId, d.password);
    const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
    await c.subscribeAsync(deviceTopic(d.deviceId, 'notify'), { qos: 1 });
    // the subscription reaches node A through Redis: publish until it arrives
    const deadline = Date.now() + 10_000;
    let payload: string | undefined;
    got.then((p) => {
      payload = p;
    });
    while (!payload && Date.now() < deadline) {
      await a.broker.publish(deviceTopic(d.deviceId, 'notify'), { hello: 'from A' }, { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(JSON.parse(payload ?? 'null')).toEqual({ hello: 'from A' });
    c.end(true);
    await closed(c);
  });

  it('node A sees the connection and the presence of a device on node B, and its event handlers hear them', async () => {
    const d = await device();
    const seen: PresenceInfo[] = [];
    const off = a.broker.onPresence((p) => {
      if (p.deviceId === d.deviceId) seen.push(p);
    });
    const c = await connectDevice(bUrl, d.deviceId, d.password);
    await c.publishAsync(deviceTopic(d.deviceId, 'presence'), JSON.stringify(presence('online', 3, 1)), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => a.broker.presence(d.deviceId)?.presence?.conn === 1);
    const info = a.broker.presence(d.deviceId);
    expect(info?.connected).toBe(true);
    expect(info?.remote).toBe(true);
    expect(a.broker.onlineCount()).toBeGreaterThanOrEqual(1);
    expect(await retained(a.broker, deviceTopic(d.deviceId, 'presence'))).toMatchObject({ boot: 3, conn: 1 });
    c.end(true);
    await closed(c);
    await waitFor(() => a.broker.presence(d.deviceId)?.connected === false);
    expect(seen.some((p) => p.connected && p.remote)).toBe(true);
    expect(seen.at(-1)?.connected).toBe(false);
    off();
  });

  it('newest presence wins across nodes: a stale presence sent through node B after a newer one through node A is refused', async () => {
    const d = await device();
    const topic = deviceTopic(d.deviceId, 'presence');
    const ca = await connectDevice(a.mqttUrl, d.deviceId, d.password);
    await ca.publishAsync(topic, JSON.stringify(presence('online', 7, 5)), { qos: 1, retain: true });
    await waitFor(() => b.presence(d.deviceId)?.presence?.conn === 5);
    ca.end(true);
    await closed(ca);
    const cb = await connectDevice(bUrl, d.deviceId, d.password);
    await cb.publishAsync(topic, JSON.stringify(presence('offline', 7, 4)), { qos: 1, retain: true });
    // a newer one after it, so the test knows node B has handled the stale one
    await cb.publishAsync(topic, JSON.stringify(presence('online', 7, 6)), { qos: 1, retain: true });
    await waitFor(() => a.broker.presence(d.deviceId)?.presence?.conn === 6);
    expect(b.presence(d.deviceId)?.presence).toMatchObject({ state: 'online', conn: 6 });
    expect(await retained(b, topic)).toMatchObject({ state: 'online', conn: 6 });
    cb.end(true);
    await closed(cb);
  });

  it('a stale presence never overwrites the retained newer one, whichever node receives it', async () => {
    const d = await device();
    const topic = deviceTopic(d.deviceId, 'presence');
    const cb = await connectDevice(bUrl, d.deviceId, d.password);
    await cb.publishAsync(topic, JSON.stringify(presence('online', 9, 2)), { qos: 1, retain: true });
    await waitFor(() => a.broker.presence(d.deviceId)?.presence?.conn === 2);
    cb.end(true);
    await closed(cb);
    const ca = await connectDevice(a.mqttUrl, d.deviceId, d.password);
    await ca.publishAsync(topic, JSON.stringify(presence('offline', 9, 1)), { qos: 1, retain: true });
    await ca.publishAsync(deviceTopic(d.deviceId, 'health'), '{"not":"a health report"}', { qos: 1 });
    expect(await retained(a.broker, topic)).toMatchObject({ state: 'online', conn: 2 });
    expect(a.broker.presence(d.deviceId)?.presence).toMatchObject({ conn: 2 });
    ca.end(true);
    await closed(ca);
  });

  it('a QoS 1 session survives a move between nodes: published through A while offline, delivered on B', async () => {
    const d = await device();
    const topic = deviceTopic(d.deviceId, 'cmd');
    const c1 = await connectDevice(a.mqttUrl, d.deviceId, d.password, { clean: false });
    await c1.subscribeAsync(topic, { qos: 1 });
    c1.end(true);
    await closed(c1);
    await a.broker.publish(topic, { id: 'c1', while: 'offline' }, { qos: 1 });
    const c2 = await connectDevice(bUrl, d.deviceId, d.password, { clean: false });
    const msg = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('queued message not delivered')), 10_000);
      c2.on('message', (_t, p) => {
        clearTimeout(t);
        resolve(p.toString());
      });
    });
    expect(JSON.parse(msg)).toEqual({ id: 'c1', while: 'offline' });
    c2.end(true);
    await closed(c2);
  });

  it('the policy still holds on node B: a device cannot publish on another device topic', async () => {
    const d = await device();
    const other = await device();
    const c = await connectDevice(bUrl, d.deviceId, d.password);
    const rejected = () => metricsB.get(METRIC.mqttRejected, { reason: 'ACL_OTHER_DEVICE' }) ?? 0;
    const before = rejected();
    c.publish(deviceTopic(other.deviceId, 'health'), '{}', { qos: 0 });
    await waitFor(() => rejected() > before);
    c.end(true);
    await closed(c);
  });
});
