import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC } from '../../../fleet-server/src/metrics.js';
import { connectDevice, enrolDevice, loginAs, startTestServer, type TestServer } from '../app/harness.js';

describe('system endpoints and lifecycle', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('GET /healthz answers 200 JSON; GET /metrics answers Prometheus text with the fleet gauges', async () => {
    s = await startTestServer();
    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', devicesOnline: 0 });
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    s.deps.metrics.set(METRIC.alertsOpen, 3);
    // a refused connection gives a labelled sample
    await expect(connectDevice(s.mqttUrl, d.deviceId, 'wrong-password')).rejects.toThrow();
    const m = await fetch(`${s.url}/metrics`);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toMatch(/^# TYPE loa_devices_online gauge$/m);
    expect(text).toMatch(/^loa_devices_online 1$/m);
    expect(text).toMatch(/^loa_devices_enrolled 1$/m);
    expect(text).toMatch(/^loa_alerts_open 3$/m);
    expect(text).toMatch(/^loa_ingest_lag_seconds /m);
    expect(text).toMatch(/^loa_mqtt_messages_per_second /m);
    // every sample line is "name{labels} number"
    for (const line of text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#')))
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+]+$/);
    // every family has HELP and TYPE; a counter is named …_total; cumulative store figures are counters
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    const helps = new Map([...text.matchAll(/^# HELP (\S+) (.+)$/gm)].map((m) => [m[1], m[2]]));
    expect([...types.keys()].sort()).toEqual([...helps.keys()].sort());
    for (const [name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/);
    expect(types.get('loa_registry_writes_total')).toBe('counter');
    expect(types.get('loa_registry_written_bytes_total')).toBe('counter');
    // a labelled family names its label in its HELP text
    const labelled = [...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-z_]+)=/gm)];
    expect(labelled.map((m) => m[1])).toContain('loa_mqtt_rejected_total');
    for (const m of labelled) expect(helps.get(m[1] as string)).toContain(`label ${m[2]}`);
    // process and Node.js metrics
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    c.end(true);
  });

  it('creates a first administrator with a one-time password on a fresh data dir only, never a default', async () => {
    s = await startTestServer();
    expect(s.bootstrap?.username).toBe('admin');
    expect(s.bootstrap?.password).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
    const me = await fetch(`${s.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: s.bootstrap?.password }),
    });
    const body = (await me.json()) as { mustChangePassword: boolean; scope: string[] };
    expect(body).toMatchObject({ mustChangePassword: true, scope: ['*'] });
    const dir = s.dir;
    await s.stop();
    s = undefined;
    const again = await startTestServer({ dir });
    try {
      expect(again.bootstrap).toBeNull();
      expect(await again.deps.store.users.count()).toBe(1);
    } finally {
      await again.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops cleanly while devices are connected over TCP and WebSocket', async () => {
    s = await startTestServer();
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    const e = await enrolDevice(s, admin, '08/02506');
    await connectDevice(s.mqttUrl, d.deviceId, d.password, { reconnectPeriod: 0 });
    await connectDevice(`${s.url.replace('http', 'ws')}/mqtt`, e.deviceId, e.password, {
      reconnectPeriod: 0,
    });
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(20_000);
    s = undefined;
  });
});
