/**
 * createApp(deps, { routes }) → the Hono app of the fleet server. It mounts the route modules it
 * is handed (main.ts passes the core ones and those of the plugins) and imports none itself. It
 * never listens (main.ts serves it; tests call app.request()). One onError maps LoaError codes to
 * HTTP statuses (error-status.ts) with a JSON body {error: {code, message, details?}}. JSON API
 * routes are declared through the ApiTable (auth, roles, CSRF, zod validation, OpenAPI at
 * /api/openapi.json).
 */
import { isLoaError } from '@loa/protocol';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from '../deps.js';
import { type AppEnv, authMiddleware } from './auth.js';
import { statusForCode } from './error-status.js';
import { ApiTable } from './openapi.js';
import type { RouteContext, RouteModule } from './route-context.js';

export type { AppEnv } from './auth.js';
export type { RouteContext, RouteModule } from './route-context.js';

export interface CreateAppOptions {
  /** Route modules, mounted in this order (core first, then those of the plugins). */
  routes?: readonly RouteModule[];
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
      const status = statusForCode(err.code);
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
  app.use('*', authMiddleware(deps));

  const api = new ApiTable(app, deps);
  const ctx: RouteContext = { api, app, deps };
  for (const mount of options.routes ?? []) mount(ctx);

  app.get('/api/openapi.json', (c) => c.json(api.document({ title: 'Loa fleet server API', version: '1' })));
  api.describe({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tags: ['system'],
    auth: 'public',
    responses: {
      200: { description: 'The OpenAPI document', type: 'application/json', schema: { type: 'object' } },
    },
  });

  return Object.assign(app, { api });
}
