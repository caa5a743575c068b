/**
 * The core's dependencies, handed to createApp(), the core routes and the plugins. Built once
 * in main.ts (the composition root). A plugin's own services are not in here: the plugin hands
 * them to its routes as arguments (see plugins/).
 */
import type { Clock } from '@loa/protocol';
import type { Logger } from 'pino';
import type { ClusterBus } from './broker/cluster.js';
import type { HealthShare } from './broker/cluster-shared.js';
import type { DeviceAuthenticator } from './broker/device-auth.js';
import type { BrokerApi } from './broker/types.js';
import type { ServerConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { AuthService } from './services/auth-service.js';
import type { Leadership } from './services/leader-lock.js';
import type { Store } from './store/ports.js';

export interface Deps {
  config: ServerConfig;
  logger: Logger;
  clock: Clock;
  store: Store;
  metrics: Metrics;
  broker: BrokerApi;
  auth: AuthService;
  /** Device credential check (MQTT and HTTP Basic). */
  deviceAuth: DeviceAuthenticator;
  /** Whether this process runs the jobs that run once per cluster (always, when not clustered). */
  leader: Leadership;
  /** Clustered only: server events between the nodes (presence, emergency progress). */
  cluster?: ClusterBus;
  /** Clustered only: every device's newest health, whichever node received it. */
  healthShare?: HealthShare;
}
