/**
 * A part of the server started after the core: it builds its services on the core's Deps and
 * hands back the route modules that serve them (the services reach their routes as typed
 * arguments, see plugins/). startFleetServer mounts the routes after the core ones and calls
 * stop() in reverse start order.
 */
import type { Deps } from './deps.js';
import type { RouteModule } from './http/route-context.js';

export interface ServerPlugin {
  readonly name: string;
  start(deps: Deps): Promise<StartedPlugin>;
}

export interface StartedPlugin {
  routes?: readonly RouteModule[];
  stop?: () => Promise<void>;
}
