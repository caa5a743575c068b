/**
 * Reports as a plugin: the report service (folds of proofs and presence, pure figures) and the
 * report API. `reports.service.setFeedbackSource()` is where the citizens' feedback feature adds
 * its figures to the effectiveness report.
 */
import { reportRoutes } from '../http/routes/reports.js';
import type { ServerPlugin } from '../server-plugin.js';
import { ReportService } from '../services/report-service.js';

export interface ReportsPlugin extends ServerPlugin {
  /** Set once started. */
  service: ReportService | undefined;
}

export function reportsPlugin(): ReportsPlugin {
  const plugin: ReportsPlugin = {
    name: 'reports',
    service: undefined,
    start: async (deps) => {
      const service = new ReportService({ store: deps.store, clock: deps.clock });
      plugin.service = service;
      return { routes: [reportRoutes(service)] };
    },
  };
  return plugin;
}
