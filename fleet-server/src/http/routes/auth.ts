/** Login, logout, the current user, password change, CSRF token. */
import { z } from 'zod';
import { permissionsOf } from '../../domain/rbac.js';
import { clearSessionCookie, setSessionCookie } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import { OkSchema } from '../schemas.js';

const LoginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(200),
});
const PasswordSchema = z.strictObject({
  currentPassword: z.string().min(1).max(200),
  newPassword: z.string().min(1).max(200),
});
const MeSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.string(),
  scope: z.array(z.string()),
  permissions: z.array(z.string()),
  mustChangePassword: z.boolean(),
  csrf: z.string().optional(),
});

export function registerAuthRoutes({ api, deps }: RouteContext): void {
  const secure =
    deps.config.secureCookies ??
    (deps.config.tls !== undefined || deps.config.publicUrl?.startsWith('https:') === true);

  api.add({
    method: 'post',
    path: '/auth/login',
    summary: 'Log in with a user name and password; sets the session cookie',
    tags: ['auth'],
    auth: 'public',
    body: LoginSchema,
    response: MeSchema,
    errors: [429],
    handler: async ({ c, body, ip }) => {
      const { user, cookie } = await deps.auth.login(
        body.username,
        body.password,
        ip,
        c.req.header('user-agent'),
      );
      setSessionCookie(c, cookie, deps.config.sessionTtlHours * 3600, secure);
      return { ...user, permissions: [...permissionsOf(user.role)], sessionId: undefined };
    },
  });

  api.add({
    method: 'post',
    path: '/auth/logout',
    summary: 'Close the current session',
    tags: ['auth'],
    allowPasswordChange: true,
    response: OkSchema,
    handler: async ({ c, user, audit }) => {
      if (user.sessionId) await deps.auth.logout(user.sessionId);
      clearSessionCookie(c);
      await audit('auth.logout');
      return { ok: true };
    },
  });

  api.add({
    method: 'get',
    path: '/auth/me',
    summary: 'The current user, role, scope, permissions and CSRF token',
    tags: ['auth'],
    allowPasswordChange: true,
    response: MeSchema,
    handler: ({ user }) => ({
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      scope: user.scope,
      permissions: [...permissionsOf(user.role)],
      mustChangePassword: user.mustChangePassword,
      ...(user.csrf ? { csrf: user.csrf } : {}),
    }),
  });

  api.add({
    method: 'post',
    path: '/auth/password',
    summary: 'Change the own password (required after a one-time password)',
    tags: ['auth'],
    allowPasswordChange: true,
    body: PasswordSchema,
    response: OkSchema,
    handler: async ({ body, user, audit }) => {
      await deps.auth.changePassword(user.id, body.currentPassword, body.newPassword);
      await audit('user.password-change', { type: 'user', id: user.id });
      return { ok: true };
    },
  });
}
