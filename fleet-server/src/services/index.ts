/**
 * The content side of the fleet server, assembled: content library, signer, trust policy,
 * publisher, notifier, ingest, alerts, webhooks, emergency. The CLI passes
 * `contentPlugin(contentOptionsFromEnv(env))` to startFleetServer: the plugin builds the services
 * on the core's Deps, puts them into `deps.services.content`, starts them, and contributes its
 * routes (CONTENT_ROUTES) and error statuses (CONTENT_ERROR_STATUS).
 */
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { Deps } from '../deps.js';
import type { RouteModule } from '../http/app.js';
import { registerAlertRoutes } from '../http/routes/alerts.js';
import { registerApprovalRoutes } from '../http/routes/approvals.js';
import { registerBlobRoutes } from '../http/routes/blobs.js';
import { registerBundleRoutes } from '../http/routes/bundles.js';
import { registerContentRoutes } from '../http/routes/content.js';
import { registerEmergencyRoutes } from '../http/routes/emergency.js';
import { registerIngestRoutes } from '../http/routes/ingest.js';
import { registerRolloutRoutes } from '../http/routes/rollouts.js';
import { registerTrustRoutes } from '../http/routes/trust.js';
import type { ServerPlugin } from '../main.js';
import { CONTENT_ERROR_STATUS } from './access.js';
import { AlertEngine, type AlertEngineOptions } from './alert-engine.js';
import { BlobStore } from './blob-store.js';
import { ContentService } from './content-service.js';
import { EmergencyService } from './emergency-service.js';
import { IngestService } from './ingest-service.js';
import { Notifier, type Urls } from './notifier.js';
import { Publisher, type PublisherOptions } from './publisher.js';
import { loadOrCreateMasterKey, parseMasterKey, Signer } from './signer.js';
import { Transcoder, type TranscoderOptions } from './transcoder.js';
import { TrustService } from './trust-service.js';
import { WebhookService } from './webhooks.js';

export { CONTENT_ERROR_STATUS };

