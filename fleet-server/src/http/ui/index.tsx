/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The operator dashboard: server-rendered hono/jsx pages under /ui, Vietnamese by default,
 * progressive enhancement with small local modules, live updates over batched SSE.
 *
 * Mount: `app.route('/', uiRoutes(deps, { api: (req, env) => app.fetch(req, env) }))`, or pass
 * `registerUiRoutes` to createApp's `routes` option (it wires the in-process API itself);
 * plugins/dashboard.ts does the latter.
 */
import { isLoaError } from '@loa/protocol';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Deps } from '../../deps.js';
import { inScope } from '../../domain/rbac.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../../services/content-service.js';
import type { ContentServices } from '../../services/content-services.js';
import type { ReportService } from '../../services/report-service.js';
import type { AppEnv } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import type { ApiFetch } from './api-client.js';
import { assetRoutes } from './assets.js';
import { ui } from './context.js';
import { registerKioskPreview } from './kiosk-preview.js';
import { LiveHub, type LiveView } from './live.js';
import { registerAdminPages } from './pages/admin.js';
import { BOUNDARIES_FORM_LIMIT } from './pages/admin-boundaries.js';
import { registerApprovalPages } from './pages/approvals.js';
import { registerAuditPage } from './pages/audit.js';
import { registerAuthPages } from './pages/auth.js';
import { registerContentPages } from './pages/content.js';
import { deviceLiveView, registerDevicePages } from './pages/device.js';
import { emergencyLiveView, parseIds, registerEmergencyPages } from './pages/emergency.js';
import { registerEmergencyRepeatPages } from './pages/emergency-repeat.js';
import { registerEnrolmentPages } from './pages/enrolments.js';
import {
  fleetLiveView,
  fleetShown,
  parseFleetFilter,
  parsePaging,
  registerFleetPages,
} from './pages/fleet.js';
import { registerLexiconPages } from './pages/lexicon.js';
import { overviewLiveView, registerOverviewPage } from './pages/overview.js';
import { registerProgrammePages } from './pages/programmes.js';
import { registerRecallPages } from './pages/recall.js';
import { registerReleasePages } from './pages/releases.js';
import { registerReportPages } from './pages/reports.js';
import { registerTimelinePages } from './pages/timeline.js';
import { errorPage, forbiddenPage } from './refusal.js';
import { ctxOf, ensureUser, type UiServer } from './shared.js';

export interface UiOptions {
  /** In-process JSON API (the root app's fetch); actions go through it. */
  api: ApiFetch;
  /** Map tile URL template, e.g. "https://tiles.example/{z}/{x}/{y}.png"; empty = plain background. */
  tileUrl?: string;
  /** Live update batching interval (default 1000 ms). */
  liveIntervalMs?: number;
  /** The content side's services, when the server runs them. */
  content?: ContentServices;
  /** The report service (the report page shares its figures and folds with the report API). */
  reports?: ReportService;
}

/** Live views by page name; extended by page modules that have live content. */
export type LiveViewFactory = (
  s: UiServer,
  c: Parameters<typeof ctxOf>[0],
  arg: string,
) => Promise<LiveView | null>;

