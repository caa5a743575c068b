/** User administration: list, create (one-time password), update role/scope, reset password, delete. */
import { randomUUID } from 'node:crypto';
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import type { UserRecord } from '../../domain/model.js';
import { ALL_UNITS, canManageUser, ROLE_LABELS_VI, scopeWithin } from '../../domain/rbac.js';
import { UserCreateSchema, UserUpdateSchema } from '../../domain/users.js';
import { hashSecret, oneTimePassword } from '../../security/secrets.js';
import type { RouteContext } from '../route-context.js';
import { OkSchema, PublicUserSchema } from '../schemas.js';

export type PublicUser = Omit<UserRecord, 'passwordHash'>;
export function publicUser(u: UserRecord): PublicUser {
  const { passwordHash: _h, ...rest } = u;
  return rest;
}

export function registerUserRoutes({ api, deps }: RouteContext): void {
  const { store, clock } = deps;
  const iso = () => new Date(clock.now()).toISOString();

  async function loadManageable(
    actor: { id: string; username: string; role: UserRecord['role']; scope: string[] },
    id: string,
  ) {
    const target = await store.users.get(id);
    if (!target || !canManageUser(actor, target))
      throw new LoaError('USER_NOT_FOUND', 'không tìm thấy người dùng');
    return target;
  }

  api.add({
    method: 'get',
    path: '/users',
    summary: 'Users whose scope lies inside mine',
    tags: ['users'],
    permission: 'user.manage',
    response: z.array(PublicUserSchema),
    handler: async ({ user }) =>
      (await store.users.list((u) => scopeWithin(user.scope, u.scope))).map(publicUser),
  });

  api.add({
    method: 'post',
    path: '/users',
    summary: 'Create a user; answers a one-time password (shown once, to be changed at first login)',
    tags: ['users'],
    permission: 'user.manage',
    status: 201,
    body: UserCreateSchema,
    response: z.object({ user: PublicUserSchema, oneTimePassword: z.string() }),
    errors: [409],
    handler: async ({ body, user, audit }) => {
      if (
        !scopeWithin(user.scope, body.scope) ||
        (body.scope.includes(ALL_UNITS) && !user.scope.includes(ALL_UNITS))
      )
        throw new LoaError('FORBIDDEN_SCOPE', 'chỉ được giao phạm vi nằm trong phạm vi của mình');
      if (await store.users.byUsername(body.username))
        throw new LoaError('USER_EXISTS', `tên đăng nhập ${body.username} đã có`);
      const password = oneTimePassword();
      const now = iso();
      const rec: UserRecord = {
        id: randomUUID(),
        username: body.username,
        displayName: body.displayName,
        role: body.role,
        scope: body.scope,
        passwordHash: await hashSecret(password),
        mustChangePassword: true,
        disabled: false,
        createdAt: now,
        updatedAt: now,
      };
      await store.users.insert(rec);
      await store.flush();
      await audit(
        'user.create',
        { type: 'user', id: rec.id },
        { username: rec.username, role: rec.role, scope: rec.scope },
      );
      return { user: publicUser(rec), oneTimePassword: password };
    },
  });

  api.add({
    method: 'patch',
    path: '/users/:id',
    summary: 'Change display name, role, scope or disable a user',
    tags: ['users'],
    permission: 'user.manage',
    body: UserUpdateSchema,
    response: PublicUserSchema,
    handler: async ({ body, user, params, audit }) => {
      const target = await loadManageable(user, params.id);
      if (body.scope && !scopeWithin(user.scope, body.scope))
        throw new LoaError('FORBIDDEN_SCOPE', 'chỉ được giao phạm vi nằm trong phạm vi của mình');
      if (target.id === user.id && (body.role !== undefined || body.disabled || body.scope))
        throw new LoaError(
          'USER_SELF_CHANGE',
          'không thể tự đổi vai trò, phạm vi hoặc tự khóa tài khoản của mình',
        );
      const patch: Partial<UserRecord> = { ...body, updatedAt: iso() };
      const updated = await store.users.update(target.id, patch);
      if (body.disabled || body.role || body.scope) {
        await store.sessions.deleteForUser(target.id);
        await store.flush();
      }
      await audit(
        'user.update',
        { type: 'user', id: target.id },
        {
          ...body,
          ...(body.role ? { roleLabel: ROLE_LABELS_VI[body.role] } : {}),
        },
      );
      return publicUser(updated);
    },
  });

  api.add({
    method: 'post',
    path: '/users/:id/reset-password',
    summary: 'Give a user a new one-time password (closes their sessions)',
    tags: ['users'],
    permission: 'user.manage',
    response: z.object({ oneTimePassword: z.string() }),
    handler: async ({ user, params, audit }) => {
      const target = await loadManageable(user, params.id);
      const password = await deps.auth.resetPassword(target.id);
      await audit('user.reset-password', { type: 'user', id: target.id });
      return { oneTimePassword: password };
    },
  });

  api.add({
    method: 'delete',
    path: '/users/:id',
    summary: 'Delete a user (not oneself)',
    tags: ['users'],
    permission: 'user.manage',
    response: OkSchema,
    handler: async ({ user, params, audit }) => {
      const target = await loadManageable(user, params.id);
      if (target.id === user.id)
        throw new LoaError('USER_SELF_CHANGE', 'không thể tự xóa tài khoản của mình');
      await store.sessions.deleteForUser(target.id);
      await store.users.delete(target.id);
      await audit('user.delete', { type: 'user', id: target.id }, { username: target.username });
      return { ok: true };
    },
  });
}
