import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusForCode } from '../../../fleet-server/src/http/error-status.js';
import { contentPlugin } from '../../../fleet-server/src/plugins/content.js';
import { loginAs, startTestServer, type TestServer } from './harness.js';

describe('createApp: errors, route table, OpenAPI', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('maps error codes to statuses', () => {
    expect(statusForCode('AUTH_REQUIRED')).toBe(401);
    expect(statusForCode('FORBIDDEN_SCOPE')).toBe(403);
    expect(statusForCode('DEVICE_NOT_FOUND')).toBe(404);
    expect(statusForCode('USER_EXISTS')).toBe(409);
    expect(statusForCode('SIGNATURE_INVALID')).toBe(422);
    expect(statusForCode('SOMETHING_ELSE')).toBe(400);
    expect(statusForCode('MEDIA_UNSUPPORTED')).toBe(415);
    expect(statusForCode('TOOL_TIMEOUT')).toBe(504);
  });

  it('answers JSON errors {error:{code,message}} for unknown paths, bad JSON, wrong media type, oversized bodies', async () => {
    const nf = await s.app.request('/api/v1/nope');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const post = (body: string, type = 'application/json') =>
      s.app.request('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': type }, body });
    expect(await (await post('{"username":')).json()).toMatchObject({ error: { code: 'BAD_JSON' } });
    expect((await post('username=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    const big = await post(JSON.stringify({ username: 'x', password: 'y'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    const extra = await post(JSON.stringify({ username: 'x', password: 'y', admin: true }));
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('every non-public route refuses anonymous callers with 401, and a viewer on every write route', async () => {
    const viewer = await loginAs(s, 'viewer', 'viewer', ['08']);
    for (const r of s.app.api.routes) {
      const path = r.path.replace(/:path\{[^}]*\}/, '08/02500').replace(/:([A-Za-z0-9]+)/g, 'x');
      if (r.auth === 'public') continue;
      const anon = await fetch(`${s.url}${path}`, { method: r.method.toUpperCase() });
      expect(anon.status, `${r.method} ${path}`).toBe(401);
      if (r.permission && r.permission !== 'read') {
        const v = await viewer.request(r.method.toUpperCase(), path, r.body ? {} : undefined);
        expect(v.status, `viewer ${r.method} ${path}`).toBe(403);
      }
    }
  });

  it('serves an OpenAPI 3.1 document of every route with its access rule and JSON schemas', async () => {
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            description: string;
            requestBody?: { content: Record<string, { schema: { properties?: object } }> };
          }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/enrol', '/api/v1/units/{path}/groups', '/api/v1/devices/{id}/revoke']),
    );
    const count = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    expect(count).toBe(s.app.api.routes.length);
    const enrol = doc.paths['/api/v1/enrol']?.post;
    expect(enrol?.description).toContain('Access: public');
    expect(Object.keys(enrol?.requestBody?.content['application/json']?.schema.properties ?? {})).toEqual(
      expect.arrayContaining(['token', 'publicKey', 'hardware']),
    );
    expect(doc.paths['/api/v1/users']?.post?.description).toContain('permission: user.manage');
  });

  it('sets protective headers', async () => {
    const r = await fetch(`${s.url}/healthz`);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('route table with the content plugin: every route enforces login and role', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ plugins: [contentPlugin({ masterKey: Buffer.alloc(32, 3) })] });
  });
  afterAll(async () => {
    await s.close();
  });

  it('anonymous → 401 on every non-public route; a viewer → 403 on every write route', async () => {
    const viewer = await loginAs(s, 'viewer', 'viewer', ['08']);
    expect(s.app.api.routes.length).toBeGreaterThan(40);
    for (const r of s.app.api.routes) {
      if (r.auth === 'public') continue;
      const path = r.path.replace(/:path\{[^}]*\}/, '08/02500').replace(/:([A-Za-z]+)(\{[^}]*\})?/g, 'x');
      const anon = await fetch(`${s.url}${path}`, { method: r.method.toUpperCase() });
      expect(anon.status, `${r.method} ${path}`).toBe(401);
      if (r.permission && r.permission !== 'read') {
        const v = await viewer.request(r.method.toUpperCase(), path, r.body ? {} : undefined);
        expect(v.status, `viewer ${r.method} ${path}`).toBe(403);
      }
    }
  });

  it('the OpenAPI document lists every route of the app with its success answer, 4xx answers and the error body', async () => {
    const res = await fetch(`${s.url}/api/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, OpenApiOperation>>;
      components: { responses: Record<string, unknown>; schemas: Record<string, { properties?: object }> };
    };
    // every route hono serves (middleware aside), in OpenAPI form
    const served = new Set(
      s.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    expect(served.size).toBeGreaterThan(60);
    for (const op of ['get /healthz', 'get /metrics', 'get /blobs/{sha256}', 'head /blobs/{sha256}'])
      expect(served).toContain(op);
    for (const key of served) {
      const [method, path] = key.split(' ') as [string, string];
      const op = doc.paths[path]?.[method];
      expect(op, `${key} is in the document`).toBeDefined();
      const success = Object.entries(op?.responses ?? {}).filter(([status]) => /^2/.test(status));
      expect(success.length, `${key} declares a success answer`).toBeGreaterThan(0);
      for (const [status, answer] of success) {
        if (status === '204' || method === 'head') continue;
        const media = Object.values(answer.content ?? {});
        expect(media.length, `${key} ${status} has a body`).toBeGreaterThan(0);
        expect(Object.keys(media[0]?.schema ?? {}).length, `${key} ${status} has a schema`).toBeGreaterThan(
          0,
        );
      }
      // 4xx answers point at the shared error answers, which carry the error body
      for (const [status, answer] of Object.entries(op?.responses ?? {}).filter(([st]) => /^4/.test(st))) {
        const ref = (answer as { $ref?: string }).$ref ?? '';
        expect(ref, `${key} ${status}`).toMatch(/^#\/components\/responses\//);
        expect(doc.components.responses[ref.split('/').pop() as string]).toBeDefined();
      }
    }
    // a route that takes a body or is behind login documents its 4xx answers
    const upload = doc.paths['/api/v1/bundles']?.post?.responses ?? {};
    expect(Object.keys(upload)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '415']));
    expect(Object.keys(doc.components.schemas.ErrorBody?.properties ?? {})).toEqual(['error']);
    // answers are the record schemas: a bundle answer carries its manifest and workflow state
    const bundle = doc.paths['/api/v1/bundles/{id}']?.get?.responses['200']?.content?.['application/json']
      ?.schema as { properties?: Record<string, unknown> };
    expect(Object.keys(bundle.properties ?? {})).toEqual(
      expect.arrayContaining(['manifest', 'state', 'units']),
    );
    // the unit path parameter documents the encoded form
    const unitParam = doc.paths['/api/v1/units/{path}']?.get?.parameters?.find((p) => p.name === 'path');
    expect(unitParam?.description).toContain('08%2F02500');
  });
});

interface OpenApiOperation {
  parameters?: { name: string; description?: string }[];
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: object }> }>;
}
