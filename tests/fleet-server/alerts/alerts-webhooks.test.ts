/**
 * Health ingest → alert rules → open/acknowledged/resolved, and outgoing webhooks (HMAC-signed,
 * retried with backoff) to a real loopback HTTP receiver.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deviceTopic, type Health } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../../fleet-server/src/domain/model.js';
import { signWebhook } from '../../../fleet-server/src/services/webhooks.js';
import {
  eventually,
  type Harness,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

function health(seq: number, over: Partial<Health> = {}, inputs: Partial<Health['inputs']> = {}): Health {
  return {
    at: new Date().toISOString(),
    seq,
    agentVersion: '0.1.0',
    uptimeS: 3600 + seq,
    diskFreeMb: 5000,
    inputs: { mains: true, door: 'closed', ampFault: false, ...inputs },
    relays: { amplifier: false },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
    modem: { rssiDbm: -70, operator: 'Viettel', registration: 'home' },
    ...over,
  };
}

describe('alerts and webhooks', () => {
  let h: Harness;
  let dev: TestDevice;
  let operator: TestUser;
  let admin: TestUser;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let failFirst = 1;
  let secret = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(503).end();
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    h = await startHarness({ alertRules: { offlineMinutes: 10 } });
    dev = await h.device('st-02500-11', '08/02500');
    operator = await h.user('vanhanh.xa', 'operator', ['08/02500']);
    admin = await h.user('quantri.tinh', 'administrator', ['*']);
  });
  afterAll(async () => {
    await h?.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('only an administrator manages webhooks; the secret is shown once', async () => {
    expect(
      (await h.api(operator, 'POST', '/api/v1/webhooks', { url: receiverUrl, events: ['alert.opened'] }))
        .status,
    ).toBe(403);
    const bad = await h.api(admin, 'POST', '/api/v1/webhooks', {
      url: 'file:///etc/passwd',
      events: ['alert.opened'],
    });
    expect(bad.status).toBe(400);
    const r = await h.api<{ id: string; secret: string }>(admin, 'POST', '/api/v1/webhooks', {
      url: receiverUrl,
      events: ['alert.opened', 'alert.resolved', 'alert.acknowledged'],
    });
    expect(r.status).toBe(201);
    expect(r.body.secret.length).toBeGreaterThan(30);
    const list = await h.api<Record<string, unknown>[]>(admin, 'GET', '/api/v1/webhooks');
    expect(list.body[0]).not.toHaveProperty('secret');
    secret = r.body.secret;
  });

  it('an amplifier fault opens an alert, a signed webhook is delivered after a retry', async () => {
    const c = await h.connect(dev, []);
    await c.publishAsync(deviceTopic(dev.id, 'health'), JSON.stringify(health(1, {}, { ampFault: true })), {
      qos: 1,
    });
    const alert = await eventually(
      async () =>
        (await h.server.deps.store.alerts.list((a) => a.deviceId === dev.id && a.rule === 'amp-fault'))[0],
    );
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', unit: '08/02500' });
    expect(alert.message).toContain('khuếch đại');
    const hits = await eventually(() => (received.length >= 2 ? received : undefined));
    expect(hits[0]?.body).toBe(hits[1]?.body);
    expect(hits[0]?.headers['x-loa-delivery']).toBe(hits[1]?.headers['x-loa-delivery']);
    const last = hits[1] as Received;
    const ts = Number(last.headers['x-loa-timestamp']);
    expect(last.headers['x-loa-signature']).toBe(signWebhook(secret, ts, last.body));
    const payload = JSON.parse(last.body) as { event: string; data: AlertRecord };
    expect(payload.event).toBe('alert.opened');
    expect(payload.data.id).toBe(alert.id);
    await eventually(() =>
      h.svc.webhooks.deliveries().find((d) => d.status === 'delivered' && d.attempts === 2),
    );
  });

  it('an operator acknowledges it; it resolves when the fault clears', async () => {
    const alert = h.svc.alerts.active(dev.id).find((a) => a.rule === 'amp-fault') as AlertRecord;
    const outsider = await h.user('vanhanh.khac', 'operator', ['08/02600']);
    expect((await h.api(outsider, 'POST', `/api/v1/alerts/${alert.id}/ack`)).status).toBe(403);
    const ack = await h.api<AlertRecord>(operator, 'POST', `/api/v1/alerts/${alert.id}/ack`);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'vanhanh.xa' });
    const c = await h.connect(dev, []);
    await c.publishAsync(deviceTopic(dev.id, 'health'), JSON.stringify(health(2)), { qos: 1 });
    const resolved = await eventually(async () => {
      const a = await h.server.deps.store.alerts.get(alert.id);
      return a?.state === 'resolved' ? a : undefined;
    });
    expect(resolved.resolvedAt).toBeTruthy();
    expect((await h.api<AlertRecord[]>(operator, 'GET', '/api/v1/alerts')).body).toEqual([]);
    const again = await h.api<{ error: { code: string } }>(
      operator,
      'POST',
      `/api/v1/alerts/${alert.id}/ack`,
    );
    expect(again.status).toBe(409);
    await eventually(() =>
      received.some((r) => (JSON.parse(r.body) as { event: string }).event === 'alert.resolved'),
    );
  });

  it('several conditions at once: mains lost, door open, weak signal, clock untrusted, dead air, disk low', async () => {
    const c = await h.connect(dev, []);
    const bad = health(
      3,
      {
        diskFreeMb: 50,
        deadAir: true,
        clock: { trusted: false, source: 'none' },
        modem: { rssiDbm: -111, operator: 'Viettel', registration: 'home' },
      },
      { mains: false, door: 'open' },
    );
    await c.publishAsync(deviceTopic(dev.id, 'health'), JSON.stringify(bad), { qos: 1 });
    const rules = await eventually(() => {
      const r = h.svc.alerts
        .active(dev.id)
        .map((a) => a.rule)
        .sort();
      return r.length === 6 ? r : undefined;
    });
    expect(rules).toEqual([
      'clock-untrusted',
      'dead-air',
      'disk-low',
      'door-open',
      'mains-lost',
      'weak-signal',
    ]);
  });

  it('offline for longer than N minutes raises "offline"; reconnecting resolves it', async () => {
    const other = await h.device('st-02500-12', '08/02500');
    const c = await h.connect(other, []);
    await eventually(() => h.svc.ingest.live(other.id)?.online);
    await c.endAsync(true);
    await eventually(() => h.svc.ingest.live(other.id)?.online === false);
    await h.svc.alerts.tick();
    expect(h.svc.alerts.active(other.id)).toEqual([]);
    h.advance(11 * 60_000);
    await h.svc.alerts.tick();
    const off = h.svc.alerts.active(other.id);
    expect(off.map((a) => a.rule)).toEqual(['offline']);
    await h.connect(other, []);
    await eventually(() => h.svc.ingest.live(other.id)?.online);
    await h.svc.alerts.tick();
    await eventually(() => h.svc.alerts.active(other.id).length === 0);
    expect((await h.server.deps.store.alerts.get(off[0]?.id as string))?.state).toBe('resolved');
  });
});
