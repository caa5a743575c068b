/**
 * The content side of the fleet server as a plugin: builds the content library, signer, trust
 * policy, publisher, notifier, ingest, alerts, webhooks and emergency services on the core's
 * Deps, starts them, and mounts their routes, each handed the services it uses. Once started, the plugin
 * holds its services (`plugin.services`) for the plugins composed after it (the dashboard) and
 * for in-process callers (demo, benchmarks, tests).
 */
import { join } from 'node:path';
import { LoaError, type Proof, type Status } from '@loa/protocol';
import type { Deps } from '../deps.js';
import type { EscalationPolicy } from '../domain/emergency.js';
import type { RouteModule } from '../http/route-context.js';
import { registerAlertRoutes } from '../http/routes/alerts.js';
import { registerApprovalRoutes } from '../http/routes/approvals.js';
import { registerBlobRoutes } from '../http/routes/blobs.js';
import { registerBundleRoutes } from '../http/routes/bundles.js';
import { registerChoicesRoutes } from '../http/routes/choices.js';
import { registerCommandRoutes } from '../http/routes/commands.js';
import { registerContentRoutes } from '../http/routes/content.js';
import { registerEmergencyRoutes } from '../http/routes/emergency.js';
import { registerIngestRoutes } from '../http/routes/ingest.js';
import { registerLexiconRoutes } from '../http/routes/lexicon.js';
import { registerRolloutRoutes } from '../http/routes/rollouts.js';
import { registerScreenshotRoutes } from '../http/routes/screenshots.js';
import { registerSpeechRoutes } from '../http/routes/speech.js';
import { registerTrustRoutes } from '../http/routes/trust.js';
import type { ServerPlugin } from '../server-plugin.js';
import { AlertEngine, type AlertEngineOptions } from '../services/alert-engine.js';
import { BlobStore } from '../services/blob-store.js';
import { ChoicesService } from '../services/choices-service.js';
import { ContentService, type RecordingLimits } from '../services/content-service.js';
import type { ContentServices } from '../services/content-services.js';
import { EmergencyService } from '../services/emergency-service.js';
import { IngestService } from '../services/ingest-service.js';
import { LexiconService } from '../services/lexicon-service.js';
import { Notifier, type Urls } from '../services/notifier.js';
import { Publisher, type PublisherOptions } from '../services/publisher.js';
import { RecallService } from '../services/recall-service.js';
import { ScreenshotStore, type ScreenshotStoreOptions } from '../services/screenshot-store.js';
import { loadOrCreateMasterKey, Signer } from '../services/signer.js';
import { SpeechService } from '../services/speech-service.js';
import { Transcoder, type TranscoderOptions } from '../services/transcoder.js';
import { TrustService } from '../services/trust-service.js';
import { EspeakNgEngine } from '../services/tts/espeak-ng.js';
import type { TtsEngine } from '../services/tts/types.js';
import { WebhookService } from '../services/webhooks.js';

export type { ContentServices } from '../services/content-services.js';

export interface ContentServicesOptions {
  /** 32-byte key encrypting server-held signing keys (main.ts: LOA_KEY_SECRET); default: a 0600 file in the data dir. */
  masterKey?: Buffer;
  /** Base URL devices use (default: config.publicUrl, else http://host:port as listened). */
  baseUrl?: () => string;
  maxUploadBytes?: number;
  transcoder?: TranscoderOptions;
  /** The text-to-speech engine (default: Debian's espeak-ng with its Vietnamese voices). */
  tts?: TtsEngine;
  /** Limits of recordings made in the browser. */
  recording?: Partial<RecordingLimits>;
  publisher?: PublisherOptions;
  alerts?: AlertEngineOptions;
  webhooks?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Escalation of stations that do not confirm an emergency (re-send, then alert). */
  escalation?: EscalationPolicy;
  /** Noticeboard screenshots: size cap and how many are kept per device. */
  screenshots?: Pick<ScreenshotStoreOptions, 'maxBytes' | 'keep'>;
}

/** The content side's route modules, each handed the services it uses. */
export function contentRoutes(s: ContentServices): RouteModule[] {
  return [
    (ctx) => registerContentRoutes(ctx, s),
    (ctx) => registerBundleRoutes(ctx, s),
    (ctx) => registerApprovalRoutes(ctx, s),
    (ctx) => registerRolloutRoutes(ctx, s),
    (ctx) => registerTrustRoutes(ctx, s),
    (ctx) => registerEmergencyRoutes(ctx, s),
    (ctx) => registerAlertRoutes(ctx, s),
    (ctx) => registerIngestRoutes(ctx, s),
    (ctx) => registerBlobRoutes(ctx, s),
    (ctx) => registerCommandRoutes(ctx, s),
    (ctx) => registerChoicesRoutes(ctx, s),
    (ctx) => registerScreenshotRoutes(ctx, s.screenshots),
    (ctx) => registerSpeechRoutes(ctx, s),
    (ctx) => registerLexiconRoutes(ctx, s),
  ];
}

