import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpFetch } from '../../agent/src/http/client.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handler(req, res, body));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function readAll(body: AsyncIterable<Uint8Array> | null): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body ?? []) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString();
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('httpFetch (node:http client for enrolment and downloads)', () => {
  it('sends method, headers and body; exposes status, headers and the body', async () => {
    const seen: { method?: string; auth?: string; type?: string; body?: string }[] = [];
    const base = await serve((req, res, body) => {
      seen.push({
        method: req.method,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body,
      });
      res.writeHead(201, { 'content-type': 'application/json', 'x-thing': 'a' });
      res.end(JSON.stringify({ ok: 'đúng' }));
    });
    const res = await httpFetch(`${base}/api`, {
      method: 'POST',
      headers: { Authorization: 'Basic eDp5', 'content-type': 'application/json' },
      body: JSON.stringify({ tên: 'trạm' }),
    });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('X-Thing')).toBe('a');
    expect(res.headers.get('missing')).toBeNull();
    expect(await res.json()).toEqual({ ok: 'đúng' });
    expect(seen).toEqual([
      { method: 'POST', auth: 'Basic eDp5', type: 'application/json', body: '{"tên":"trạm"}' },
    ]);
  });

  it('reports a non-2xx status as not ok and lets the caller cancel the body', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(503);
      res.end('bận');
    });
    const res = await httpFetch(`${base}/x`);
    expect(res.status).toBe(503);
    expect(res.ok).toBe(false);
    await res.body?.cancel();
  });

  it('follows redirects: 303 turns a POST into a GET, authorization never goes to another origin', async () => {
    const other: { path?: string; auth?: string }[] = [];
    const otherBase = await serve((req, res) => {
      other.push({ path: req.url, auth: req.headers.authorization });
      res.end('blob');
    });
    const hits: { method?: string; path?: string; auth?: string; body: string }[] = [];
    const base = await serve((req, res, body) => {
      hits.push({ method: req.method, path: req.url, auth: req.headers.authorization, body });
      if (req.url === '/post') res.writeHead(303, { location: '/after' }).end();
      else if (req.url === '/after') res.end('here');
      else res.writeHead(302, { location: `${otherBase}/cdn/blob` }).end();
    });
    const a = await httpFetch(`${base}/post`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Basic a' },
    });
    expect(await readAll(a.body)).toBe('here');
    const b = await httpFetch(`${base}/blob`, { headers: { authorization: 'Basic a' } });
    expect(await readAll(b.body)).toBe('blob');
    expect(hits).toEqual([
      { method: 'POST', path: '/post', auth: 'Basic a', body: '{}' },
      { method: 'GET', path: '/after', auth: 'Basic a', body: '' },
      { method: 'GET', path: '/blob', auth: 'Basic a', body: '' },
    ]);
    expect(other).toEqual([{ path: '/cdn/blob', auth: undefined }]);
  });

  it('gives up after 5 redirects with HTTP_REDIRECTS', async () => {
    let n = 0;
    const base = await serve((_req, res) => {
      n++;
      res.writeHead(307, { location: `/loop${n}` }).end();
    });
    await expect(httpFetch(`${base}/loop`)).rejects.toMatchObject({ code: 'HTTP_REDIRECTS' });
    expect(n).toBe(6);
  });

  it('aborts a request waiting for headers with the signal reason', async () => {
    const base = await serve(() => {
      // never answers
    });
    const ctrl = new AbortController();
    const pending = httpFetch(`${base}/slow`, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(new Error('idle timeout')), 50);
    await expect(pending).rejects.toThrow('idle timeout');
    // As fetch does: an already aborted signal rejects with its reason (here the AbortError).
    await expect(httpFetch(`${base}/slow`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(httpFetch(`${base}/slow`, { signal: AbortSignal.abort('why') })).rejects.toMatchObject({
      code: 'HTTP_ABORTED',
    });
  });

  it('aborts a body being read with the signal reason', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(10));
    });
    const ctrl = new AbortController();
    const res = await httpFetch(`${base}/body`, { signal: ctrl.signal });
    const read = readAll(res.body);
    setTimeout(() => ctrl.abort(new Error('stopping')), 50);
    await expect(read).rejects.toThrow('stopping');
  });

  it('rejects the body iteration when the connection ends before content-length', async () => {
    const base = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(10), () => req.socket.destroy());
    });
    const res = await httpFetch(`${base}/short`);
    await expect(readAll(res.body)).rejects.toThrow();
  });

  it('rejects a refused connection and an unsupported scheme', async () => {
    const base = await serve((_req, res) => res.end());
    const port = new URL(base).port;
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await expect(httpFetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(httpFetch('ftp://127.0.0.1/x')).rejects.toMatchObject({ code: 'HTTP_BAD_URL' });
  });
});
