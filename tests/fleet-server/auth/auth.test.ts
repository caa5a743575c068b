import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, loginAs, PASSWORD, Session, startTestServer, type TestServer } from '../app/harness.js';

describe('authentication, sessions, CSRF, API tokens', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { loginMaxAttempts: 3 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('sets an HTTP-only SameSite=Strict session cookie and answers the CSRF token', async () => {
    await createUser(s, 'alice', 'editor', ['08/02500']);
    const r = await s.app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'Alice', password: PASSWORD }),
    });
    expect(r.status).toBe(200);
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^loa_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const body = (await r.json()) as { csrf: string; role: string; permissions: string[] };
    expect(body.role).toBe('editor');
    expect(body.csrf.length).toBeGreaterThan(20);
    expect(body.permissions).toContain('content.write');
    // the session store holds a hash, never the cookie value
    const value = cookie.split(';')[0]?.split('=')[1] as string;
    expect(JSON.stringify(await s.deps.store.sessions.list())).not.toContain(value);
  });

  it('answers the same 401 for an unknown user and a wrong password', async () => {
    const a = await s.app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'x' }),
    });
    const b = await s.app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wrong' }),
    });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(((await a.json()) as { error: unknown }).error).toEqual(
      ((await b.json()) as { error: unknown }).error,
    );
  });

  it('rate-limits brute force per IP and user name (429 with Retry-After), even for the right password', async () => {
    await createUser(s, 'bob', 'viewer', ['08']);
    const sess = new Session(s.url);
    for (let i = 0; i < 3; i++) expect((await sess.login('bob', `guess-${i}`)).status).toBe(401);
    const r = await sess.login('bob', PASSWORD);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('AUTH_RATE_LIMITED');
    // another user from the same address is not locked out
    await createUser(s, 'carol', 'viewer', ['08']);
    expect((await new Session(s.url).login('carol')).status).toBe(200);
    const failures = await s.deps.store.audit.query({ action: 'auth.login-failed' });
    expect(failures.length).toBeGreaterThanOrEqual(3);
  });

  it('requires the CSRF token on unsafe requests made with the session cookie', async () => {
    const admin = await loginAs(s, 'root', 'administrator', ['08']);
    const csrf = admin.csrf;
    admin.csrf = '';
    const r = await admin.json<{ error: { code: string } }>('POST', '/api/v1/units', {
      code: '02599',
      name: 'X',
      parent: '08',
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('CSRF_INVALID');
    expect(await s.deps.store.units.get('08/02599')).toBeUndefined();
    admin.csrf = 'wrong-token-wrong-token-wrong-token';
    expect(
      (await admin.json('POST', '/api/v1/units', { code: '02599', name: 'X', parent: '08' })).status,
    ).toBe(403);
    admin.csrf = csrf;
    expect(
      (await admin.json('POST', '/api/v1/units', { code: '02599', name: 'X', parent: '08' })).status,
    ).toBe(201);
  });

  it('API tokens: bearer auth without CSRF, hashed at rest, revocable; tokens cannot mint tokens', async () => {
    const op = await loginAs(s, 'integrator', 'operator', ['08']);
    const t = await op.json<{ token: string; record: { id: string } }>('POST', '/api/v1/tokens', {
      name: 'node-red',
    });
    expect(t.status).toBe(201);
    expect(t.body.token).toMatch(/^loa_/);
    expect(JSON.stringify(await s.deps.store.apiTokens.list())).not.toContain(t.body.token);
    const bearer = { authorization: `Bearer ${t.body.token}` };
    const me = await fetch(`${s.url}/api/v1/auth/me`, { headers: bearer });
    expect(((await me.json()) as { username: string }).username).toBe('integrator');
    const mint = await fetch(`${s.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(mint.status).toBe(403);
    expect((await op.json('DELETE', `/api/v1/tokens/${t.body.record.id}`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/v1/auth/me`, { headers: bearer })).status).toBe(401);
    expect(
      (await fetch(`${s.url}/api/v1/auth/me`, { headers: { authorization: 'Bearer loa_forged' } })).status,
    ).toBe(401);
  });

  it('a one-time password only allows changing it; weak new passwords are refused', async () => {
    const sess = new Session(s.url);
    expect((await sess.login('admin', s.bootstrap?.password)).status).toBe(200);
    const blocked = await sess.json<{ error: { code: string } }>('GET', '/api/v1/users');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('PASSWORD_CHANGE_REQUIRED');
    const weak = await sess.json('POST', '/api/v1/auth/password', {
      currentPassword: s.bootstrap?.password,
      newPassword: 'short',
    });
    expect(weak.status).toBe(400);
    const ok = await sess.json('POST', '/api/v1/auth/password', {
      currentPassword: s.bootstrap?.password,
      newPassword: 'Một mật khẩu dài 2026',
    });
    expect(ok.status).toBe(200);
    expect((await sess.json('GET', '/api/v1/users')).status).toBe(200);
  });

  it('logout ends the session', async () => {
    const v = await loginAs(s, 'viewer1', 'viewer', ['08']);
    expect((await v.json('POST', '/api/v1/auth/logout')).status).toBe(200);
    expect((await v.json('GET', '/api/v1/auth/me')).status).toBe(401);
  });
});
