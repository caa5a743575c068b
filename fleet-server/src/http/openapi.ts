/**
 * The API route table. Every JSON route is declared once with its metadata and zod schemas; the
 * table registers it on Hono with authentication, role/permission, CSRF and body/query validation,
 * and builds the OpenAPI 3.1 document served at /api/openapi.json.
 *
 *   api.add({
 *     method: 'post', path: '/units', summary: 'Create a unit', tags: ['units'],
 *     permission: 'unit.manage', body: UnitInputSchema,
 *     handler: async ({ body, user, audit }) => { …; await audit('unit.create', …); return unit },
 *   });
 */
import { LoaError } from '@loa/protocol';
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Deps } from '../deps.js';
import type { AuditEntry, AuditInput, UserRole } from '../domain/model.js';
import { type Permission, requirePermission, requireRole } from '../domain/rbac.js';
import { type AppEnv, type AuthUser, checkCsrf } from './auth.js';
import {
  type AuthMode,
  type ClientErrorStatus,
  type Method,
  openApiDocument,
  type RawRouteDoc,
  type RouteDoc,
} from './openapi-document.js';

export type { AuthMode, ClientErrorStatus, Method, RawRouteDoc, RouteDoc } from './openapi-document.js';
export { ErrorBodySchema } from './openapi-document.js';

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;
/** What a handler may answer: a value of its response schema, or a Response it built itself. */
type Answer<R> = (R extends z.ZodType ? z.input<R> : undefined | { ok: true }) | Response;

/** The name of a parameter from the text after its colon (`id/ack` → id, `path{[0-9]+}/x` → path). */
type ParamName<R extends string> = R extends `${infer N}{${string}`
  ? N extends `${infer M}/${string}`
    ? M
    : N
  : R extends `${infer N}/${string}`
    ? N
    : R;
type ParamNames<P extends string> = P extends `${string}/:${infer Rest}`
  ? ParamName<Rest> | ParamNames<Rest>
  : never;

/**
 * The path parameters of a route path, typed from the path itself:
 * `/units/:path{…}/groups/:id` → `{ path: string; id: string }` (values are URL-decoded).
 */
export type PathParams<P extends string> = string extends P
  ? Record<string, string>
  : { [K in ParamNames<P>]: string };

export interface HandlerContext<B, Q, A extends AuthMode, P extends string = string> {
  c: Context<AppEnv>;
  body: B;
  query: Q;
  params: PathParams<P>;
  user: A extends 'public' ? AuthUser | null : AuthUser;
  ip: string;
  /** Appends an audit entry with the current user and IP as actor. */
  audit(
    action: string,
    target?: AuditInput['target'],
    details?: Record<string, unknown>,
    unit?: string,
  ): Promise<AuditEntry>;
}

