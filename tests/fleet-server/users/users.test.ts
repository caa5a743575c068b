import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canManageUser,
  inScope,
  requirePermission,
  scopeWithin,
} from '../../../fleet-server/src/domain/rbac.js';
import { loginAs, type Session as S, Session, startTestServer, type TestServer } from '../app/harness.js';

describe('RBAC rules (pure)', () => {
  it('scopes cover subtrees only', () => {
    expect(inScope({ scope: ['08'] }, '08/02500')).toBe(true);
    expect(inScope({ scope: ['08/02500'] }, '08/02503')).toBe(false);
    expect(inScope({ scope: ['08/025'] }, '08/02500')).toBe(false);
    expect(inScope({ scope: ['*'] }, '01/00001')).toBe(true);
    expect(scopeWithin(['08'], ['08/02500', '08'])).toBe(true);
    expect(scopeWithin(['08/02500'], ['08'])).toBe(false);
    expect(scopeWithin(['08'], ['*'])).toBe(false);
  });
  it('permissions follow roles', () => {
    const editor = { id: '1', username: 'e', role: 'editor' as const, scope: ['08'] };
    expect(() => requirePermission(editor, 'bundle.approve')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN_ROLE' }),
    );
    expect(() => requirePermission(editor, 'content.write')).not.toThrow();
    const admin = { id: '2', username: 'a', role: 'administrator' as const, scope: ['08/02500'] };
    expect(canManageUser(admin, { role: 'editor', scope: ['08/02500'] })).toBe(true);
    expect(canManageUser(admin, { role: 'editor', scope: ['08'] })).toBe(false);
  });
});

describe('user administration API', () => {
  let s: TestServer;
  let admin: S;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await loginAs(s, 'province-admin', 'administrator', ['08']);
  });
  afterAll(async () => {
    await s.close();
  });

  it('creates a scoped user with a one-time password that must be changed; HTML in names is kept as data', async () => {
    const r = await admin.json<{
      user: { id: string; displayName: string; mustChangePassword: boolean };
      oneTimePassword: string;
    }>('POST', '/api/v1/users', {
      username: 'Editor.Xa',
      displayName: '<script>alert(1)</script> Biên tập',
      role: 'editor',
      scope: ['08/02503'],
    });
    expect(r.status).toBe(201);
    expect(r.body.user.displayName).toBe('<script>alert(1)</script> Biên tập');
    expect(r.body.user.mustChangePassword).toBe(true);
    expect(JSON.stringify(r.body.user)).not.toContain('passwordHash');
    const sess = new Session(s.url);
    expect((await sess.login('editor.xa', r.body.oneTimePassword)).status).toBe(200);
    const audit = await s.deps.store.audit.query({ action: 'user.create' });
    expect(audit[0]).toMatchObject({ actor: { name: 'province-admin' }, target: { id: r.body.user.id } });
  });

  it('refuses a duplicate user name, bad input, and a scope outside the creator’s own', async () => {
    expect(
      (
        await admin.json('POST', '/api/v1/users', {
          username: 'editor.xa',
          displayName: 'x',
          role: 'viewer',
          scope: ['08'],
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await admin.json('POST', '/api/v1/users', {
          username: 'ab',
          displayName: 'x',
          role: 'viewer',
          scope: ['08'],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await admin.json('POST', '/api/v1/users', {
          username: 'abc',
          displayName: 'x',
          role: 'king',
          scope: ['08'],
        })
      ).status,
    ).toBe(400);
    const commune = await loginAs(s, 'commune-admin', 'administrator', ['08/02500']);
    const before = await s.deps.store.users.count();
    const r = await commune.json<{ error: { code: string } }>('POST', '/api/v1/users', {
      username: 'escalate',
      displayName: 'x',
      role: 'administrator',
      scope: ['08'],
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN_SCOPE');
    expect(await s.deps.store.users.count()).toBe(before);
    // and cannot see or change province users
    const list = await commune.json<{ username: string }[]>('GET', '/api/v1/users');
    expect(list.body.map((u) => u.username)).toEqual(['commune-admin']);
    const target = await s.deps.store.users.byUsername('province-admin');
    expect((await commune.json('PATCH', `/api/v1/users/${target?.id}`, { disabled: true })).status).toBe(404);
  });

  it('only user.manage roles reach user administration', async () => {
    for (const role of ['editor', 'approver', 'operator', 'technician', 'viewer'] as const) {
      const sess = await loginAs(s, `role-${role}`, role, ['08']);
      const r = await sess.json<{ error: { code: string } }>('GET', '/api/v1/users');
      expect(r.status, role).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN_ROLE');
    }
  });

  it('changing a role closes the user’s sessions; an admin cannot demote or delete themselves', async () => {
    const victim = await loginAs(s, 'temp-editor', 'editor', ['08/02503']);
    const u = await s.deps.store.users.byUsername('temp-editor');
    expect((await admin.json('PATCH', `/api/v1/users/${u?.id}`, { role: 'viewer' })).status).toBe(200);
    expect((await victim.json('GET', '/api/v1/auth/me')).status).toBe(401);
    const me = await s.deps.store.users.byUsername('province-admin');
    expect((await admin.json('PATCH', `/api/v1/users/${me?.id}`, { role: 'viewer' })).status).toBe(400);
    expect((await admin.json('DELETE', `/api/v1/users/${me?.id}`)).status).toBe(400);
    const reset = await admin.json<{ oneTimePassword: string }>(
      'POST',
      `/api/v1/users/${u?.id}/reset-password`,
    );
    expect(reset.body.oneTimePassword).toMatch(/-/);
    expect((await admin.json('DELETE', `/api/v1/users/${u?.id}`)).status).toBe(200);
  });
});
