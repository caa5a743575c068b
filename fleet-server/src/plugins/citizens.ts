/**
 * The citizens' side as a plugin, composed after the content plugin whose services it uses: the
 * public page of each unit (`/p/<unit>`) with listen-again audio, the live emergency banner and
 * Web Push; citizens' feedback (public form, the dashboard's queue, JSON API and CSV); ratings and
 * surveys. Once started, the plugin holds its services (`plugin.services`) for in-process callers
 * (reports count feedback through `services.feedback.counts`, tests, benchmarks).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoaError, LoaError } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../http/auth.js';
import { registerFeedbackRoutes } from '../http/routes/feedback.js';
import { registerPublicRoutes } from '../http/routes/public.js';
import { ui } from '../http/ui/context.js';
import { LiveHub } from '../http/ui/live.js';
import { registerFeedbackPages } from '../http/ui/pages/feedback.js';
import { errorPage, forbiddenPage } from '../http/ui/refusal.js';
import { ctxOf, type UiServer } from '../http/ui/shared.js';
import type { ServerPlugin } from '../server-plugin.js';
import { CHALLENGE_DEFAULTS, ChallengeIssuer } from '../services/citizens/challenge.js';
import { type FeedbackOptions, FeedbackService } from '../services/citizens/feedback-service.js';
import { PhotoIntake, type PhotoOptions } from '../services/citizens/photo-intake.js';
import { PublicAudio } from '../services/citizens/public-audio.js';
import { PublicSite } from '../services/citizens/public-site.js';
import { PushService } from '../services/citizens/push-service.js';
import type { ContentPlugin } from './content.js';

export interface CitizensServices {
  site: PublicSite;
  feedback: FeedbackService;
  audio: PublicAudio;
  push: PushService;
}

export interface CitizensPluginOptions {
  /** The content plugin, started before this one. */
  content: ContentPlugin;
  feedback?: FeedbackOptions;
  photo?: PhotoOptions;
  /** Proof-of-work difficulty (leading zero bits) of the feedback form. */
  powBits?: number;
  /** How long a computed public view is kept (ms) when nothing changes. */
  viewMaxAgeMs?: number;
  pageMaxAgeS?: number;
  /** VAPID subject (mailto: or https: of the operator). */
  pushSubject?: string;
  /** Tests only: accept push endpoints on http://127.0.0.1. */
  pushAllowLoopbackHttp?: boolean;
}

async function loadOrCreateSecret(file: string): Promise<Buffer> {
  try {
    const b = await readFile(file);
    if (b.length === 32) return b;
  } catch {
    /* created below */
  }
  const key = randomBytes(32);
  await writeFileAtomic(file, key, { mode: 0o600 });
  return key;
}

function publicAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/plugins → src/http/ui/assets/public (assets are not compiled)
  return join(here.replace(/[/\\]dist[/\\]plugins$/, '/src/plugins'), '..', 'http', 'ui', 'assets', 'public');
}

export interface CitizensPlugin extends ServerPlugin {
  readonly services: CitizensServices;
}

