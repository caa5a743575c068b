/**
 * The dependencies handed to createApp() and services. Built once in main.ts (the composition
 * root). Other modules add their services here as optional fields (keep additions additive).
 */
import type { Clock } from '@loa/protocol';
import type { Logger } from 'pino';
import type { DeviceAuthenticator } from './broker/device-auth.js';
import type { BrokerApi } from './broker/types.js';
import type { ServerConfig } from './config.js';
import type { AuthService } from './http/auth-service.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/types.js';

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
  /** Content-side services (publisher, ingest, alerts, emergency…), added by their modules. */
  services: Services;
}

/**
 * Registry of optional services, extended by the modules that own them, e.g.
 *   declare module '../deps.js' { interface Services { publisher?: Publisher } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by declaration merging
export interface Services {}
