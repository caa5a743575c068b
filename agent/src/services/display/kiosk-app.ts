/**
 * The kiosk page's HTTP side (hono, served on 127.0.0.1 only): the page and its assets, the
 * local Vietnamese font, media from the bundle store, the screen state as server-sent events,
 * the page's reports (first frame shown, render errors, heartbeats) and `GET /kiosk/now`.
 * createKioskApp(deps) never listens; services/display/kiosk-server.ts does.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { OnScreen, ScreenState } from '../../domain/display/types.js';

const KeySchema = z.string().min(1).max(400);
export const PageReportSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('heartbeat'),
    key: KeySchema.nullable(),
    overlay: KeySchema.nullable(),
    frames: z.number().int().min(0),
    at: z.number(),
  }),
  z.strictObject({
    type: z.literal('rendered'),
    layer: z.enum(['main', 'emergency']),
    key: KeySchema,
    at: z.number(),
    pages: z.number().int().min(0).max(1000).optional(),
  }),
  z.strictObject({
    type: z.literal('error'),
    layer: z.enum(['main', 'emergency']),
    key: KeySchema,
    code: z.string().regex(/^[A-Z0-9_]{1,64}$/),
    message: z.string().max(500),
    at: z.number(),
  }),
  z.strictObject({
    type: z.literal('alert'),
    code: z.string().regex(/^[A-Z0-9_]{1,64}$/),
    message: z.string().max(500),
    key: KeySchema.optional(),
    itemId: z.string().max(128).optional(),
  }),
]);
export type PageReport = z.infer<typeof PageReportSchema>;

export interface KioskDeps {
  /** Directory of index.html, kiosk.css, kiosk.js. */
  assetsDir: string;
  /** Font files served as /kiosk/fonts/regular and /kiosk/fonts/bold. */
  fonts: { regular: string; bold: string };
  state(): ScreenState;
  /** Calls `listener` with every new state; returns the unsubscribe function. */
  subscribe(listener: (s: ScreenState) => void): () => void;
  onScreen(): OnScreen | null;
  /** A page report; the reception time is the agent's. */
  report(r: PageReport): void;
  /** The blob file of a sha256 the screen may show (undefined: not one of the active bundles). */
  media(sha256: string): { path: string; mediaType: string } | undefined;
  /** Keep-alive comment interval on the event stream (default 15 s). */
  keepAliveMs?: number;
}

const ASSETS: Record<string, string> = {
  'kiosk.css': 'text/css; charset=utf-8',
  'kiosk.js': 'text/javascript; charset=utf-8',
};
const NO_STORE = { 'cache-control': 'no-store' };

export function createKioskApp(deps: KioskDeps): Hono {
  const app = new Hono();

  app.get('/', (c) => c.redirect('/kiosk/'));
  app.get('/kiosk/', async (c) => {
    const html = await readFile(join(deps.assetsDir, 'index.html'), 'utf8');
    return c.html(html, 200, NO_STORE);
  });
  app.get('/kiosk/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = ASSETS[name];
    if (!type) return c.json({ code: 'NOT_FOUND' }, 404);
    return c.body(await readFile(join(deps.assetsDir, name)), 200, { 'content-type': type, ...NO_STORE });
  });
  app.get('/kiosk/fonts/:which', async (c) => {
    const which = c.req.param('which');
    const file = which === 'regular' ? deps.fonts.regular : which === 'bold' ? deps.fonts.bold : undefined;
    if (!file) return c.json({ code: 'NOT_FOUND' }, 404);
    try {
      const bytes = await readFile(file);
      return c.body(bytes, 200, { 'content-type': 'font/ttf', 'cache-control': 'max-age=86400' });
    } catch {
      return c.json({ code: 'DISPLAY_FONT_MISSING', message: `font file ${file} is missing` }, 404);
    }
  });

  app.get('/kiosk/media/:sha', async (c) => {
    const sha = c.req.param('sha');
    const m = /^[0-9a-f]{64}$/.test(sha) ? deps.media(sha) : undefined;
    if (!m) return c.json({ code: 'NOT_FOUND' }, 404);
    let size: number;
    try {
      size = (await stat(m.path)).size;
    } catch {
      return c.json({ code: 'BLOB_MISSING' }, 404);
    }
    const headers: Record<string, string> = {
      'content-type': m.mediaType,
      'accept-ranges': 'bytes',
      'cache-control': 'max-age=3600',
    };
    // Video elements read in ranges.
    const range = /^bytes=(\d*)-(\d*)$/.exec(c.req.header('range') ?? '');
    if (range && (range[1] || range[2])) {
      let start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      let end = range[1] && range[2] ? Number(range[2]) : size - 1;
      end = Math.min(end, size - 1);
      if (start > end || start >= size) {
        return c.body(null, 416, { 'content-range': `bytes */${size}` });
      }
      start = Math.max(0, start);
      const body = Readable.toWeb(createReadStream(m.path, { start, end })) as ReadableStream;
      return new Response(body, {
        status: 206,
        headers: {
          ...headers,
          'content-range': `bytes ${start}-${end}/${size}`,
          'content-length': String(end - start + 1),
        },
      });
    }
    const body = Readable.toWeb(createReadStream(m.path)) as ReadableStream;
    return new Response(body, { status: 200, headers: { ...headers, 'content-length': String(size) } });
  });

  app.get('/kiosk/api/state', (c) => c.json(deps.state(), 200, NO_STORE));
  app.get('/kiosk/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      const send = (s: ScreenState) => {
        queue = queue.then(() => stream.writeSSE({ event: 'state', data: JSON.stringify(s), retry: 1000 }));
      };
      const unsubscribe = deps.subscribe(send);
      send(deps.state());
      const keepAlive = setInterval(() => {
        queue = queue.then(() => stream.write(': keep-alive\n\n').then(() => undefined));
      }, deps.keepAliveMs ?? 15_000);
      // The page went away (reload, navigation): the response's socket closes. The stream's own
      // abort signal only fires on the next failed write, and every stream left open holds one
      // of the browser's six connections to this host: after a few reloads the page's reports
      // (an overlay painted) waited seconds for a free connection.
      const outgoing = (c.env as { outgoing?: NodeJS.EventEmitter } | undefined)?.outgoing;
      await new Promise<void>((resolve) => {
        stream.onAbort(() => resolve());
        outgoing?.once('close', () => resolve());
      });
      clearInterval(keepAlive);
      unsubscribe();
    }),
  );
  app.post('/kiosk/api/report', async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return c.json({ code: 'REPORT_MALFORMED', message: 'not JSON' }, 400);
    }
    const r = PageReportSchema.safeParse(raw);
    if (!r.success) return c.json({ code: 'REPORT_MALFORMED', message: r.error.issues[0]?.message }, 400);
    deps.report(r.data);
    return c.body(null, 204);
  });

  /** What the page reported it shows: one source for the watchdog, the technician page and tests. */
  app.get('/kiosk/now', (c) => c.json(deps.onScreen(), 200, NO_STORE));
  return app;
}
