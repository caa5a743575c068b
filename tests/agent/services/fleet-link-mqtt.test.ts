import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt } from '../../../agent/src/services/fleet/fleet-link-mqtt.js';
import { cleanupTempDirs, tempDir } from './helpers.js';
import { startBroker } from './mqtt-fixtures.js';

const clients: MqttClient[] = [];
const closers: (() => Promise<void>)[] = [];

function connected(c: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const close of closers.splice(0)) await close();
});
afterAll(cleanupTempDirs);

describe('connectMqtt (the fleet link without mqtt.js transport builders)', () => {
  it('connects over mqtt:// with the credentials of the URL and round-trips a message', async () => {
    const b = await startBroker();
    closers.push(() => b.close());
    const seen: { user?: string; pass?: string }[] = [];
    b.broker.authenticate = (_client, user, pass, done) => {
      seen.push({ user, pass: pass?.toString() });
      done(null, user === 'trạm 1' && pass?.toString() === 'mật:khẩu');
    };
    const port = new URL(b.url).port;
    const c = connectMqtt(
      `mqtt://${encodeURIComponent('trạm 1')}:${encodeURIComponent('mật:khẩu')}@127.0.0.1:${port}`,
      {
        clientId: 'dev-1',
        reconnectPeriod: 0,
      },
    );
    clients.push(c);
    await connected(c);
    await c.subscribeAsync('t/x', { qos: 1 });
    const got = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
    await c.publishAsync('t/x', 'xin chào', { qos: 1 });
    expect(await got).toBe('xin chào');
    expect(seen).toEqual([{ user: 'trạm 1', pass: 'mật:khẩu' }]);
  });

  it('lets explicit username/password options win over the URL', async () => {
    const b = await startBroker();
    closers.push(() => b.close());
    b.broker.authenticate = (_client, user, pass, done) =>
      done(null, user === 'a' && pass?.toString() === 'b');
    const port = new URL(b.url).port;
    const c = connectMqtt(`mqtt://x:y@127.0.0.1:${port}`, {
      username: 'a',
      password: 'b',
      reconnectPeriod: 0,
    });
    clients.push(c);
    await connected(c);
    expect(c.connected).toBe(true);
  });

  describe('mqtts://', () => {
    let cert: Buffer;
    let key: Buffer;
    beforeAll(async () => {
      const dir = await tempDir('loa-mqtts-');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '2',
          '-subj',
          '/CN=loa-test',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      cert = readFileSync(join(dir, 'cert.pem'));
      key = readFileSync(join(dir, 'key.pem'));
    });

    async function tlsBroker(): Promise<string> {
      const broker = await Aedes.createBroker();
      const server: Server = createTlsServer({ cert, key }, (s) => broker.handle(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      closers.push(async () => {
        await new Promise<void>((r) => server.close(() => r()));
        await new Promise<void>((r) => broker.close(() => r()));
      });
      return `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it('connects with the CA that signed the broker certificate', async () => {
      const url = await tlsBroker();
      const c = connectMqtt(url, { ca: cert, reconnectPeriod: 0 });
      clients.push(c);
      await connected(c);
      await c.publishAsync('t/y', 'ok', { qos: 1 });
    });

    it('refuses a certificate it cannot verify', async () => {
      const url = await tlsBroker();
      const c = connectMqtt(url, { reconnectPeriod: 0 });
      clients.push(c);
      await expect(connected(c)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    });
  });
});
