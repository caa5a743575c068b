/**
 * The OpenAPI 3.1 document of the route table: operations with their parameters, request body,
 * success answers (from the routes' zod schemas), 4xx answers sharing one error body, and the
 * security schemes (session cookie, bearer API token, device Basic).
 */
import { z } from 'zod';
import type { UserRole } from '../domain/model.js';
import type { Permission } from '../domain/rbac.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** 'public': no login needed; 'user' (default): any logged-in user, then roles/permission. */
export type AuthMode = 'public' | 'user';

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

export function openApiDocument(
  routes: readonly RouteDoc[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const toSchema = (s: z.ZodType, io: 'input' | 'output'): unknown => {
    try {
      return z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
    } catch {
      return {};
    }
  };
  for (const r of routes) {
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
            routes.some((r) => r.errors.some((s) => ERROR_NAMES[s] === name)),
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
