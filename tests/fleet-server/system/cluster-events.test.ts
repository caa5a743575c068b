/**
 * The HTTP side of a cluster is stateless: two whole fleet servers (standard plugins) share a
 * real redis-server; an alert opened on node A (its device reports an amplifier fault there)
 * reaches the event stream a client reads from node B.
 */
import { deviceTopic, type Health } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  closed,
  connectDevice,
  enrolDevice,
  loginAs,
  startTestServer,
  type TestServer,
} from '../app/harness.js';

function health(ampFault: boolean): Health {
  return {
    at: new Date().toISOString(),
    seq: 1,
    agentVersion: '0.1.0',
    uptimeS: 10,
    inputs: { mains: true, door: 'closed', ampFault },
    relays: { amplifier: true },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
  };
}

describe('cluster: server events reach the stream of every node', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    const cluster = { kind: 'redis', redisUrl: redis.url } as const;
    a = await startTestServer({ config: { cluster }, plugins: standardPlugins() });
    b = await startTestServer({ config: { cluster }, plugins: standardPlugins() });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('an alert opened on node A is streamed by node B', async () => {
    const adminA = await loginAs(a, 'boss', 'administrator', ['08']);
    const viewerB = await loginAs(b, 'xem', 'viewer', ['08']);
    const d = await enrolDevice(a, adminA, '08/02503');
    const res = await viewerB.request('GET', '/api/v1/events?types=alert');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = '';
    const read = async (until: (t: string) => boolean) => {
      const end = Date.now() + 15_000;
      while (!until(text) && Date.now() < end) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
    };
    await read((t) => t.includes('event: hello'));
    const c = await connectDevice(a.mqttUrl, d.deviceId, d.password);
    await c.publishAsync(deviceTopic(d.deviceId, 'health'), JSON.stringify(health(true)), { qos: 1 });
    await read((t) => t.includes('alert.opened'));
    await reader.cancel();
    c.end(true);
    await closed(c);
    expect(text).toContain('event: alert.opened');
    expect(text).toContain(d.deviceId);
    // node B never saw the device: the alert came over the cluster bus
    expect(await b.deps.store.devices.get(d.deviceId)).toBeUndefined();
  }, 60_000);
});
