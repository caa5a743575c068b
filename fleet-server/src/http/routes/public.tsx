/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The citizens' side, public (no login), under /p/:
 *   GET  /p/<unit>                    the unit's page (bulletins, programme, emergencies, map)
 *   GET  /p/<unit>/alerts             the emergency banner as an HTML fragment (the live script)
 *   GET  /p/<unit>/live               SSE: an `emergency` event when one reaches the unit
 *   GET  /p/<unit>/manifest.webmanifest, /p/sw.js, /p/assets/public.js   PWA and script
 *   GET  /p/a/<sha256>.ogg            listen-again audio (public items only; Range; immutable)
 *   GET|POST /p/<unit>/feedback       the feedback form (multipart, proof of work)
 *   POST /p/<unit>/rate               a rating or survey answer of a public bulletin
 *   GET  /p/<unit>/push/key, POST /p/<unit>/push/subscribe   Web Push for emergencies
 * Pages are cached by the server per (view version, language, filters) and by browsers and
 * proxies for a short while (`max-age` + `stale-while-revalidate`, ETag); audio never changes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isLoaError, LoaError, UnitPathSchema, unitCovers } from '@loa/protocol';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { FeedbackInputSchema } from '../../domain/citizens/feedback.js';
import type { FeedbackService } from '../../services/citizens/feedback-service.js';
import type { PublicAudio } from '../../services/citizens/public-audio.js';
import type { PublicSite, PublicView } from '../../services/citizens/public-site.js';
import type { PushService } from '../../services/citizens/push-service.js';
import { PushSubscriptionInputSchema } from '../../services/citizens/push-service.js';
import type { AppEnv } from '../auth.js';
import { statusForCode } from '../error-status.js';
import type { RouteContext } from '../route-context.js';
import { EmergencyCards, FeedbackPage, UnitPage } from '../ui/pages/public/public-page.js';
import { localTime, publicLang, publicT } from '../ui/pages/public/public-text.js';
import { parseBulletinFilter } from '../ui/view-models/public-page.js';
import { parseRange } from './blobs.js';

export interface PublicRouteServices {
  site: PublicSite;
  feedback: FeedbackService;
  audio: PublicAudio;
  push?: PushService;
  /** Subscribes to emergencies sent (unit of the broadcast); returns the unsubscribe. */
  onEmergency: (fn: (e: { unit: string; bundleId: string }) => void) => () => void;
  /** Directory of public.js and sw.js. */
  assetsDir: string;
  now: () => number;
  /** Longest a browser or proxy keeps a page before asking again (s). */
  pageMaxAgeS?: number;
  /** Most open live streams (SSE) at once; past it the page polls. */
  maxLiveStreams?: number;
}

type C = Context<AppEnv>;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; " +
  "connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

interface Asset {
  body: string;
  etag: string;
}

