/**
 * Request authentication for the HTTP API and the dashboard:
 *   - session cookie (HTTP-only, SameSite=Strict) + CSRF token for unsafe methods, or
 *   - `Authorization: Bearer loa_…` API token (no CSRF: not sent by browsers on their own), or
 *   - `Authorization: Basic deviceId:mqttPassword` for devices (blob and manifest downloads).
 * `authMiddleware` only identifies the caller; the route table enforces roles and unit scope.
 */
import { LoaError } from '@loa/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { DeviceAuthenticator } from '../broker/device-auth.js';
import type { Deps } from '../deps.js';
import type { DeviceRecord, UserRole } from '../domain/model.js';
import type { Permission } from '../domain/rbac.js';
import { requirePermission, requireRole, requireScope } from '../domain/rbac.js';
import { safeEqual } from '../security/secrets.js';
import { type AuthUser, SESSION_COOKIE } from '../services/auth-service.js';

export type { AuthUser } from '../services/auth-service.js';

export interface AppEnv {
  Variables: {
    user: AuthUser | null;
    /** Client address (socket peer; X-Forwarded-For only when the peer is loopback). */
    ip: string;
  };
}

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

export function clientIp(c: Context): string {
  const peer = (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
  if (peer && (peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1')) {
    const fwd = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (fwd) return fwd.slice(0, 64);
  }
  return peer ?? 'local';
}

/** Identifies the caller and sets `c.var.user` (null when anonymous) and `c.var.ip`. */
export function authMiddleware(deps: Pick<Deps, 'auth'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('ip', clientIp(c));
    let user: AuthUser | null = null;
    const authz = c.req.header('authorization');
    if (authz?.startsWith('Bearer ')) {
      user = await deps.auth.resolveApiToken(authz.slice(7).trim());
      if (!user) throw new LoaError('AUTH_REQUIRED', 'mã truy cập API không hợp lệ hoặc đã hết hạn');
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie) user = await deps.auth.resolveSession(cookie);
    }
    c.set('user', user);
    await next();
  };
}

export function setSessionCookie(c: Context, value: string, maxAgeSeconds: number, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    path: '/',
    maxAge: Math.floor(maxAgeSeconds),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** The current user or AUTH_REQUIRED (401). */
export function currentUser(c: Context<AppEnv>): AuthUser {
  const u = c.get('user');
  if (!u) throw new LoaError('AUTH_REQUIRED', 'cần đăng nhập');
  return u;
}

/** Middleware: 401 unless logged in, 403 unless the role is one of `roles`. */
export function requireRoleMw(...roles: UserRole[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requireRole(currentUser(c), roles);
    await next();
  };
}

/** Middleware: 401 unless logged in, 403 unless the role has `permission`. */
export function requirePermissionMw(permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requirePermission(currentUser(c), permission);
    await next();
  };
}

/** Throws FORBIDDEN_SCOPE (403) unless `unit` lies in the current user's scope. */
export function checkUnitScope(c: Context<AppEnv>, unit: string): void {
  requireScope(currentUser(c), unit);
}

/**
 * CSRF for cookie sessions: unsafe methods must carry the session's token in the X-CSRF-Token
 * header (or `formToken`, the `_csrf` field of a form the caller already parsed). API tokens and
 * anonymous requests pass (they carry no ambient credentials).
 */
export function checkCsrf(c: Context<AppEnv>, formToken?: string): void {
  const u = c.get('user');
  if (u?.via !== 'session') return;
  const m = c.req.method;
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return;
  const sent = c.req.header(CSRF_HEADER) ?? formToken ?? '';
  if (!u.csrf || !safeEqual(sent, u.csrf))
    throw new LoaError(
      'CSRF_INVALID',
      'phiên làm việc không hợp lệ (thiếu mã chống giả mạo), hãy tải lại trang',
    );
}

/** Device HTTP authentication (Basic deviceId:password); null when absent or wrong. */
export async function authenticateDevice(
  c: Context,
  devices: DeviceAuthenticator,
): Promise<DeviceRecord | null> {
  const h = c.req.header('authorization');
  if (!h?.startsWith('Basic ')) return null;
  let decoded: string;
  try {
    decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  } catch {
    return null;
  }
  const i = decoded.indexOf(':');
  if (i <= 0) return null;
  return devices.verify(decoded.slice(0, i), decoded.slice(i + 1));
}
