/**
 * The noticeboard page itself, served by the fleet server for the dashboard's live preview: the
 * same files a board's agent serves (protocol/kiosk: index.html, kiosk.css, kiosk.js) at the
 * same paths (/kiosk/…), so a bulletin is previewed by the code that will render it on the
 * board. Opened as `/kiosk/?preview` in a same-origin frame, the page renders the ScreenState
 * the dashboard posts to it (assets/bulletin-preview.js) and reports nothing. The fonts are the
 * board's: Debian's DejaVu Sans (fonts-dejavu-core); missing, the page says so and falls back.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import type { AppEnv } from '../auth.js';

export const KIOSK_FONTS = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
};

const ASSETS: Record<string, string> = {
  'kiosk.css': 'text/css; charset=utf-8',
  'kiosk.js': 'text/javascript; charset=utf-8',
};

/** protocol/kiosk: the page files shared with the agent. */
export function kioskDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@loa/protocol/kiosk/index.html'));
}

export function registerKioskPreview(
  app: Hono<AppEnv>,
  fonts: { regular: string; bold: string } = KIOSK_FONTS,
) {
  const dir = kioskDir();
  // framed by the dashboard only (same origin); never cached, so a new page version shows at once
  const headers = { 'cache-control': 'no-cache', 'X-Frame-Options': 'SAMEORIGIN' };
  app.get('/kiosk/', async (c) => c.html(await readFile(join(dir, 'index.html'), 'utf8'), 200, headers));
  app.get('/kiosk/assets/:name', async (c) => {
    const type = ASSETS[c.req.param('name')];
    if (!type) return c.json({ error: { code: 'NOT_FOUND', message: 'không có tệp này' } }, 404);
    return c.body(await readFile(join(dir, c.req.param('name'))), 200, { 'content-type': type, ...headers });
  });
  app.get('/kiosk/fonts/:which', async (c) => {
    const which = c.req.param('which');
    const file = which === 'regular' ? fonts.regular : which === 'bold' ? fonts.bold : undefined;
    const bytes = file ? await readFile(file).catch(() => undefined) : undefined;
    if (!bytes)
      return c.json(
        { error: { code: 'DISPLAY_FONT_MISSING', message: 'thiếu phông chữ của bảng tin' } },
        404,
      );
    return c.body(new Uint8Array(bytes), 200, {
      'content-type': 'font/ttf',
      'cache-control': 'max-age=86400',
    });
  });
}
