/**
 * The content side's services as one bag (content library, signer, trust policy, publisher,
 * notifier, ingest, alerts, webhooks, emergency), built and started by plugins/content.ts. Routes
 * and the dashboard name the members they use (`Pick<ContentServices, 'publisher'>`).
 */
import type { AlertEngine } from './alert-engine.js';
import type { BlobStore } from './blob-store.js';
import type { ChoicesService } from './choices-service.js';
import type { ContentService } from './content-service.js';
import type { EmergencyService } from './emergency-service.js';
import type { IngestService } from './ingest-service.js';
import type { LexiconService } from './lexicon-service.js';
import type { Notifier, Urls } from './notifier.js';
import type { Publisher } from './publisher.js';
import type { RecallService } from './recall-service.js';
import type { ScreenshotStore } from './screenshot-store.js';
import type { Signer } from './signer.js';
import type { SpeechService } from './speech-service.js';
import type { Transcoder } from './transcoder.js';
import type { TrustService } from './trust-service.js';
import type { WebhookService } from './webhooks.js';

export interface ContentServices {
  /** The base URL devices use for HTTP (downloads). */
  urls: Urls;
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
  /** Signed withdrawal of published bundles (emergency cancel). */
  recalls: RecallService;
  /** Units' programme choices (commune opt-outs, central quiet hours). */
  choices: ChoicesService;
  /** Noticeboard screenshots, kept per device. */
  screenshots: ScreenshotStore;
  /** The editors' pronunciation lexicon. */
  lexicon: LexiconService;
  /** Spoken bulletins (TTS engine, voices, lexicon, preview). */
  speech: SpeechService;
  start(): Promise<void>;
  stop(): Promise<void>;
}
