/**
 * Hostile request bodies over a real socket: a chunked body declares no length, so the cap has
 * to hold while the body streams in. The server must answer 413 PAYLOAD_TOO_LARGE (or the route's
 * own *_TOO_LARGE code) and close the connection long before the client has sent everything.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { startTestServer, type TestServer } from '../app/harness.js';
import { type Harness, startHarness } from '../publish/harness.js';

interface ChunkedResult {
  status: number;
  head: string;
  body: string;
  /** Bytes of body the client managed to hand to the socket before the server closed it. */
  sent: number;
}

/** Streams `total` bytes of `fill` as a chunked body; stops when the server answers or closes. */
function chunkedPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  total: number,
  fill = 'x',
): Promise<ChunkedResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let received = '';
    let sent = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, fill);
    const finish = () => {
      if (closed) return;
      closed = true;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (!m) {
        reject(new Error(`no response (sent ${sent} bytes): ${received.slice(0, 200)}`));
        return;
      }
      const [head = '', body = ''] = received.split('\r\n\r\n');
      resolve({ status: Number(m[1]), head, body, sent });
    };
    sock.on('data', (d) => {
      received += d.toString('utf8');
    });
    sock.on('error', () => finish());
    sock.on('close', () => finish());
    const pump = () => {
      while (!closed && !sock.destroyed && sent < total) {
        const piece = `${chunk.length.toString(16)}\r\n`;
        sent += chunk.length;
        const ok = sock.write(piece) && sock.write(chunk) && sock.write('\r\n');
        if (!ok) {
          sock.once('drain', pump);
          return;
        }
      }
      if (sent >= total && !sock.destroyed) sock.write('0\r\n\r\n');
    };
    sock.on('connect', () => {
      const lines = [
        `POST ${path} HTTP/1.1`,
        `Host: ${u.host}`,
        'Transfer-Encoding: chunked',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        '',
        '',
      ];
      sock.write(lines.join('\r\n'));
      pump();
    });
  });
}

const TOTAL = 200 * 1024 * 1024;
/** Far below TOTAL: what the kernel's socket buffers can take before the server closes. */
const STOPPED_EARLY = 32 * 1024 * 1024;

describe('request bodies are capped while they stream in', () => {
  let s: TestServer | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
    await h?.stop();
    h = undefined;
  });

  it('a chunked JSON body to the login route gets 413 PAYLOAD_TOO_LARGE and the connection closes early', async () => {
    s = await startTestServer();
    const r = await chunkedPost(
      s.url,
      '/api/v1/auth/login',
      { 'Content-Type': 'application/json' },
      TOTAL,
      ' ',
    );
    expect(r.status).toBe(413);
    expect(r.head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(r.body)).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 1048576 } },
    });
    expect(r.sent).toBeLessThan(STOPPED_EARLY);
    // the server is still answering
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('a chunked form body to the dashboard login gets 413 with the default form cap', async () => {
    s = await startTestServer({
      plugins: [dashboardPlugin()],
    });
    const r = await chunkedPost(
      s.url,
      '/ui/login',
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      TOTAL,
      'a',
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 65536 } },
    });
    expect(r.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('a multipart body to a dashboard form is capped too', async () => {
    s = await startTestServer({
      plugins: [dashboardPlugin()],
    });
    const r = await chunkedPost(
      s.url,
      '/ui/login',
      { 'Content-Type': 'multipart/form-data; boundary=zzz' },
      TOTAL,
      'a',
    );
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('a raw upload is capped at the upload limit while streaming, keeping its own code', async () => {
    h = await startHarness({ maxUploadBytes: 2 * 1024 * 1024 });
    const editor = await h.user('ed', 'editor', ['08']);
    const r = await chunkedPost(
      h.server.url,
      '/api/v1/content/upload?title=x&unit=08/02500&lang=vi&name=a.mp3',
      { Authorization: `Bearer ${editor.token}`, 'Content-Type': 'application/octet-stream' },
      TOTAL,
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toMatch(/^(UPLOAD_TOO_LARGE|PAYLOAD_TOO_LARGE)$/);
    expect(r.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('bodies within the cap still work, chunked or not', async () => {
    s = await startTestServer();
    const r = await chunkedPost(
      s.url,
      '/api/v1/auth/login',
      { 'Content-Type': 'application/json', Connection: 'close' },
      0,
    );
    // an empty chunked JSON body is bad JSON, not too large
    expect(r.status).toBe(400);
    const ok = await fetch(`${s.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'x' }),
    });
    expect(ok.status).toBe(401);
  });
});