export interface RouteSpec<
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  A extends AuthMode,
  P extends string = string,
  R extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** Hono path relative to the table's base, e.g. '/units/:code'. */
  path: P;
  summary: string;
  description?: string;
  tags?: string[];
  auth?: A;
  roles?: readonly UserRole[];
  permission?: Permission;
  /** Allowed while the user must still change a one-time password (login, logout, me, password). */
  allowPasswordChange?: boolean;
  body?: B;
  query?: Q;
  /**
   * The success answer's body (required unless status is 204). Declared from the schemas the
   * records are typed by (domain/model.ts); a handler that answers with its own Response (a
   * stream, a file) names its media type in `responseType`.
   */
  response?: R;
  /** Media type of the success answer (default application/json). */
  responseType?: string;
  /** 4xx answers beyond those the spec implies (400 bad input, 401, 403, 404 for a path id…). */
  errors?: readonly ClientErrorStatus[];
  /** Success status (default 200; use 201 for creations). */
  status?: 200 | 201 | 202 | 204;
  /** Maximum JSON body size in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  handler(ctx: HandlerContext<Infer<B>, Infer<Q>, A, P>): Answer<R> | Promise<Answer<R>>;
}

function impliedErrors(spec: {
  path: string;
  auth?: AuthMode;
  roles?: readonly unknown[];
  permission?: string;
  body?: unknown;
  query?: unknown;
  errors?: readonly ClientErrorStatus[];
}): ClientErrorStatus[] {
  const out = new Set<ClientErrorStatus>(spec.errors ?? []);
  if (spec.body) for (const s of [400, 413, 415] as const) out.add(s);
  if (spec.query) out.add(400);
  if ((spec.auth ?? 'user') === 'user') {
    out.add(401);
    out.add(403);
  }
  if (spec.path.includes('/:')) out.add(404);
  return [...out].sort((a, b) => a - b);
}

/** Formats zod issues for an error body: "field: message; …". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((i) => `${i.path.length ? i.path.join('.') : '(nội dung)'}: ${i.message}`)
    .join('; ');
}

export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code = 'VALIDATION_FAILED',
): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new LoaError(code, `dữ liệu không hợp lệ: ${describeZodError(r.error)}`, {
      cause: r.error,
      details: {
        issues: r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    });
  return r.data;
}

async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json'))
    throw new LoaError('UNSUPPORTED_MEDIA_TYPE', 'nội dung phải là JSON (Content-Type: application/json)');
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes)
    throw new LoaError('PAYLOAD_TOO_LARGE', `nội dung quá lớn (tối đa ${maxBytes} byte)`);
  const buf = Buffer.from(await c.req.arrayBuffer());
  if (buf.length > maxBytes)
    throw new LoaError('PAYLOAD_TOO_LARGE', `nội dung quá lớn (tối đa ${maxBytes} byte)`);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (cause) {
    throw new LoaError('BAD_JSON', 'nội dung không phải JSON hợp lệ', { cause });
  }
}

export class ApiTable {
  readonly routes: RouteDoc[] = [];
  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly deps: Deps,
    readonly base = '/api/v1',
  ) {}

  add<
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    A extends AuthMode = 'user',
    P extends string = string,
    R extends z.ZodType | undefined = undefined,
  >(spec: RouteSpec<B, Q, A, P, R>): void {
    const auth: AuthMode = spec.auth ?? 'user';
    if (auth === 'user' && !spec.roles && !spec.permission && !spec.allowPasswordChange)
      throw new Error(`route ${spec.method} ${spec.path}: declare roles or permission`);
    const status = spec.status ?? 200;
    if (status !== 204 && !spec.response)
      throw new Error(`route ${spec.method} ${spec.path}: declare its response schema`);
    this.routes.push({
      method: spec.method,
      path: `${this.base}${spec.path}`,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags ?? [],
      auth,
      ...(spec.roles ? { roles: spec.roles } : {}),
      ...(spec.permission ? { permission: spec.permission } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      responses: {
        [status]: {
          description: spec.summary,
          ...(spec.response ? { type: spec.responseType ?? 'application/json', schema: spec.response } : {}),
        },
      },
      errors: impliedErrors(spec),
    });
    const deps = this.deps;
    this.app.on(spec.method.toUpperCase(), `${this.base}${spec.path}`, async (c) => {
      const user = c.get('user');
      if (auth === 'user') {
        if (!user) throw new LoaError('AUTH_REQUIRED', 'cần đăng nhập');
        if (user.mustChangePassword && !spec.allowPasswordChange)
          throw new LoaError('PASSWORD_CHANGE_REQUIRED', 'cần đổi mật khẩu dùng một lần trước khi tiếp tục');
        if (spec.roles) requireRole(user, spec.roles);
        if (spec.permission) requirePermission(user, spec.permission);
      }
      // public routes act on no session authority: CSRF does not apply to them
      if (auth === 'user') checkCsrf(c);
      const query = spec.query ? parseOrThrow(spec.query, c.req.query()) : undefined;
      const body = spec.body
        ? parseOrThrow(spec.body, await readJsonBody(c, spec.maxBodyBytes ?? 1024 * 1024))
        : undefined;
      const ip = c.get('ip');
      const ctx: HandlerContext<Infer<B>, Infer<Q>, A, P> = {
        c,
        body: body as Infer<B>,
        query: query as Infer<Q>,
        // hono matched every parameter the path names, so each is there
        params: c.req.param() as unknown as PathParams<P>,
        user: user as HandlerContext<Infer<B>, Infer<Q>, A, P>['user'],
        ip,
        audit: (action, target, details, unit) =>
          deps.store.audit.append({
            actor: user
              ? { type: user.via === 'token' ? 'token' : 'user', id: user.id, name: user.username }
              : { type: 'system', id: 'anonymous' },
            action,
            ip,
            ...(target ? { target } : {}),
            ...(details ? { details } : {}),
            ...(unit ? { unit } : {}),
          }),
      };
      const result = await spec.handler(ctx);
      if (result instanceof Response) return result;
      if (spec.status === 204) return c.body(null, 204);
      return c.json(result ?? { ok: true }, spec.status ?? 200);
    });
  }

  /** Documents a route registered on the app directly (files, text, streams). */
  describe(doc: RawRouteDoc): void {
    this.routes.push({ ...doc, tags: doc.tags ?? [], errors: doc.errors ?? [] });
  }

  /** The OpenAPI 3.1 document of every registered route. */
  document(info: { title: string; version: string }): Record<string, unknown> {
    return openApiDocument(this.routes, info);
  }
}
