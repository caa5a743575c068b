/**
 * The fleet server's TLS key pin, enforced by the agent's clients against real TLS servers on
 * 127.0.0.1 with self-signed certificates made by openssl: HTTPS (enrolment, downloads) and MQTT
 * over TLS (aedes behind node:tls). The right pin connects; a wrong pin is refused with
 * TLS_PIN_MISMATCH before a byte of the request (credentials included) reaches the server.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch } from '../../agent/src/http/client.js';
import { pinOf } from '../../agent/src/http/tls-pin.js';
import { connectMqtt } from '../../agent/src/services/fleet/fleet-link-mqtt.js';
import { cleanupTempDirs, tempDir } from './services/helpers.js';

let dir = '';
let cert = '';
let key = '';
let rightPin = '';
let otherPin = '';
let https: HttpsServer;
let httpsUrl = '';
let tls: TlsServer;
let broker: Aedes;
let mqttsUrl = '';
const httpsSeen: string[] = [];
const mqttAuths: string[] = [];

function selfSigned(name: string): { cert: string; key: string; pin: string } {
  const c = join(dir, `${name}.crt`);
  const k = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      k,
      '-out',
      c,
    ],
    { stdio: 'ignore' },
  );
  // the pin as the technician guide makes it
  const pin = execFileSync('sh', [
    '-c',
    `openssl x509 -in '${c}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ])
    .toString()
    .trim();
  return { cert: readFileSync(c, 'utf8'), key: readFileSync(k, 'utf8'), pin: `sha256/${pin}` };
}

beforeAll(async () => {
  dir = await tempDir('loa-tls-');
  const server = selfSigned('server');
  cert = server.cert;
  key = server.key;
  rightPin = server.pin;
  otherPin = selfSigned('other').pin;
  https = createHttpsServer({ cert, key }, (req, res) => {
    httpsSeen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, _password, done) => {
    mqttAuths.push(username ?? '');
    done(null, true);
  };
  tls = createTlsServer({ cert, key }, (s) => broker.handle(s));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  mqttsUrl = `mqtts://127.0.0.1:${(tls.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  https.close();
  tls.close();
  await new Promise<void>((r) => broker.close(() => r()));
  await cleanupTempDirs();
});

describe('TLS pin', () => {
  it('computes the same pin as openssl', () => {
    const der = Buffer.from(cert.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(pinOf(der)).toBe(rightPin);
  });

  it('HTTPS: the right pin connects to a self-signed server; a wrong pin is refused before the request', async () => {
    const ok = await createHttpFetch({ tlsPin: rightPin })(`${httpsUrl}/api/v1/enrol`, {
      headers: { authorization: 'Bearer right' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    const err = await createHttpFetch({ tlsPin: otherPin })(`${httpsUrl}/blobs/x`, {
      headers: { authorization: 'Bearer secret' },
    }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('TLS_PIN_MISMATCH');
    expect(err?.message).toContain(otherPin);
    expect(httpsSeen).toEqual(['GET /api/v1/enrol Bearer right']);
  });

  it('MQTT over TLS: the right pin connects; a wrong pin is refused before CONNECT (no password sent)', async () => {
    const good = connectMqtt(
      mqttsUrl,
      { clientId: 'dev-ok', username: 'dev-ok', password: 'pw', reconnectPeriod: 0 },
      rightPin,
    );
    await new Promise<void>((resolve, reject) => {
      good.once('connect', () => resolve());
      good.once('error', reject);
    });
    await good.endAsync();
    const bad = connectMqtt(
      mqttsUrl,
      { clientId: 'dev-bad', username: 'dev-bad', password: 'secret', reconnectPeriod: 0 },
      otherPin,
    );
    const err = await new Promise<{ code?: string }>((resolve) =>
      bad.once('error', (e) => resolve(e as { code?: string })),
    );
    bad.end(true);
    expect(err.code).toBe('TLS_PIN_MISMATCH');
    await new Promise((r) => setTimeout(r, 200));
    expect(mqttAuths).toEqual(['dev-ok']);
  });
});
