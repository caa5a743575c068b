/**
 * The operator dashboard as a plugin: mounts the server-rendered pages (http/ui/) with the root
 * app as their in-process API, and the content services when the content plugin is composed
 * before it (`dashboardPlugin({ content })`); without them the pages show the fleet alone.
 */
import { registerUiRoutes, type UiOptions } from '../http/ui/index.js';
import type { ServerPlugin } from '../server-plugin.js';
import type { ContentPlugin } from './content.js';
import type { ReportsPlugin } from './reports.js';

export interface DashboardPluginOptions extends Omit<UiOptions, 'api' | 'content' | 'reports'> {
  /** The content plugin, started before this one: its services feed pages and live updates. */
  content?: ContentPlugin;
  /** The reports plugin, started before this one: the report page uses its service. */
  reports?: ReportsPlugin;
}

export function dashboardPlugin(options: DashboardPluginOptions = {}): ServerPlugin {
  const { content, reports, ...ui } = options;
  return {
    name: 'dashboard',
    start: async () => {
      const services = content?.services;
      const reportService = reports?.service;
      return {
        routes: [
          (ctx) =>
            registerUiRoutes(ctx, {
              ...ui,
              ...(services ? { content: services } : {}),
              ...(reportService ? { reports: reportService } : {}),
            }),
        ],
      };
    },
  };
}