/** The content side as a plugin of startFleetServer; `services` is there once it started. */
export interface ContentPlugin extends ServerPlugin {
  /** The started services; throws PLUGIN_NOT_STARTED before start() (a composition mistake). */
  readonly services: ContentServices;
}

export function contentPlugin(opts: ContentServicesOptions = {}): ContentPlugin {
  let started: ContentServices | undefined;
  return {
    name: 'content',
    get services(): ContentServices {
      if (!started)
        throw new LoaError(
          'PLUGIN_NOT_STARTED',
          'the content plugin must start before its services are used',
        );
      return started;
    },
    async start(deps) {
      const services = await createContentServices(deps, opts);
      await services.start();
      started = services;
      return { routes: contentRoutes(services), stop: () => services.stop() };
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
    ...(opts.recording ? { recording: opts.recording } : {}),
  });
  const signer = new Signer({ store, masterKey, now });
  const trust = new TrustService({
    store,
    roots: config.trustRoots,
    threshold: config.trustRootThreshold,
    now,
    serverHeldKeys: async () => new Set((await store.signingKeys.list()).map((k) => k.keyid)),
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
    { store, broker, metrics, logger, now, ...(deps.healthShare ? { healthShare: deps.healthShare } : {}) },
    { healthHistoryEveryS: deps.config.healthHistoryEveryS },
  );
  const alerts = new AlertEngine(
    {
      store,
      metrics,
      logger,
      now,
      states: () => ingest.liveAll().values(),
      isLeader: () => deps.leader.isLeader(),
    },
    opts.alerts,
  );
  const webhooks = new WebhookService({
    repo: deps.store.webhooks,
    logger,
    now,
    ...opts.webhooks,
  });
  const lexicon = new LexiconService({ store, now });
  const speech = new SpeechService({
    engine: opts.tts ?? new EspeakNgEngine(),
    lexicon,
    blobs,
    transcoder,
    content,
  });
  const emergency = new EmergencyService({
    store,
    blobs,
    transcoder,
    speech,
    signer,
    trust,
    notifier,
    logger,
    now,
    ...(opts.escalation ? { escalation: opts.escalation } : {}),
  });
  const recalls = new RecallService({ store, broker, signer, trust, notifier, logger, now });
  const choices = new ChoicesService({ store, broker, signer, trust, logger, now });
  const screenshots = new ScreenshotStore({ dir: join(dataDir, 'screenshots'), now, ...opts.screenshots });

  // clustered: a device's statuses and proofs reach the node it is connected to; the emergency
  // tracking of every node (and so its event streams) hears them through the cluster bus
  const bus = deps.cluster;
  bus?.on('emergency', (data) => {
    const m = data as { deviceId: string; status?: Status; proof?: Proof };
    if (typeof m?.deviceId !== 'string') return;
    const done = m.status
      ? emergency.applyStatus(m.deviceId, m.status)
      : m.proof
        ? emergency.applyProof(m.deviceId, m.proof)
        : undefined;
    done?.catch((err) => log.error({ err }, 'emergency progress from another node not applied'));
  });
  ingest.addHooks({
    onState: (s) => alerts.evaluate(s),
    onStatus: async (deviceId, s) => {
      bus?.publish('emergency', { deviceId, status: s });
      await emergency.applyStatus(deviceId, s);
      await publisher.applyStatus(deviceId, s);
    },
    // synchronous for an ordinary proof (most of them): no promise, no turn of the ingest queue
    onProof: (deviceId, p) => {
      if (p.priority !== 'emergency' && p.outcome !== 'withdrawn') return;
      return (async () => {
        if (p.outcome === 'withdrawn') await recalls.applyProof(deviceId, p);
        // a station that never had the emergency proves its withdrawal without a priority
        bus?.publish('emergency', { deviceId, proof: p });
        await emergency.applyProof(deviceId, p);
      })();
    },
    onReconnected: async (deviceId, state) => {
      await recalls.catchUp(deviceId);
      await choices.catchUp(deviceId);
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
    if (e.type === 'emergency.unconfirmed') webhooks.emit('emergency.unconfirmed', e, [e.unit]);
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
    urls,
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
    recalls,
    choices,
    screenshots,
    lexicon,
    speech,
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
