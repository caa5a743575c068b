/**
 * What a route module receives, in a file of its own so that `app.ts` (which mounts route
 * modules) and the modules themselves both import it and never each other.
 */
import type { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from './auth.js';
import type { ApiTable } from './openapi.js';

/** JSON routes go through `api` (auth, roles, CSRF, zod, OpenAPI); raw routes (blobs, SSE) use `app`. */
export interface RouteContext {
  api: ApiTable;
  app: Hono<AppEnv>;
  deps: Deps;
}

/** A set of routes: mounted by createApp() from the list it is handed. */
export type RouteModule = (ctx: RouteContext) => void;
