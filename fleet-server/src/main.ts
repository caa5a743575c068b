/**
 * The composition root of the fleet server's core: reads nothing global by itself (the CLI entry
 * passes the environment), builds the store, broker, auth and HTTP app, starts the plugins it is
 * handed (plugins/: content, dashboard) and mounts their routes after the core ones.
 * `startFleetServer({ httpPort: 0, mqttPort: 0, dataDir })` is what the demo, tests and
 * benchmarks call in-process.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type Clock, systemClock } from '@loa/protocol';
import { type Logger, pino } from 'pino';
import { FleetBroker } from './broker/broker.js';
import { RedisCluster } from './broker/cluster.js';
import { type HealthShare, RedisGuessLimits, RedisHealthShare } from './broker/cluster-shared.js';
import { DeviceAuthenticator } from './broker/device-auth.js';
import { parseConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import type { Deps } from './deps.js';
import { type GuessLimits, LocalGuessLimits } from './domain/rate-limit.js';
import type { RetentionDecision } from './domain/retention.js';
import { createApp, type LoaApp } from './http/app.js';
import type { RouteModule } from './http/route-context.js';
import { CORE_ROUTES } from './http/routes/index.js';
import { METRIC, Metrics } from './metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import type { ServerPlugin } from './server-plugin.js';
import { AuthService } from './services/auth-service.js';
import { LeaderLock, type Leadership, soleLeader } from './services/leader-lock.js';
import { PresenceRecorder } from './services/presence-recorder.js';
import { createFileStore } from './store/file-store.js';
import { createPgStore } from './store/pg-store.js';
import type { Store } from './store/ports.js';

type RetentionDoubt = Extract<RetentionDecision, { trusted: false }> & { dir: string };

export interface StartOptions {
  config?: ServerConfigInput;
  logger?: Logger;
  clock?: Clock;
  /** Plugins to start after the core (default: none; main entry passes the standard set). */
  plugins?: ServerPlugin[];
  /** Snapshot interval of stream state (tests shorten it). */
  snapshotMs?: number;
}

export interface FleetServer {
  httpPort: number;
  mqttPort: number;
  /** http://host:port */
  url: string;
  mqttUrl: string;
  deps: Deps;
  app: LoaApp;
  http: HttpServer;
  broker: FleetBroker;
  /** Set when a fresh data dir got its first administrator: print it once. */
  bootstrap: { username: string; password: string } | null;
  stop(): Promise<void>;
}

