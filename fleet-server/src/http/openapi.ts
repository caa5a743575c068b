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

/** 'public': no login needed; 'user' (default): any logged-in user, then roles/permission. */
export type AuthMode = 'public' | 'user';

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

export type ClientErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 416 | 422 | 429;

/** What the OpenAPI document says of one operation. */
export interface RouteDoc {
  method: Method | 'head';
  /** Full hono path (e.g. /api/v1/units/:path{…} or /blobs/:sha256). */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: AuthMode | 'device';
  roles?: readonly UserRole[];
  permission?: Permission;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Success answers: status → media type and schema (no content for 204/304). */
  responses: Record<
    number,
    { description: string; type?: string; schema?: z.ZodType | Record<string, unknown> }
  >;
  /** 4xx answers with the error body. */
  errors: readonly ClientErrorStatus[];
}

/** A route registered on the app directly (raw answers: files, text, streams), documented by hand. */
export type RawRouteDoc = Omit<RouteDoc, 'tags' | 'errors'> & {
  tags?: string[];
  errors?: readonly ClientErrorStatus[];
};

/** 4xx answers a JSON route can give, from what its spec declares. */
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

/** The body of every error answer (app.onError): a stable code, a message, sometimes details. */
export const ErrorBodySchema = z.object({
  error: z.object({
    /** Stable machine-readable code, e.g. VALIDATION_FAILED, FORBIDDEN_SCOPE, DEVICE_NOT_FOUND. */
    code: z.string(),
    /** Human-readable message (Vietnamese). */
    message: z.string(),
    /** Structured facts (e.g. validation issues, retryAfterSeconds); never on 5xx. */
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

const ERROR_NAMES: Record<ClientErrorStatus, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Gone',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  416: 'RangeNotSatisfiable',
  422: 'UnprocessableContent',
  429: 'TooManyRequests',
};
const ERROR_RESPONSES: (readonly [string, string])[] = [
  ['BadRequest', 'Invalid input (VALIDATION_FAILED, BAD_JSON, …)'],
  ['Unauthorized', 'Not logged in, or the credentials are wrong (AUTH_REQUIRED, AUTH_INVALID)'],
  ['Forbidden', 'Role, permission, unit scope or CSRF token refused (FORBIDDEN_*, CSRF_INVALID)'],
  ['NotFound', "No such resource, or not in the caller's scope (*_NOT_FOUND)"],
  ['Conflict', 'Conflicts with what is stored (*_EXISTS, *_CONFLICT, VERSION_ROLLBACK)'],
  ['Gone', 'No longer available'],
  ['PayloadTooLarge', 'Body over the limit (PAYLOAD_TOO_LARGE)'],
  ['UnsupportedMediaType', 'Body of a media type the route does not take'],
  ['RangeNotSatisfiable', 'Range outside the resource'],
  ['UnprocessableContent', 'Well-formed but refused by the rules (signatures, trust, media)'],
  ['TooManyRequests', 'Rate limited; Retry-After says when to try again'],
];

/**
 * An OpenAPI path from a hono path: `:name` → `{name}`, and a parameter with a pattern
 * (`:path{[0-9]+(?:…)*}`) documents it; `params` receives the path parameters.
 */
function openApiPath(path: string, params: unknown[]): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    if (path[i] === ':' && path[i - 1] === '/') {
      let j = i + 1;
      while (j < path.length && /[A-Za-z0-9_]/.test(path[j] as string)) j++;
      const name = path.slice(i + 1, j);
      let pattern: string | undefined;
      if (path[j] === '{') {
        const end = path.indexOf('}', j);
        pattern = path.slice(j + 1, end);
        j = end + 1;
      }
      params.push({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string', ...(pattern ? { pattern: `^${pattern}$` } : {}) },
        ...(name === 'path'
          ? {
              description:
                'Unit path of official codes, e.g. 08/02500 (its slashes may be sent encoded: 08%2F02500)',
            }
          : {}),
      });
      out += `{${name}}`;
      i = j;
    } else out += path[i++];
  }
  return out;
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
      const oaPath = openApiPath(r.path, params);
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
          : r.auth === 'device'
            ? 'a device (HTTP Basic: device id and MQTT password) or any logged-in user'
            : [
                r.roles ? `roles: ${r.roles.join(', ')}` : '',
                r.permission ? `permission: ${r.permission}` : '',
              ]
                .filter(Boolean)
                .join('; ') || 'any logged-in user';
      const op: Record<string, unknown> = {
        summary: r.summary,
        description: [r.description, `Access: ${access}.`].filter(Boolean).join('\n\n'),
        tags: r.tags,
        operationId: `${r.method}${oaPath.replace(/[^A-Za-z0-9]+/g, '_')}`,
        parameters: params,
        responses: {
          ...Object.fromEntries(
            Object.entries(r.responses).map(([status, a]) => [
              status,
              {
                description: a.description,
                ...(a.type
                  ? {
                      content: {
                        [a.type]: {
                          schema:
                            a.schema instanceof z.ZodType ? toSchema(a.schema, 'output') : (a.schema ?? {}),
                        },
                      },
                    }
                  : {}),
              },
            ]),
          ),
          ...Object.fromEntries(
            r.errors.map((s) => [String(s), { $ref: `#/components/responses/${ERROR_NAMES[s]}` }]),
          ),
          default: { $ref: '#/components/responses/Error' },
        },
        ...(r.auth === 'public'
          ? { security: [] }
          : r.auth === 'device'
            ? { security: [{ device: [] }, { session: [] }, { bearer: [] }] }
            : {}),
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
      info: { license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }, ...info },
      servers: [{ url: '/' }],
      paths,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'loa_session' },
          bearer: { type: 'http', scheme: 'bearer' },
          device: { type: 'http', scheme: 'basic', description: 'device id and MQTT password' },
        },
        schemas: { ErrorBody: toSchema(ErrorBodySchema, 'output') },
        responses: Object.fromEntries(
          [
            ['Error', 'An error with a stable code'] as const,
            ...ERROR_RESPONSES.filter(([name]) =>
              this.routes.some((r) => r.errors.some((s) => ERROR_NAMES[s] === name)),
            ),
          ].map(([name, description]) => [
            name,
            {
              description,
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
            },
          ]),
        ),
      },
      security: [{ session: [] }, { bearer: [] }],
    };
  }
}