async function loadAsset(dir: string, name: string): Promise<Asset> {
  const body = await readFile(join(dir, name), 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function splitPath(rest: string): { unit: string; tail: string } | undefined {
  const seg = rest.split('/');
  let n = 0;
  while (n < seg.length && n < 5 && /^[0-9]{2,5}$/.test(seg[n] as string)) n++;
  if (n === 0) return undefined;
  const unit = seg.slice(0, n).join('/');
  if (!UnitPathSchema.safeParse(unit).success) return undefined;
  return { unit, tail: seg.slice(n).join('/') };
}

function notFound(c: C): Response {
  return c.text('Không tìm thấy / Not found', 404, { 'cache-control': 'public, max-age=60' });
}

export function registerPublicRoutes({ app, api }: RouteContext, s: PublicRouteServices): void {
  const maxAge = s.pageMaxAgeS ?? 15;
  const pageCache = new Map<string, { html: string; etag: string }>();
  let script: Asset | undefined;
  let worker: Asset | undefined;
  const assets = async () => {
    script ??= await loadAsset(s.assetsDir, 'public.js');
    worker ??= await loadAsset(s.assetsDir, 'sw.js');
    return { script, worker };
  };
  const scriptUrl = async () => `/p/assets/public.js?v=${(await assets()).script.etag.slice(1, 13)}`;
  let liveStreams = 0;

  // photo uploads: the photo cap plus the form fields; every other public POST is small
  // (unit paths have 1 to 5 segments; the other public POSTs keep the default cap)
  for (let depth = 1; depth <= 5; depth++)
    api.bodyCaps.set(
      'POST',
      `/p/${Array.from({ length: depth }, (_, i) => `:u${i}`).join('/')}/feedback`,
      s.feedback.maxPhotoBytes + 64 * 1024,
    );

  const cached = (c: C, key: string, build: () => Promise<string>, opts: { maxAge?: number } = {}) =>
    (async () => {
      let hit = pageCache.get(key);
      if (!hit) {
        const html = await build();
        hit = { html, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"` };
        pageCache.set(key, hit);
        if (pageCache.size > 2000) {
          const first = pageCache.keys().next().value;
          if (first !== undefined) pageCache.delete(first);
        }
      }
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        etag: hit.etag,
        'cache-control': `public, max-age=${opts.maxAge ?? maxAge}, stale-while-revalidate=60`,
        'content-security-policy': CSP,
      };
      const inm = c.req.header('if-none-match');
      if (inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === hit.etag))
        return c.body(null, 304, headers);
      return c.body(hit.html, 200, headers);
    })();

  const view = async (unit: string): Promise<PublicView | undefined> => {
    try {
      return await s.site.view(unit);
    } catch (e) {
      if (isLoaError(e) && e.code === 'UNIT_NOT_FOUND') return undefined;
      throw e;
    }
  };

  const serveAudio = async (c: C, file: string) => {
    const m = /^([0-9a-f]{64})\.ogg$/.exec(file);
    if (!m || !(await s.site.isPublicAudio(m[1] as string))) return notFound(c);
    const sha = m[1] as string;
    const { path, size } = await s.audio.ensure(sha);
    const etag = `"${sha.slice(0, 32)}-p"`;
    const headers = new Headers({
      'content-type': 'audio/ogg',
      'accept-ranges': 'bytes',
      etag,
      'cache-control': 'public, max-age=31536000, immutable',
    });
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers });
    const range = parseRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') {
      headers.set('content-range', `bytes */${size}`);
      return new Response(null, { status: 416, headers });
    }
    const len = range ? range.end - range.start + 1 : size;
    headers.set('content-length', String(len));
    if (range) headers.set('content-range', `bytes ${range.start}-${range.end}/${size}`);
    if (c.req.method === 'HEAD') return new Response(null, { status: range ? 206 : 200, headers });
    const stream = Readable.toWeb(
      createReadStream(path, range ? { start: range.start, end: range.end } : {}),
    );
    return new Response(stream as ReadableStream<Uint8Array>, { status: range ? 206 : 200, headers });
  };

  const feedbackPage = async (
    c: C,
    v: PublicView,
    extra: {
      error?: string;
      status?: number;
      sent?: { id: string; due: string };
      values?: Record<string, string>;
    } = {},
  ) => {
    const lang = publicLang(c.req.query('lang'));
    const t = publicT(lang);
    const node = (
      <FeedbackPage
        view={v}
        lang={lang}
        t={t}
        script={await scriptUrl()}
        challenge={s.feedback.challenge(v.unit.path)}
        maxMb={Math.round(s.feedback.maxPhotoBytes / 1048576)}
        {...(extra.error ? { error: extra.error } : {})}
        {...(extra.sent ? { sent: extra.sent } : {})}
        {...(extra.values ? { values: extra.values } : {})}
      />
    );
    return c.body(`<!doctype html>${await node.toString()}`, (extra.status ?? 200) as 200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CSP,
    });
  };

  const submitFeedback = async (c: C, v: PublicView) => {
    const lang = publicLang(c.req.query('lang'));
    let form: Record<string, string | File>;
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>;
    } catch (e) {
      if (isLoaError(e)) throw e;
      return feedbackPage(c, v, { error: 'Biểu mẫu không hợp lệ', status: 400 });
    }
    const str = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
    const values = { topic: str('topic'), text: str('text'), contact: str('contact') };
    const parsed = FeedbackInputSchema.safeParse({
      topic: values.topic,
      text: values.text,
      ...(values.contact.trim() ? { contact: values.contact } : {}),
    });
    if (!parsed.success)
      return feedbackPage(c, v, {
        error: parsed.error.issues.map((i) => i.message).join('; '),
        status: 422,
        values,
      });
    const photo = form.photo;
    let bytes: Buffer | undefined;
    if (photo instanceof File && photo.size > 0) {
      if (photo.size > s.feedback.maxPhotoBytes)
        return feedbackPage(c, v, {
          error: `Ảnh quá lớn (tối đa ${Math.round(s.feedback.maxPhotoBytes / 1048576)} MB)`,
          status: 413,
          values,
        });
      bytes = Buffer.from(await photo.arrayBuffer());
    }
    try {
      const rec = await s.feedback.submit(
        v.unit.path,
        parsed.data,
        { token: str('pow'), nonce: str('nonce') },
        c.get('ip'),
        bytes,
      );
      const q = new URLSearchParams({ id: rec.id, due: rec.dueAt, ...(lang === 'en' ? { lang: 'en' } : {}) });
      return c.redirect(`/p/${v.unit.path}/feedback/sent?${q}`, 303);
    } catch (e) {
      if (!isLoaError(e)) throw e;
      const status = statusForCode(e.code);
      if (status >= 500) throw e;
      const retry = e.details?.retryAfterSeconds;
      if (typeof retry === 'number') c.header('Retry-After', String(retry));
      c.header('X-Loa-Error', e.code);
      return feedbackPage(c, v, { error: e.message, status, values });
    }
  };

  app.on(['GET', 'HEAD', 'POST'], '/p/*', async (c) => {
    const rest = c.req.path.slice(3);
    const method = c.req.method;
    if (rest === 'sw.js' || rest === 'assets/public.js') {
      const a = await assets();
      const asset = rest === 'sw.js' ? a.worker : a.script;
      const headers = {
        'content-type': 'text/javascript; charset=utf-8',
        etag: asset.etag,
        'cache-control': rest === 'sw.js' ? 'no-cache' : 'public, max-age=31536000, immutable',
      };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      return c.body(asset.body, 200, headers);
    }
    if (rest.startsWith('a/') && method !== 'POST') return serveAudio(c, rest.slice(2));
    const at = splitPath(rest);
    if (!at) return notFound(c);
    const v = await view(at.unit);
    if (!v) return notFound(c);
    const lang = publicLang(c.req.query('lang'));
    const t = publicT(lang);
    const tail = at.tail;

    if (method === 'POST') {
      if (tail === 'feedback') return submitFeedback(c, v);
      if (tail === 'rate') {
        const form = (await c.req.parseBody()) as Record<string, string>;
        const id = typeof form.content === 'string' ? form.content : '';
        const b = v.feed.bulletins.find((x) => x.id === id && !x.emergency);
        if (!b) return notFound(c);
        const stars = Number(form.stars);
        const choice = Number(form.choice);
        const vote: { stars?: number; choice?: number } = {};
        if (Number.isInteger(stars) && stars >= 1 && stars <= 5) vote.stars = stars;
        if (b.survey && Number.isInteger(choice) && choice >= 0 && choice < b.survey.options.length)
          vote.choice = choice;
        if (vote.stars === undefined && vote.choice === undefined)
          throw new LoaError('RATING_EMPTY', 'Hãy chọn số sao hoặc một câu trả lời');
        await s.feedback.rate(v.unit.path, b.id, vote, c.get('ip'));
        return c.redirect(`/p/${v.unit.path}?ok=rated${lang === 'en' ? '&lang=en' : ''}#b-${b.id}`, 303);
      }
      if (tail === 'push/subscribe') {
        if (!s.push) return notFound(c);
        let json: unknown;
        try {
          json = await c.req.json();
        } catch {
          throw new LoaError('VALIDATION_FAILED', 'đăng ký không hợp lệ');
        }
        const parsed = PushSubscriptionInputSchema.safeParse(json);
        if (!parsed.success) throw new LoaError('VALIDATION_FAILED', 'đăng ký không hợp lệ');
        await s.push.subscribe(v.unit.path, parsed.data);
        return c.json({ ok: true }, 201);
      }
      return notFound(c);
    }

    if (tail === '') {
      const filter = parseBulletinFilter(c.req.query());
      const ok = c.req.query('ok') === 'rated' ? 'rated' : '';
      const key = `${v.unit.path}|${v.version}|${lang}|${filter.lang ?? ''}|${filter.category ?? ''}|${filter.page}|${ok}`;
      const src = await scriptUrl();
      return cached(c, key, async () => {
        const node = (
          <UnitPage
            view={v}
            lang={lang}
            t={t}
            filter={filter}
            now={s.now()}
            script={src}
            {...(ok ? { notice: t('rate.thanks') } : {})}
          />
        );
        return `<!doctype html>${await node.toString()}`;
      });
    }
    if (tail === 'alerts') {
      const key = `${v.unit.path}|${v.version}|${lang}|alerts`;
      const res = await cached(
        c,
        key,
        async () => {
          const node = <EmergencyCards view={v} t={t} />;
          const html = String(await node.toString());
          // the section's inner HTML (the script swaps it in place)
          return html.replace(/^<section[^>]*>/, '').replace(/<\/section>$/, '');
        },
        { maxAge: 5 },
      );
      return res;
    }
    if (tail === 'live') {
      if (liveStreams >= (s.maxLiveStreams ?? 20_000)) return c.text('', 503, { 'retry-after': '60' });
      const unit = v.unit.path;
      return streamSSE(c, async (stream) => {
        liveStreams++;
        let closed = false;
        const off = s.onEmergency((e) => {
          if (!unitCovers(e.unit, unit) && !unitCovers(unit, e.unit)) return;
          stream
            .writeSSE({ event: 'emergency', data: JSON.stringify({ bundleId: e.bundleId }) })
            .catch(() => {
              closed = true;
            });
        });
        stream.onAbort(() => {
          closed = true;
        });
        try {
          await stream.writeSSE({ event: 'hello', data: '{}', retry: 10_000 });
          while (!closed) {
            await stream.sleep(25_000);
            if (!closed) await stream.write(': keep-alive\n\n');
          }
        } finally {
          off();
          liveStreams--;
        }
      });
    }
    if (tail === 'manifest.webmanifest') {
      return c.body(
        JSON.stringify({
          name: `${v.unit.name} · ${t('site.title')}`,
          short_name: v.unit.name.slice(0, 24),
          start_url: `/p/${v.unit.path}`,
          scope: '/p/',
          display: 'standalone',
          background_color: '#f5f6f8',
          theme_color: '#0b4f8a',
          lang,
          icons: [{ src: '/ui/assets/favicon.svg', sizes: 'any', type: 'image/svg+xml' }],
        }),
        200,
        { 'content-type': 'application/manifest+json', 'cache-control': 'public, max-age=3600' },
      );
    }
    if (tail === 'feedback') return feedbackPage(c, v);
    if (tail === 'feedback/sent') {
      const id = c.req.query('id') ?? '';
      const due = c.req.query('due') ?? '';
      if (!/^fb-[0-9a-f]{16}$/.test(id) || Number.isNaN(Date.parse(due))) return notFound(c);
      return feedbackPage(c, v, { sent: { id, due: localTime(due) } });
    }
    if (tail === 'push/key') {
      if (!s.push) return notFound(c);
      return c.json({ publicKey: s.push.publicKey }, 200, { 'cache-control': 'public, max-age=3600' });
    }
    return notFound(c);
  });
}