export interface ContentServices {
  blobs: BlobStore;
  transcoder: Transcoder;
  content: ContentService;
  signer: Signer;
  trust: TrustService;
  notifier: Notifier;
  publisher: Publisher;
  ingest: IngestService;
  alerts: AlertEngine;
  webhooks: WebhookService;
  emergency: EmergencyService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

declare module '../deps.js' {
  interface Services {
    content?: ContentServices;
  }
}

export interface ContentServicesOptions {
  /** 32-byte key encrypting server-held signing keys (main.ts: LOA_KEY_SECRET); default: a 0600 file in the data dir. */
  masterKey?: Buffer;
  /** Base URL devices use (default: config.publicUrl, else http://host:port as listened). */
  baseUrl?: () => string;
  maxUploadBytes?: number;
  transcoder?: TranscoderOptions;
  publisher?: PublisherOptions;
  alerts?: AlertEngineOptions;
  webhooks?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

/** Route modules of the content side, for createApp({ routes }). */
export const CONTENT_ROUTES: RouteModule[] = [
  registerContentRoutes,
  registerBundleRoutes,
  registerApprovalRoutes,
  registerRolloutRoutes,
  registerTrustRoutes,
  registerEmergencyRoutes,
  registerAlertRoutes,
  registerIngestRoutes,
  registerBlobRoutes,
];

/**
 * Options from the environment (the CLI passes `process.env`): LOA_KEY_SECRET (32 bytes, base64
 * or hex: the key that encrypts server-held signing keys; without it a 0600 file
 * `<DATA_DIR>/secrets/signing-master.key` is created), MAX_UPLOAD_MB.
 */
export function contentOptionsFromEnv(env: NodeJS.ProcessEnv): ContentServicesOptions {
  const out: ContentServicesOptions = {};
  if (env.LOA_KEY_SECRET) out.masterKey = parseMasterKey(env.LOA_KEY_SECRET);
  if (env.MAX_UPLOAD_MB) {
    const mb = Number(env.MAX_UPLOAD_MB);
    if (!Number.isInteger(mb) || mb < 1)
      throw new LoaError(
        'CONFIG_INVALID',
        `MAX_UPLOAD_MB phải là số nguyên dương (đang là "${env.MAX_UPLOAD_MB}")`,
      );
    out.maxUploadBytes = mb * 1024 * 1024;
  }
  return out;
}

/** The content side as a plugin of startFleetServer (main.ts). */
export function contentPlugin(opts: ContentServicesOptions = {}): ServerPlugin {
  return {
    name: 'content',
    async start(deps) {
      const services = await createContentServices(deps, opts);
      deps.services.content = services;
      await services.start();
      return { routes: CONTENT_ROUTES, errorStatus: CONTENT_ERROR_STATUS, stop: () => services.stop() };
    },
  };
}

export async function createContentServices(
  deps: Deps,
  opts: ContentServicesOptions = {},
): Promise<ContentServices> {
  const { config, store, broker, logger, metrics, clock } = deps;
  const now = () => clock.now();
  const dataDir = config.dataDir;
  const urls: Urls = {
    base:
      opts.baseUrl ??
      (() => (config.publicUrl ?? `http://${config.host}:${config.httpPort}`).replace(/\/+$/, '')),
  };
  const masterKey =
    opts.masterKey ?? (await loadOrCreateMasterKey(join(dataDir, 'secrets', 'signing-master.key')));
  const blobs = new BlobStore(join(dataDir, 'blobs'));
  const transcoder = new Transcoder(opts.transcoder);
  const log = logger.child({ module: 'content' });
  const content = new ContentService({
    store,
    blobs,
    transcoder,
    logger: log,
    now,
    ...(opts.maxUploadBytes ? { maxUploadBytes: opts.maxUploadBytes } : {}),
  });
  const signer = new Signer({ store, masterKey, now });
  const trust = new TrustService({
    store,
    roots: config.trustRoots,
    threshold: config.trustRootThreshold,
    now,
  });
  const notifier = new Notifier({ broker, store, urls, now });
  const publisher = new Publisher({
    store,
    blobs,
    signer,
    trust,
    notifier,
    logger: log,
    now,
    ...(opts.publisher ? { options: opts.publisher } : {}),
  });
  const ingest = new IngestService(
    { store, broker, metrics, logger, now },
    { healthHistoryEveryS: deps.config.healthHistoryEveryS },
  );
  const alerts = new AlertEngine(
    { store, metrics, logger, now, states: () => ingest.liveAll().values() },
    opts.alerts,
  );
  const webhooks = new WebhookService({
    file: join(dataDir, 'webhooks.json'),
    logger,
    now,
    ...opts.webhooks,
  });
  const emergency = new EmergencyService({ store, blobs, transcoder, signer, trust, notifier, logger, now });

  ingest.addHooks({
    onState: (s) => alerts.evaluate(s),
    onStatus: async (deviceId, s) => {
      await emergency.applyStatus(deviceId, s);
      await publisher.applyStatus(deviceId, s);
    },
    onProof: async (deviceId, p) => {
      if (p.priority === 'emergency') await emergency.applyProof(deviceId, p);
    },
    onReconnected: async (deviceId, state) => {
      await publisher.catchUp(deviceId, state.health?.bundles ?? []);
    },
  });
  metrics.define('loa_bundles_published_total', 'counter', 'Bundles published (emergencies excluded)');
  metrics.define('loa_emergencies_sent_total', 'counter', 'Emergency broadcasts sent');
  metrics.define('loa_alerts_opened_total', 'counter', 'Alerts opened');
  alerts.on((e) => {
    if (e.type === 'opened') metrics.inc('loa_alerts_opened_total');
    webhooks.emit(`alert.${e.type}`, e.alert, [e.alert.unit]);
  });
  emergency.on((e) => {
    if (e.type !== 'emergency.sent') return;
    metrics.inc('loa_emergencies_sent_total');
    webhooks.emit('emergency.sent', e, [e.unit]);
  });
  publisher.on((e) => {
    if (e.type !== 'bundle' || e.bundle.state !== 'published') return;
    metrics.inc('loa_bundles_published_total');
    webhooks.emit(
      'bundle.published',
      {
        id: e.bundle.id,
        channel: e.bundle.channel,
        version: e.bundle.version,
        units: e.bundle.units,
      },
      e.bundle.units,
    );
  });

  const services: ContentServices = {
    blobs,
    transcoder,
    content,
    signer,
    trust,
    notifier,
    publisher,
    ingest,
    alerts,
    webhooks,
    emergency,
    async start() {
      await blobs.start();
      await trust.start();
      await webhooks.start();
      await ingest.start();
      await alerts.start();
    },
    async stop() {
      await ingest.stop();
      await alerts.stop();
      await webhooks.stop();
    },
  };
  return services;
}