export function uiRoutes(deps: Deps, options: UiOptions): Hono<AppEnv> {
  const log = deps.logger.child({ module: 'ui' });
  const hub = new LiveHub({
    ...(options.liveIntervalMs !== undefined ? { intervalMs: options.liveIntervalMs } : {}),
    onError: (err) => log.warn({ err }, 'live render failed'),
  });
  const s: UiServer = {
    deps,
    api: options.api,
    hub,
    tileUrl: options.tileUrl ?? '',
    ...(options.content ? { content: options.content } : {}),
    ...(options.reports ? { reports: options.reports } : {}),
  };
  const app = new Hono<AppEnv>();

  // Live sources are attached while at least one page listens.
  let listeners = 0;
  let detach: (() => void)[] = [];
  const attach = () => {
    if (listeners++ > 0) return;
    hub.start();
    const content = options.content;
    detach = [deps.broker.onPresence((p) => hub.markDevice(p.deviceId))];
    if (content) {
      // After ingest has stored the message, so a render reads the new state.
      detach.push(
        content.ingest.on((e) => {
          hub.markDevice(e.deviceId);
          if (e.type === 'proof') hub.markTopic('proofs');
        }),
      );
      detach.push(
        content.alerts.on((e) => {
          hub.markDevice(e.alert.deviceId);
          hub.markTopic('alerts');
        }),
      );
      detach.push(content.emergency.on((e) => hub.markTopic(`emergency:${e.bundleId}`)));
      detach.push(content.screenshots.onAdded((m) => hub.markDevice(m.deviceId)));
    } else detach.push(deps.broker.onDeviceMessage((m) => hub.markDevice(m.deviceId)));
  };
  const release = () => {
    if (--listeners > 0) return;
    for (const d of detach) d();
    detach = [];
    hub.stop();
  };

  app.onError((err, c) => {
    const ctx = ctxOf(c, s);
    if (isLoaError(err) && err.code === 'CSRF_INVALID') return errorPage(c, ctx, ctx.t('err.csrf'), 403);
    if (isLoaError(err) && (err.code === 'FORBIDDEN_ROLE' || err.code === 'FORBIDDEN_SCOPE'))
      return forbiddenPage(c, ctx);
    log.error({ err, path: c.req.path }, 'dashboard request failed');
    return errorPage(c, ctx, ctx.t('err.server', { code: isLoaError(err) ? err.code : 'INTERNAL' }), 500);
  });

  const assets = assetRoutes();
  app.route(ui('/assets'), assets);
  app.route(ui('/vendor'), assets);
  registerAuthPages(app, s);
  registerOverviewPage(app, s);
  registerFleetPages(app, s);
  registerDevicePages(app, s);
  registerEnrolmentPages(app, s);
  registerAdminPages(app, s);
  registerAuditPage(app, s);
  registerLexiconPages(app, s);
  registerContentPages(app, s);
  registerProgrammePages(app, s);
  registerRecallPages(app, s);
  registerApprovalPages(app, s);
  registerEmergencyRepeatPages(app, s);
  registerEmergencyPages(app, s);
  registerReportPages(app, s);
  registerTimelinePages(app, s);
  registerReleasePages(app, s);
  registerKioskPreview(app);

  app.get('/', (c) => c.redirect(ui('/'), 302));
  app.get('/favicon.ico', (c) => c.redirect(ui('/assets/favicon.svg'), 301));

  app.get('/ui/live/:page/:arg?', async (c) => {
    const user = await ensureUser(c, s);
    if (!user || user.mustChangePassword) return c.text('', 401);
    const ctx = ctxOf(c, s);
    const page = c.req.param('page');
    const arg = c.req.param('arg') ?? '';
    let view: LiveView | null = null;
    if (page === 'overview') view = overviewLiveView(s, user, ctx);
    else if (page === 'fleet') {
      const filter = parseFleetFilter(c.req.query());
      view = fleetLiveView(s, user, ctx, await fleetShown(s, user, filter, parsePaging(c.req.query())));
    } else if (page === 'device') {
      const d = await deps.store.devices.get(arg);
      if (d && inScope(user, d.unit))
        view = deviceLiveView(s, ctx, d.id, {
          proofSeq: Number(c.req.query('seq') ?? 0) || 0,
          healthAt: c.req.query('h') || undefined,
          shotId: c.req.query('shot') || undefined,
        });
    } else if (page === 'emergency' && arg) view = emergencyLiveView(s, c, ctx, parseIds(arg));
    if (!view) return c.text('', 404);
    const v = view;
    return streamSSE(c, async (stream) => {
      let closed = false;
      attach();
      const off = hub.connect(v, (json) => {
        stream.writeSSE({ event: 'update', data: json }).catch(() => {
          closed = true;
        });
      });
      stream.onAbort(() => {
        closed = true;
      });
      try {
        await stream.writeSSE({ event: 'hello', data: '{}', retry: 3000 });
        while (!closed) {
          await stream.sleep(15_000);
          if (!closed) await stream.write(': keep-alive\n\n');
        }
      } finally {
        off();
        release();
      }
    });
  });

  return app;
}

/** createApp route module: mounts the dashboard with the root app as its in-process API. */
export function registerUiRoutes(ctx: RouteContext, options: Omit<UiOptions, 'api'> = {}): void {
  const root = ctx.app;
  // dashboard forms get the default body cap; the two forms that carry a file get the upload limit
  const upload = (options.content?.content.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES) + 64 * 1024;
  ctx.api.bodyCaps.set('POST', ui('/content/upload'), upload);
  ctx.api.bodyCaps.set('POST', ui('/emergency'), upload);
  ctx.api.bodyCaps.set('POST', ui('/admin/boundaries'), BOUNDARIES_FORM_LIMIT);
  ctx.app.route('/', uiRoutes(ctx.deps, { ...options, api: (req, env) => root.fetch(req, env as never) }));
}
