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
import { z } from 'zod';
import type { Deps } from '../deps.js';
import type { AuditEntry, AuditInput, UserRole } from '../domain/model.js';
import { type Permission, requirePermission, requireRole } from '../domain/rbac.js';
import { type AppEnv, type AuthUser, checkCsrf } from './auth.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

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

/** 'public': no login needed; 'user' (default): any logged-in user, then roles/permission. */
export type AuthMode = 'public' | 'user';

export interface RouteSpec<
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  A extends AuthMode,
  P extends string = string,
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
  /** Documented response body (not enforced). */
  response?: z.ZodType;
  /** Success status (default 200; use 201 for creations). */
  status?: 200 | 201 | 202 | 204;
  /** Maximum JSON body size in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  handler(ctx: HandlerContext<Infer<B>, Infer<Q>, A, P>): Promise<unknown> | unknown;
}

interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: AuthMode;
  roles?: readonly UserRole[];
  permission?: Permission;
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  status: number;
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
  >(spec: RouteSpec<B, Q, A, P>): void {
    const auth: AuthMode = spec.auth ?? 'user';
    if (auth === 'user' && !spec.roles && !spec.permission && !spec.allowPasswordChange)
      throw new Error(`route ${spec.method} ${spec.path}: declare roles or permission`);
    this.routes.push({
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags ?? [],
      auth,
      ...(spec.roles ? { roles: spec.roles } : {}),
      ...(spec.permission ? { permission: spec.permission } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.response ? { response: spec.response } : {}),
      status: spec.status ?? 200,
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

  /** The OpenAPI 3.1 document of every registered route. */
  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const toSchema = (s: z.ZodType, io: 'input' | 'output'): unknown => {
      try {
        return z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
      } catch {
        return {};
      }
    };
    for (const r of this.routes) {
      const params: unknown[] = [];
      const oaPath = `${this.base}${r.path}`.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, (_m, name: string) => {
        params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
        return `{${name}}`;
      });
      if (r.query) {
        const qs = toSchema(r.query, 'input') as {
          properties?: Record<string, unknown>;
          required?: string[];
        };
        for (const [name, schema] of Object.entries(qs.properties ?? {}))
          params.push({ name, in: 'query', required: qs.required?.includes(name) ?? false, schema });
      }
      const access =
        r.auth === 'public'
          ? 'public'
          : [r.roles ? `roles: ${r.roles.join(', ')}` : '', r.permission ? `permission: ${r.permission}` : '']
              .filter(Boolean)
              .join('; ') || 'any logged-in user';
      const op: Record<string, unknown> = {
        summary: r.summary,
        description: [r.description, `Access: ${access}.`].filter(Boolean).join('\n\n'),
        tags: r.tags,
        operationId: `${r.method}${oaPath.replace(/[^A-Za-z0-9]+/g, '_')}`,
        parameters: params,
        responses: {
          [String(r.status)]: {
            description: 'OK',
            ...(r.response
              ? { content: { 'application/json': { schema: toSchema(r.response, 'output') } } }
              : {}),
          },
          default: { $ref: '#/components/responses/Error' },
        },
        ...(r.auth === 'public' ? { security: [] } : {}),
      };
      if (r.body)
        op.requestBody = {
          required: true,
          content: { 'application/json': { schema: toSchema(r.body, 'input') } },
        };
      paths[oaPath] ??= {};
      (paths[oaPath] as Record<string, unknown>)[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      paths,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'loa_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
        responses: {
          Error: {
            description: 'An error with a stable code',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['error'],
                  properties: {
                    error: {
                      type: 'object',
                      required: ['code', 'message'],
                      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    };
  }
}
