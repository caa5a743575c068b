/**
 * Web Push for emergencies against a local HTTP endpoint acting as the push service: the browser's
 * side is played with real keys (P-256 ECDH + auth secret), the request the server sends carries a
 * VAPID JWT that verifies with the server's public key, and its aes128gcm body decrypts (http_ece,
 * the library browsers' push stacks agree with) to the alert. A 410 ends the subscription; an
 * endpoint aimed at a private address is refused.
 */
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CitizensHarness, startCitizens } from './harness.js';

const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(
    body: Buffer,
    opts: { version: string; privateKey: ReturnType<typeof createECDH>; authSecret: Buffer },
  ): Buffer;
};

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let c: CitizensHarness;
let push: Server;
let base: string;
const received: Received[] = [];
const b64u = (b: Buffer) => b.toString('base64url');

beforeAll(async () => {
  c = await startCitizens();
  push = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = req.url?.startsWith('/gone') ? 410 : 201;
      res.end();
    });
  });
  await new Promise<void>((r) => push.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(push.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  push?.close();
  await c?.h.stop();
});

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } };
}

const subscribe = (unit: string, body: unknown) =>
  fetch(`${c.h.server.url}/p/${unit}/push/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('Web Push for emergencies', () => {
  it('delivers an encrypted, VAPID-signed notification that the subscriber can decrypt', async () => {
    const key = (await (await fetch(`${c.h.server.url}/p/08/02509/push/key`)).json()) as {
      publicKey: string;
    };
    const raw = Buffer.from(key.publicKey, 'base64url');
    expect(raw.length).toBe(65);
    const b = browserKeys();
    expect((await subscribe('08/02509', { endpoint: `${base}/sub/one`, keys: b.keys })).status).toBe(201);
    const gone = browserKeys();
    expect((await subscribe('08/02509', { endpoint: `${base}/gone/two`, keys: gone.keys })).status).toBe(201);
    // another commune's subscriber hears nothing of this alert
    expect(
      (await subscribe('08/02503', { endpoint: `${base}/sub/other`, keys: browserKeys().keys })).status,
    ).toBe(201);

    await c.emergency('08/02509', 'Cảnh báo sạt lở đất', 'Bà con thôn Khuôn Lăn di chuyển ngay.');
    const until = Date.now() + 20_000;
    while (
      received.filter((r) => r.path.startsWith('/sub/one') || r.path.startsWith('/gone')).length < 2 &&
      Date.now() < until
    )
      await new Promise((r) => setTimeout(r, 100));
    const one = received.find((r) => r.path === '/sub/one') as Received;
    expect(one).toBeDefined();
    expect(received.some((r) => r.path === '/sub/other')).toBe(false);
    expect(one.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(one.headers.ttl)).toBeGreaterThan(0);
    // VAPID: "vapid t=<JWT>, k=<server public key>"; the JWT verifies with that key, audience = push origin
    const m = /^vapid t=([^,]+), k=(.+)$/.exec(one.headers.authorization as string) as RegExpExecArray;
    expect(m[2]).toBe(key.publicKey);
    const [h, p, sig] = (m[1] as string).split('.') as [string, string, string];
    const jwk = { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33)) };
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(sig, 'base64url'),
    );
    expect(ok).toBe(true);
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({ aud: base });
    const plain = ece.decrypt(one.body, { version: 'aes128gcm', privateKey: b.ecdh, authSecret: b.auth });
    const payload = JSON.parse(plain.toString('utf8'));
    expect(payload).toMatchObject({ title: '⚠ Cảnh báo sạt lở đất', url: '/p/08/02509' });
    expect(payload.body).toContain('Khuôn Lăn');
    // the push service said 410 Gone: that subscription is removed
    const until2 = Date.now() + 5000;
    while (
      (await c.h.server.deps.store.pushSubscriptions.count((s) => s.endpoint.includes('/gone/'))) > 0 &&
      Date.now() < until2
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(await c.h.server.deps.store.pushSubscriptions.count((s) => s.endpoint.includes('/gone/'))).toBe(0);
    expect(await c.h.server.deps.store.pushSubscriptions.count((s) => s.endpoint.includes('/sub/one'))).toBe(
      1,
    );
  });

  it('refuses endpoints aimed at private addresses or plain HTTP, and malformed keys', async () => {
    const k = browserKeys().keys;
    for (const endpoint of [
      'https://10.0.0.1/push',
      'http://push.example.com/x',
      'https://localhost/x',
      'https://[::1]/x',
      'file:///etc/passwd',
    ]) {
      const r = await subscribe('08/02509', { endpoint, keys: k });
      expect(r.status, endpoint).toBe(400);
    }
    expect(
      (await subscribe('08/02509', { endpoint: `${base}/sub/x`, keys: { p256dh: 'short', auth: 'x' } }))
        .status,
    ).toBe(400);
    expect((await subscribe('08/99999', { endpoint: `${base}/sub/x`, keys: k })).status).toBe(404);
  });
});
