/**
 * Dashboard actions go through the server's own JSON API, in-process: the form handler turns
 * form fields into the API body and calls the route with the operator's session cookie and CSRF
 * token. Role checks, unit scope, validation, audit and the business rules therefore live in one
 * place (the API routes); the dashboard never keeps a second copy.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../auth.js';
import type { FieldErrors } from './context.js';

export type ApiFetch = (req: Request, env?: unknown) => Response | Promise<Response>;

export interface ApiIssue {
  path: string[];
  message: string;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; setCookie: string[] }
  | {
      ok: false;
      status: number;
      code: string;
      message: string;
      issues: ApiIssue[];
      details: Record<string, unknown>;
    };

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { issues?: ApiIssue[] } & Record<string, unknown> };
}

/** Calls `/api/v1${path}` as the current operator. `body` may be JSON (object) or a raw body. */
export async function callApi<T = unknown>(
  fetcher: ApiFetch,
  c: Context<AppEnv>,
  method: string,
  path: string,
  body?: unknown,
  opts: {
    raw?: NonNullable<RequestInit['body']>;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResult<T>> {
  const user = c.get('user');
  const headers = new Headers(opts.headers);
  const cookie = c.req.header('cookie');
  if (cookie) headers.set('cookie', cookie);
  if (user?.csrf) headers.set('x-csrf-token', user.csrf);
  const ua = c.req.header('user-agent');
  if (ua) headers.set('user-agent', ua);
  const fwd = c.req.header('x-forwarded-for');
  if (fwd) headers.set('x-forwarded-for', fwd);
  let payload: NonNullable<RequestInit['body']> | undefined;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    if (opts.contentType) headers.set('content-type', opts.contentType);
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set('content-type', 'application/json');
  }
  const url = new URL(`/api/v1${path}`, c.req.url);
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (payload !== undefined) {
    init.body = payload;
    if (payload instanceof ReadableStream) init.duplex = 'half';
  }
  const res = await fetcher(new Request(url, init), c.env);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, data: json as T, setCookie: res.headers.getSetCookie() };
  const err = (json as ErrorBody | undefined)?.error;
  return {
    ok: false,
    status: res.status,
    code: err?.code ?? `HTTP_${res.status}`,
    message: err?.message ?? text.slice(0, 300),
    issues: err?.details?.issues ?? [],
    details: err?.details ?? {},
  };
}

/**
 * Field errors from an API refusal: each issue goes to the form field named by `fieldOf(path)`
 * (default: the first path segment), anything else to `_form`. Server messages are Vietnamese.
 */
export function apiFieldErrors(
  r: Extract<ApiResult<unknown>, { ok: false }>,
  fieldOf: (path: string[]) => string | undefined = (p) => p[0],
): FieldErrors {
  const out: FieldErrors = {};
  for (const i of r.issues) {
    const f = fieldOf(i.path) ?? '_form';
    if (!(f in out)) out[f] = i.message;
  }
  if (Object.keys(out).length === 0) out._form = `${r.message} (${r.code})`;
  return out;
}
