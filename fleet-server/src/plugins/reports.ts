/**
 * Reports as a plugin: the report service (folds of proofs and presence, pure figures), the report
 * API, the station register, the staff and training register and the document library (API and
 * dashboard pages), and periodic reports (issued on request and on a schedule, archived
 * under <data dir>/reports). The effectiveness report counts the citizens' feedback of the store
 * (received and answered in the period, by submission time).
 */
import { join } from 'node:path';
import { isLoaError, LoaError, unitCovers } from '@loa/protocol';
import { Hono } from 'hono';
import type { AppEnv } from '../http/auth.js';
import { documentRoutes } from '../http/routes/documents.js';
import { kpiRoutes } from '../http/routes/kpi.js';
import { periodicReportRoutes } from '../http/routes/periodic-reports.js';
import { registerRegisterRoutes } from '../http/routes/register.js';
import { reportRoutes } from '../http/routes/reports.js';
import { staffRoutes } from '../http/routes/staff.js';
import { ui } from '../http/ui/context.js';
import { LiveHub } from '../http/ui/live.js';
import { registerDocumentPages } from '../http/ui/pages/documents.js';
import { registerStaffPages, STAFF_IMPORT_MAX_BYTES } from '../http/ui/pages/staff.js';
import { errorPage, forbiddenPage } from '../http/ui/refusal.js';
import { ctxOf, type UiServer } from '../http/ui/shared.js';
import type { ServerPlugin } from '../server-plugin.js';
import { DocumentLibrary } from '../services/document-library.js';
import { PeriodicReports } from '../services/periodic-reports.js';
import { ReportService } from '../services/report-service.js';
import { StaffRegister } from '../services/staff-register.js';

export interface ReportsPluginOptions {
  /** Issue the previous quarter's and year's reports early in the next (default true). */
  schedule?: boolean;
  /** Largest file the document library takes (default DOCUMENT_DEFAULTS.maxBytes). */
  documentMaxBytes?: number;
}

export interface ReportsPlugin extends ServerPlugin {
  /** Set once started. */
  service: ReportService | undefined;
  periodic: PeriodicReports | undefined;
  staff: StaffRegister | undefined;
  documents: DocumentLibrary | undefined;
}

export function reportsPlugin(options: ReportsPluginOptions = {}): ReportsPlugin {
  const plugin: ReportsPlugin = {
    name: 'reports',
    service: undefined,
    periodic: undefined,
    staff: undefined,
    documents: undefined,
    start: async (deps) => {
      const service = new ReportService({ store: deps.store, clock: deps.clock });
      // citizens' feedback in the unit's subtree, by submission time inside the period
      service.setFeedbackSource(async ({ unit, startMs, endMs }) => {
        const from = new Date(startMs).toISOString();
        const to = new Date(endMs).toISOString();
        const list = await deps.store.feedback.list(
          (r) => unitCovers(unit, r.unit) && r.createdAt >= from && r.createdAt < to,
        );
        const answered = list.filter((r) => r.answeredAt !== undefined).length;
        return {
          received: list.length,
          answered,
          source: `Phản ánh, kiến nghị của người dân trên trang công khai: ${answered}/${list.length} đã trả lời`,
        };
      });
      const periodic = new PeriodicReports({
        store: deps.store,
        reports: service,
        clock: deps.clock,
        logger: deps.logger.child({ module: 'reports' }),
        dir: join(deps.config.dataDir, 'reports'),
      });
      if (options.schedule !== false) periodic.start();
      // the report rollups, brought up to date as each day closes
      service.rollups.startKeeping({
        onError: (err) => deps.logger.error({ err }, 'report rollups failed'),
      });
      plugin.service = service;
      plugin.periodic = periodic;
      const staff = new StaffRegister({ store: deps.store, clock: deps.clock });
      plugin.staff = staff;

      // the dashboard's staff and training pages, with their own error pages
      const uiServer: UiServer = {
        deps,
        api: () => Promise.reject(new LoaError('NOT_AVAILABLE', 'no in-process API here')),
        hub: new LiveHub({}),
        tileUrl: '',
        reports: service,
      };
      const pages = new Hono<AppEnv>();
      pages.onError((err, c) => {
        const ctx = ctxOf(c, uiServer);
        if (isLoaError(err) && err.code === 'CSRF_INVALID') return errorPage(c, ctx, ctx.t('err.csrf'), 403);
        if (isLoaError(err) && (err.code === 'FORBIDDEN_ROLE' || err.code === 'FORBIDDEN_SCOPE'))
          return forbiddenPage(c, ctx);
        if (isLoaError(err)) return errorPage(c, ctx, err.message, 400);
        deps.logger.error({ err, path: c.req.path }, 'staff page failed');
        return errorPage(c, ctx, ctx.t('err.server', { code: 'INTERNAL' }), 500);
      });
      registerStaffPages(pages, uiServer, staff, service);
      const documents = new DocumentLibrary({
        store: deps.store,
        clock: deps.clock,
        dir: join(deps.config.dataDir, 'documents'),
        ...(options.documentMaxBytes !== undefined ? { maxBytes: options.documentMaxBytes } : {}),
      });
      plugin.documents = documents;
      registerDocumentPages(pages, uiServer, documents);
      return {
        routes: [
          reportRoutes(service),
          kpiRoutes(service),
          periodicReportRoutes(periodic),
          registerRegisterRoutes,
          staffRoutes(staff, service),
          documentRoutes(documents),
          (ctx) => {
            ctx.api.bodyCaps.set('POST', ui('/staff/import'), STAFF_IMPORT_MAX_BYTES + 64 * 1024);
            ctx.api.bodyCaps.set('POST', ui('/documents'), documents.maxBytes + 64 * 1024);
            ctx.app.route('/', pages);
          },
        ],
        stop: async () => {
          await service.rollups.stopKeeping();
          await periodic.stop();
        },
      };
    },
  };
  return plugin;
}