export function citizensPlugin(options: CitizensPluginOptions): CitizensPlugin {
  let started: CitizensServices | undefined;
  return {
    name: 'citizens',
    get services(): CitizensServices {
      if (!started)
        throw new LoaError(
          'PLUGIN_NOT_STARTED',
          'the citizens plugin must start before its services are used',
        );
      return started;
    },
    async start(deps: Deps) {
      const content = options.content.services;
      const now = () => deps.clock.now();
      const secrets = join(deps.config.dataDir, 'secrets');
      await mkdir(secrets, { recursive: true, mode: 0o700 });
      const secret = await loadOrCreateSecret(join(secrets, 'citizens.key'));
      const challenges = new ChallengeIssuer(secret, now, {
        ...CHALLENGE_DEFAULTS,
        ...(options.powBits ? { bits: options.powBits } : {}),
      });
      const feedback = new FeedbackService(
        {
          store: deps.store,
          blobs: content.blobs,
          photos: new PhotoIntake(options.photo),
          challenges,
          content: content.content,
          publisher: content.publisher,
          webhooks: content.webhooks,
          secret,
          logger: deps.logger,
          now,
        },
        options.feedback,
      );
      const site = new PublicSite({
        store: deps.store,
        live: (id) => {
          const l = content.ingest.live(id);
          return l ? { online: l.online, onAir: l.online && !!l.health?.onAir } : undefined;
        },
        answers: (unit) => feedback.publicAnswers(unit),
        now,
        ...(options.viewMaxAgeMs ? { maxAgeMs: options.viewMaxAgeMs } : {}),
      });
      const audio = new PublicAudio(join(deps.config.dataDir, 'public-audio'), content.blobs);
      await audio.start();
      const push = new PushService({
        store: deps.store,
        keyFile: join(secrets, 'vapid.json'),
        subject: options.pushSubject ?? deps.config.publicUrl ?? 'mailto:admin@localhost',
        logger: deps.logger,
        now,
        ...(options.pushAllowLoopbackHttp ? { allowLoopbackHttp: true } : {}),
      });
      await push.start();

      const emergencyListeners = new Set<(e: { unit: string; bundleId: string }) => void>();
      const offs = [
        content.publisher.on(() => site.invalidate()),
        feedback.on((e) => {
          if (e.type === 'feedback.updated' && e.feedback.answerPublic) site.invalidate();
        }),
        content.emergency.on((e) => {
          if (e.type !== 'emergency.sent') return;
          site.invalidate();
          for (const fn of emergencyListeners) fn({ unit: e.unit, bundleId: e.bundleId });
          void (async () => {
            const b = await deps.store.bundles.get(e.bundleId);
            const item = b?.manifest.items[0];
            const text = b?.manifest.items.find((i) => i.kind === 'text' && i.text)?.text;
            await push.notify(e.unit, {
              title: `⚠ ${item?.title ?? 'Cảnh báo khẩn cấp'}`,
              body: (text ?? b?.manifest.description ?? '').slice(0, 300),
              tag: e.bundleId,
              url: `/p/${e.unit}`,
            });
          })().catch((err: unknown) => deps.logger.warn({ err }, 'emergency push failed'));
        }),
      ];
      started = { site, feedback, audio, push };

      // the dashboard's feedback pages, with their own error pages
      const uiServer: UiServer = {
        deps,
        api: () => Promise.reject(new LoaError('NOT_AVAILABLE', 'no in-process API here')),
        hub: new LiveHub({}),
        tileUrl: '',
        content,
      };
      const pages = new Hono<AppEnv>();
      pages.onError((err, c) => {
        const ctx = ctxOf(c, uiServer);
        if (isLoaError(err) && err.code === 'CSRF_INVALID') return errorPage(c, ctx, ctx.t('err.csrf'), 403);
        if (isLoaError(err) && (err.code === 'FORBIDDEN_ROLE' || err.code === 'FORBIDDEN_SCOPE'))
          return forbiddenPage(c, ctx);
        if (isLoaError(err)) return errorPage(c, ctx, err.message, 400);
        deps.logger.error({ err, path: c.req.path }, 'feedback page failed');
        return errorPage(c, ctx, ctx.t('err.server', { code: 'INTERNAL' }), 500);
      });
      registerFeedbackPages(pages, uiServer, feedback);
      return {
        routes: [
          (ctx) =>
            registerPublicRoutes(ctx, {
              site,
              feedback,
              audio,
              push,
              onEmergency: (fn) => {
                emergencyListeners.add(fn);
                return () => emergencyListeners.delete(fn);
              },
              assetsDir: publicAssetsDir(),
              now,
              ...(options.pageMaxAgeS !== undefined ? { pageMaxAgeS: options.pageMaxAgeS } : {}),
            }),
          (ctx) => registerFeedbackRoutes(ctx, feedback),
          (ctx) => {
            ctx.app.route('/', pages);
            void ui;
          },
        ],
        stop: async () => {
          for (const off of offs) off();
        },
      };
    },
  };
}
