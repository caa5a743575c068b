/** Plumbing shared by the dashboard's route modules. */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Deps } from '../../deps.js';
import { can, inScope, type Permission, type Principal } from '../../domain/rbac.js';
import { SESSION_COOKIE } from '../../services/auth-service.js';
import type { ContentServices } from '../../services/content-services.js';
import type { ReportService } from '../../services/report-service.js';
import { type AppEnv, type AuthUser, checkCsrf } from '../auth.js';
import type { ApiFetch } from './api-client.js';
import { type UiCtx, ui } from './context.js';
import { LANG_COOKIE, langFrom, type MsgKey, translator } from './i18n/index.js';
import { vi } from './i18n/vi.js';
import type { LiveHub } from './live.js';
import { forbiddenPage } from './refusal.js';

export interface UiServer {
  deps: Deps;
  /** In-process call into the JSON API (actions go through it). */
  api: ApiFetch;
  hub: LiveHub;
  /** Optional map tile URL template ({z}/{x}/{y}); empty = plain background. */
  tileUrl: string;
  /** The content side's services, when the server runs them. */
  content?: ContentServices;
  reports?: ReportService;
}

export type UiContext = Context<AppEnv>;

/** Resolves the session when the app-level middleware did not run (UI mounted standalone). */
export async function ensureUser(c: UiContext, s: UiServer): Promise<AuthUser | null> {
  const existing = c.get('user');
  if (existing !== undefined) return existing;
  const cookie = getCookie(c, SESSION_COOKIE);
  const user = cookie ? await s.deps.auth.resolveSession(cookie) : null;
  c.set('user', user);
  return user;
}

export function ctxOf(c: UiContext, s: UiServer): UiCtx {
  const lang = langFrom(getCookie(c, LANG_COOKIE));
  const t = translator(lang);
  const u = c.get('user');
  const okKey = c.req.query('ok');
  const flash =
    okKey && okKey in vi
      ? { kind: 'ok' as const, text: t(okKey as MsgKey, { id: c.req.query('id') ?? '' }) }
      : undefined;
  return {
    lang,
    t,
    user: u
      ? { id: u.id, username: u.username, displayName: u.displayName, role: u.role, scope: u.scope }
      : undefined,
    csrf: u?.csrf ?? '',
    path: c.req.path,
    now: s.deps.clock.now(),
    ...(flash ? { flash } : {}),
  };
}

/** Where to send someone who is not logged in. */
export function loginRedirect(c: UiContext): Response {
  const next = c.req.path + (c.req.url.includes('?') ? `?${c.req.url.split('?')[1]}` : '');
  return c.redirect(`${ui('/login')}?next=${encodeURIComponent(next)}`, 303);
}

export type Guarded = { user: AuthUser; ctx: UiCtx } | { response: Response | Promise<Response> };

/** Logged in (and password changed) with the permission, or a redirect / 403 page response. */
export async function guard(
  c: UiContext,
  s: UiServer,
  permission: Permission = 'read',
  forbidden?: (ctx: UiCtx) => Response | Promise<Response>,
): Promise<Guarded> {
  const user = await ensureUser(c, s);
  if (!user) return { response: loginRedirect(c) };
  if (user.mustChangePassword) return { response: c.redirect(ui('/password'), 303) };
  const ctx = ctxOf(c, s);
  if (!can(user.role, permission)) {
    if (forbidden) return { response: await forbidden(ctx) };
    return { response: forbiddenPage(c, ctx, permission) };
  }
  if (can(user.role, 'bundle.approve')) {
    const waiting = await s.deps.store.bundles.list(
      (b) => b.state === 'submitted' && b.units.every((u) => inScope(user, u)),
    );
    if (waiting.length > 0) ctx.waiting = waiting.length;
  }
  return { user, ctx };
}

/** Form fields as strings (multi-valued fields as arrays); files are kept as File. */
export type FormFields = Record<string, string | string[] | File>;

export async function readForm(c: UiContext): Promise<FormFields> {
  const body = await c.req.parseBody({ all: true });
  const out: FormFields = {};
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    else out[k] = v as string | File;
  }
  return out;
}

export const str = (f: FormFields, k: string): string => {
  const v = f[k];
  return typeof v === 'string' ? v.trim() : Array.isArray(v) ? (v[0] ?? '').trim() : '';
};
export const list = (f: FormFields, k: string): string[] => {
  const v = f[k];
  if (typeof v === 'string') return v.trim() ? [v.trim()] : [];
  if (Array.isArray(v)) return v.map((x) => x.trim()).filter(Boolean);
  return [];
};

/** CSRF check of a dashboard form (session's token in the `_csrf` field). Throws CSRF_INVALID. */
export function checkFormCsrf(c: UiContext, f: FormFields): void {
  checkCsrf(c, str(f, '_csrf'));
}

export function scopeOf(user: AuthUser): (unit: string) => boolean {
  return (unit) => inScope(user, unit);
}

/** Redirect after a successful POST, with a flash message key. */
export function done(c: UiContext, path: string, okKey: MsgKey, id?: string): Response {
  const sep = path.includes('?') ? '&' : '?';
  return c.redirect(
    `${path}${sep}ok=${encodeURIComponent(okKey)}${id ? `&id=${encodeURIComponent(id)}` : ''}`,
    303,
  );
}

/** The signed-in operator as the services' actor (audited with the address and `session`). */
export function sessionActor(
  u: AuthUser,
  ip?: string,
): Principal & { ip?: string | undefined; via: 'session' } {
  return { id: u.id, username: u.username, role: u.role, scope: u.scope, ip, via: 'session' };
}
