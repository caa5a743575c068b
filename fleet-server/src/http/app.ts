/**
 * createApp(deps) → the Hono app of the fleet server. It never listens (main.ts serves it; tests
 * call app.request()). One onError maps LoaError codes to HTTP statuses with a JSON body
 * {error: {code, message, details?}}. JSON API routes are declared in routes/<resource>.ts through
 * the ApiTable (auth, roles, CSRF, zod validation, OpenAPI at /api/openapi.json).
 */
import { isLoaError, REASONS } from '@loa/protocol';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from '../deps.js';
import { type AppEnv, authMiddleware } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { ApiTable } from './openapi.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerCommandRoutes } from './routes/commands.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerEnrolRoutes } from './routes/enrol.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerUnitRoutes } from './routes/units.js';
import { registerUserRoutes } from './routes/users.js';

export type { Deps } from '../deps.js';
export type { AppEnv } from './auth.js';

/** What a route module receives. JSON routes go through `api`; raw routes (blobs, SSE) use `app`. */
export interface RouteContext {
  api: ApiTable;
  app: Hono<AppEnv>;
  deps: Deps;
}
export type RouteModule = (ctx: RouteContext) => void;

const STATUS_BY_CODE: Record<string, number> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  AUTH_RATE_LIMITED: 429,
  PASSWORD_CHANGE_REQUIRED: 403,
  FORBIDDEN: 403,
  FORBIDDEN_ROLE: 403,
  FORBIDDEN_SCOPE: 403,
  CSRF_INVALID: 403,
  VALIDATION_FAILED: 400,
  BAD_JSON: 400,
  BAD_REQUEST: 400,
  PASSWORD_WEAK: 400,
  NOT_FOUND: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  ENROL_TOKEN_INVALID: 401,
  ENROL_TOKEN_EXPIRED: 403,
  ENROL_TOKEN_USED: 403,
  ENROL_TOKEN_REVOKED: 403,
  DEVICE_KEY_IN_USE: 409,
  TRUST_ROLLBACK: 409,
  VERSION_ROLLBACK: 409,
  VERSION_CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** HTTP status of an error code: explicit table, then suffix rules, then 400 (bad input). */
export function statusForCode(code: string, extra?: Record<string, number>): number {
  const explicit = extra?.[code] ?? STATUS_BY_CODE[code];
  if (explicit) return explicit;
  if (code in REASONS) return 422;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_EXISTS') || code.endsWith('_CONFLICT')) return 409;
  if (code.endsWith('_FORBIDDEN')) return 403;
  if (code.endsWith('_TOO_LARGE')) return 413;
  if (code.endsWith('_RATE_LIMITED')) return 429;
  if (code.endsWith('_UNAVAILABLE')) return 503;
  return 400;
}

export interface CreateAppOptions {
  /** Extra route modules (content side, dashboard), mounted after the core ones. */
  routes?: RouteModule[];
  /** Extra code → status mappings. */
  errorStatus?: Record<string, number>;
}

export interface LoaApp extends Hono<AppEnv> {
  /** The route table (for the OpenAPI document and tests). */
  readonly api: ApiTable;
}

export function createApp(deps: Deps, options: CreateAppOptions = {}): LoaApp {
  const app = new Hono<AppEnv>();
  const log = deps.logger.child({ module: 'http' });

  app.onError((err, c) => {
    if (isLoaError(err)) {
      const status = statusForCode(err.code, options.errorStatus);
      if (status >= 500) log.error({ err, path: c.req.path }, 'request failed');
      else log.debug({ code: err.code, path: c.req.path }, 'request refused');
      const retry = err.details?.retryAfterSeconds;
      if (typeof retry === 'number') c.header('Retry-After', String(retry));
      const details = err.details && status < 500 ? { details: err.details } : {};
      return c.json(
        { error: { code: err.code, message: err.message, ...details } },
        status as ContentfulStatusCode,
      );
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 401 ? 'AUTH_REQUIRED' : 'HTTP_ERROR';
      return c.json({ error: { code, message: err.message || 'yêu cầu không hợp lệ' } }, status);
    }
    log.error({ err, path: c.req.path }, 'unexpected error');
    return c.json({ error: { code: 'INTERNAL', message: 'lỗi máy chủ nội bộ' } }, 500);
  });

  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `không có đường dẫn ${c.req.path}` } }, 404),
  );

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.res.headers.has('X-Frame-Options')) c.header('X-Frame-Options', 'DENY');
  });
  // every body is capped while it streams in, before anything parses it (caps: per route)
  app.use(
    '*',
    bodyLimit((method, path) => api.bodyCaps.capFor(method, path)),
  );
  app.use('*', authMiddleware(deps));

  const api = new ApiTable(app, deps);
  const ctx: RouteContext = { api, app, deps };
  for (const mod of [
    registerSystemRoutes,
    registerAuthRoutes,
    registerUserRoutes,
    registerTokenRoutes,
    registerUnitRoutes,
    registerDeviceRoutes,
    registerCommandRoutes,
    registerEnrolRoutes,
    registerAuditRoutes,
    ...(options.routes ?? []),
  ])
    mod(ctx);

  app.get('/api/openapi.json', (c) => c.json(api.document({ title: 'Loa fleet server API', version: '1' })));

  return Object.assign(app, { api });
}
