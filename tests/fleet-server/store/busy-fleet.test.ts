import { deviceTopic, type Health } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPlugin } from '../../../fleet-server/src/plugins/content.js';
import {
  closed,
  connectDevice,
  enrolDevice,
  loginAs,
  startTestServer,
  type TestServer,
  waitFor,
} from '../app/harness.js';

const health = (seq: number): Health => ({
  at: new Date().toISOString(),
  seq,
  agentVersion: '0.1.0',
  uptimeS: seq,
  diskFreeMb: 5000,
  modem: { rssiDbm: -70, operator: 'Viettel', registration: 'home' },
  inputs: { mains: true, door: 'closed', ampFault: false },
  relays: { amplifier: false },
  onAir: null,
  bundles: [],
  clock: { trusted: true, source: 'ntp' },
});

describe('a busy fleet does not rewrite the registry per message', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      config: {
        // every report written: this test counts segment lines
        healthHistoryEveryS: 0,
        broker: {
          ratePerSecond: 10_000,
          burst: 10_000,
          maxViolations: 50,
          drainTimeoutMs: 5000,
          connectTimeoutMs: 5000,
        },
      },
      plugins: [contentPlugin({ masterKey: Buffer.alloc(32, 1) })],
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('500 health messages through MQTT and ingest: segment lines appended, registry writes unchanged', async () => {
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const devices = await Promise.all(
      ['08/02500', '08/02503', '08/02506'].map((u) => enrolDevice(s, admin, u)),
    );
    const clients = await Promise.all(devices.map((d) => connectDevice(s.mqttUrl, d.deviceId, d.password)));
    // first message of each device may open/resolve state once; measure after a warm-up round
    await Promise.all(
      clients.map((c, i) =>
        c.publishAsync(deviceTopic(devices[i]?.deviceId as string, 'health'), JSON.stringify(health(0)), {
          qos: 1,
        }),
      ),
    );
    await waitFor(() => devices.every((d) => s.deps.store.health.latest(d.deviceId) !== undefined));
    await s.deps.store.flush();
    const before = s.deps.store.stats();
    const n = 500;
    for (let k = 1; k <= n; k++) {
      const i = k % clients.length;
      await clients[i]?.publishAsync(
        deviceTopic(devices[i]?.deviceId as string, 'health'),
        JSON.stringify(health(k)),
        { qos: 1 },
      );
    }
    await waitFor(() => s.deps.store.stats().healthAppended - before.healthAppended >= n);
    await s.deps.store.flush();
    const after = s.deps.store.stats();
    expect(after.healthAppended - before.healthAppended).toBe(n);
    expect(after.registryWrites - before.registryWrites).toBe(0);
    expect(after.registryBytesWritten - before.registryBytesWritten).toBe(0);
    for (const c of clients) {
      c.end(true);
      await closed(c);
    }
  });
});

describe('health history thinning (the default: one report per device per 5 minutes, plus changes)', () => {
  let s: TestServer;
  const content = contentPlugin({ masterKey: Buffer.alloc(32, 1) });
  beforeAll(async () => {
    s = await startTestServer({
      config: { broker: { ratePerSecond: 10_000, burst: 10_000, maxViolations: 50 } },
      plugins: [content],
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('writes the first report and the ones where something changed; the live state has every report', async () => {
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02500');
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    const before = s.deps.store.stats().healthAppended;
    const topic = deviceTopic(d.deviceId, 'health');
    for (let k = 1; k <= 30; k++) {
      const h = health(k);
      // report 20: the mains input drops (a power cut at the cabinet)
      if (k >= 20) h.inputs = { ...h.inputs, mains: false };
      await c.publishAsync(topic, JSON.stringify(h), { qos: 1 });
    }
    await waitFor(() => content.services.ingest.live(d.deviceId)?.health?.seq === 30);
    await waitFor(() => s.deps.store.stats().healthAppended - before >= 2);
    const kept = await s.deps.store.health.query({ deviceId: d.deviceId });
    expect(kept.map((e) => e.health.seq)).toEqual([1, 20]);
    expect(s.deps.metrics.get('loa_health_history_skipped_total')).toBe(28);
    c.end(true);
    await closed(c);
  });
});
