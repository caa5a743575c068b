/**
 * The standard server's plugins, in start order: the content side, the integrations that use it
 * (CAP intake, the event stream, spoken bulletins), then the dashboard fed by it.
 */
import type { ServerPlugin } from '../server-plugin.js';
import { type CitizensPluginOptions, citizensPlugin } from './citizens.js';
import { type ContentServicesOptions, contentPlugin } from './content.js';
import { type DashboardPluginOptions, dashboardPlugin } from './dashboard.js';
import { integrationsPlugin } from './integrations.js';
import { releasesPlugin } from './releases.js';
import { reportsPlugin } from './reports.js';

export interface StandardPluginsOptions {
  content?: ContentServicesOptions;
  dashboard?: Omit<DashboardPluginOptions, 'content'>;
  citizens?: Omit<CitizensPluginOptions, 'content'>;
}

export function standardPlugins(options: StandardPluginsOptions = {}): ServerPlugin[] {
  const content = contentPlugin(options.content);
  const reports = reportsPlugin();
  return [
    content,
    integrationsPlugin({ content }),
    releasesPlugin({ content }),
    reports,
    dashboardPlugin({ ...options.dashboard, content, reports }),
    citizensPlugin({ ...options.citizens, content }),
  ];
}
