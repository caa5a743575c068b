/** The standard server's plugins, in start order: the content side, then the dashboard fed by it. */
import type { ServerPlugin } from '../server-plugin.js';
import { type ContentServicesOptions, contentPlugin } from './content.js';
import { type DashboardPluginOptions, dashboardPlugin } from './dashboard.js';

export interface StandardPluginsOptions {
  content?: ContentServicesOptions;
  dashboard?: Omit<DashboardPluginOptions, 'content'>;
}

export function standardPlugins(options: StandardPluginsOptions = {}): ServerPlugin[] {
  const content = contentPlugin(options.content);
  return [content, dashboardPlugin({ ...options.dashboard, content })];
}