export async function startFleetServer(options: StartOptions = {}): Promise<FleetServer> {
  const config: ServerConfig = parseConfig(options.config ?? {});
  const logger = options.logger ?? pino({ name: 'loa-fleet-server', level: 'info' });
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics(() => clock.now());
  const stopProcessMetrics = registerProcessMetrics(metrics);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        logger.error({ err }, 'stop failed');
      }
    }
    stops.length = 0;
  };

  try {
    stops.push(async () => stopProcessMetrics());
    const onRetentionDoubt = (d: RetentionDoubt) => {
      metrics.inc(METRIC.retentionDoubted);
      logger.warn(
        { code: d.code, dir: d.dir, reason: d.reason, lastTrusted: new Date(d.referenceAt).toISOString() },
        'retention paused: the clock is doubted (set RETENTION_TRUST_CLOCK=1 once if it is right)',
      );
    };
    const store: Store =
      config.store === 'postgres'
        ? createPgStore({
            url: config.databaseUrl ?? '',
            poolSize: config.databasePoolSize,
            now: () => clock.now(),
            retentionDays: config.retentionDays,
            retentionTrustClock: config.retentionTrustClock,
            onRetentionDoubt,
            onError: (err) => logger.error({ err }, 'store write failed'),
          })
        : createFileStore({
            dataDir: config.dataDir,
            now: () => clock.now(),
            retentionDays: config.retentionDays,
            registryFlushMs: config.registryFlushMs,
            healthFsyncMs: config.healthFsyncMs,
            ...(options.snapshotMs ? { snapshotMs: options.snapshotMs } : {}),
            onError: (err) => logger.error({ err }, 'store write failed'),
            onDamage: (d) => {
              metrics.inc(METRIC.storeDamagedLines, 1, { reason: d.reason });
              logger.error({ code: 'STORE_LINE_DAMAGED', ...d }, 'damaged record line quarantined');
            },
            onRetentionDoubt,
            retentionTrustClock: config.retentionTrustClock,
          });
    await store.start();
    stops.push(() => store.stop());

    const tls = config.tls
      ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }
      : undefined;
    let cluster: RedisCluster | undefined;
    let leader: Leadership = soleLeader;
    // guess limits in this process, or in Redis for the whole cluster (shared below)
    let guesses: GuessLimits = new LocalGuessLimits();
    let healthShare: HealthShare | undefined;
    if (config.cluster) {
      const c = new RedisCluster({ url: config.cluster.redisUrl, logger });
      cluster = c;
      await c.start();
      stops.push(() => c.stop());
      const lockConn = await c.connection('loa-leader');
      stops.push(async () => lockConn.disconnect());
      const lock = new LeaderLock({
        redis: lockConn,
        nodeId: c.nodeId,
        logger,
        now: () => clock.now(),
        ttlMs: config.cluster.leaderTtlMs,
      });
      await lock.start();
      leader = lock;
      stops.push(() => lock.stop());
      const sharedConn = await c.connection('loa-shared');
      stops.push(async () => sharedConn.disconnect());
      guesses = new RedisGuessLimits(sharedConn, { logger });
      healthShare = new RedisHealthShare(sharedConn, {
        logger,
        nodeId: c.nodeId,
        listen: (channel, fn) => c.on(channel, fn),
      });
    }
    const deviceAuth = new DeviceAuthenticator(store.devices, { now: () => clock.now(), guesses });
    const broker = new FleetBroker({
      deviceAuth,
      metrics,
      logger,
      clock,
      limits: config.broker,
      host: config.host,
      port: config.mqttPort,
      ...(tls ? { tls } : {}),
      ...(cluster ? { cluster: { bus: cluster, aedes: await cluster.aedesParts() } } : {}),
    });
    const mqttPort = await broker.start();
    let brokerStopped = false;
    const stopBroker = async () => {
      if (brokerStopped) return;
      brokerStopped = true;
      await broker.stop();
    };
    stops.push(stopBroker);
    // presence for uptime reports: stopped before the broker so the stop mark comes last
    const presence = new PresenceRecorder({ presence: store.presence, broker, clock, logger });
    await presence.start();
    stops.push(() => presence.stop());

    const auth = new AuthService({ store, clock, config, logger, metrics, guesses });
    metrics.define(METRIC.devicesEnrolled, 'gauge', 'Active enrolled devices (updated at each scrape)');
    metrics.define(
      METRIC.ingestLagSeconds,
      'gauge',
      'Seconds between a device message and its ingest (set by ingest)',
    );
    metrics.define(METRIC.alertsOpen, 'gauge', 'Open alerts (set by the alert engine)');
    metrics.define(METRIC.loginFailures, 'counter', 'Failed logins');
    metrics.define(METRIC.storeDamagedLines, 'counter', 'Damaged record lines found and quarantined');
    metrics.define(METRIC.retentionDoubted, 'counter', 'Retention runs refused on a doubted clock');
    metrics.define(
      METRIC.registryWrites,
      'counter',
      'Registry file writes since start',
      () => store.stats().registryWrites,
    );
    metrics.define(
      METRIC.registryBytes,
      'counter',
      'Registry bytes written since start',
      () => store.stats().registryBytesWritten,
    );

    const deps: Deps = {
      config,
      logger,
      clock,
      store,
      metrics,
      broker,
      auth,
      deviceAuth,
      leader,
      ...(cluster ? { cluster } : {}),
      ...(healthShare ? { healthShare } : {}),
    };
    const routes: RouteModule[] = [...CORE_ROUTES];
    for (const p of options.plugins ?? []) {
      const r = await p.start(deps);
      if (r.routes) routes.push(...r.routes);
      if (r.stop) stops.push(r.stop);
      logger.debug({ plugin: p.name }, 'plugin started');
    }

    const bootstrap = await auth.bootstrap();
    const app = createApp(deps, { routes });
    const listener = getRequestListener(app.fetch);
    const http = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener)
      : createHttpServer(listener);
    http.headersTimeout = 30_000;
    http.requestTimeout = 120_000;
    broker.attachWebSocket(http);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.httpPort, config.host, () => resolve());
    });
    // upgraded WebSocket sockets keep the HTTP server open: stop the broker (which closes them) first
    stops.push(async () => {
      await stopBroker();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    });
    const httpPort = (http.address() as AddressInfo).port;
    // ports known now: endpoints handed to devices use them unless a public URL is configured
    config.httpPort = httpPort;
    config.mqttPort = mqttPort;

    const sweep = setInterval(() => {
      void store.sessions.deleteExpired(new Date(clock.now()).toISOString()).catch(() => {});
    }, 3600_000);
    sweep.unref();
    stops.push(async () => clearInterval(sweep));

    const scheme = tls ? 'https' : 'http';
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    logger.info({ httpPort, mqttPort, dataDir: config.dataDir, store: config.store }, 'fleet server started');
    return {
      httpPort,
      mqttPort,
      url: `${scheme}://${host}:${httpPort}`,
      mqttUrl: `${tls ? 'mqtts' : 'mqtt'}://${host}:${mqttPort}`,
      deps,
      app,
      http,
      broker,
      bootstrap,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
