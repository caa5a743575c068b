/** API tokens of the current user (for integrations such as Node-RED): list, create, revoke. */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import type { RouteContext } from '../route-context.js';
import { OkSchema, PublicApiTokenSchema } from '../schemas.js';

const TokenCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Days until it expires (absent: never). */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export function registerTokenRoutes({ api, deps }: RouteContext): void {
  const { store, clock } = deps;
  api.add({
    method: 'get',
    path: '/tokens',
    summary: 'My API tokens (without secrets)',
    tags: ['tokens'],
    permission: 'token.manage',
    response: z.array(PublicApiTokenSchema),
    handler: async ({ user }) =>
      (await store.apiTokens.list((t) => t.userId === user.id)).map(({ hash: _h, ...t }) => t),
  });
  api.add({
    method: 'post',
    path: '/tokens',
    summary: 'Create an API token; the secret is shown once',
    tags: ['tokens'],
    permission: 'token.manage',
    status: 201,
    body: TokenCreateSchema,
    response: z.object({ token: z.string(), record: PublicApiTokenSchema }),
    handler: async ({ body, user, audit }) => {
      if (user.via === 'token') throw new LoaError('FORBIDDEN', 'không thể tạo mã API bằng một mã API');
      const expiresAt = body.expiresInDays
        ? new Date(clock.now() + body.expiresInDays * 86_400_000).toISOString()
        : undefined;
      const { token, record } = await deps.auth.createApiToken(user.id, body.name, expiresAt);
      await audit('token.create', { type: 'token', id: record.id }, { name: record.name });
      const { hash: _h, ...pub } = record;
      return { token, record: pub };
    },
  });
  api.add({
    method: 'delete',
    path: '/tokens/:id',
    summary: 'Revoke one of my API tokens',
    tags: ['tokens'],
    permission: 'token.manage',
    response: OkSchema,
    handler: async ({ user, params, audit }) => {
      const t = await store.apiTokens.get(params.id);
      if (!t || t.userId !== user.id) throw new LoaError('TOKEN_NOT_FOUND', 'không tìm thấy mã API');
      await store.apiTokens.update(t.id, { revokedAt: new Date(clock.now()).toISOString() });
      await audit('token.revoke', { type: 'token', id: t.id });
      return { ok: true };
    },
  });
}
