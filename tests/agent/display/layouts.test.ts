/**
 * Every layout rendered by Debian's Chromium from the real kiosk server and signed bundles:
 * what is on screen is read back from the DOM (text present and unclipped, regions placed,
 * overlay on top via elementFromPoint, the local font actually used for Vietnamese text via
 * DevTools CSS.getPlatformFontsForNode). Screenshots go to tests/artifacts/display/.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '../services/helpers.js';
import {
  type Box,
  type DisplayHarness,
  type Fit,
  launchChromium,
  type Media,
  type MediaBox,
  makeMedia,
  openKiosk,
  probe,
  shot,
  signedBundle,
  startDisplay,
  waitOnScreen,
} from './harness.js';

const BODY =
  'Ủy ban nhân dân xã Sơn Dương thông báo: từ ngày 10/12/2026, người dân mang gia súc, gia cầm đến điểm tiêm phòng tại nhà văn hoá thôn Đồng Chằm. Đề nghị các hộ chăn nuôi chủ động phối hợp, giữ vệ sinh chuồng trại và báo ngay cho cán bộ thú y khi phát hiện vật nuôi có dấu hiệu bệnh. Mọi thắc mắc xin liên hệ Ủy ban nhân dân xã. Trân trọng thông báo!';
const TICKER = 'Lịch cắt điện: thứ Bảy 12/12, từ 7 giờ đến 11 giờ, thôn Tân Phượng và Đồng Chằm';

let work: string;
let media: Media;
let browser: Browser;
const running: DisplayHarness[] = [];

beforeAll(async () => {
  work = await tempDir('loa-display-');
  media = await makeMedia(join(work, 'media'));
  browser = await launchChromium();
}, 180_000); // ffmpeg makes the media and Chromium starts: minutes on a loaded machine

afterAll(async () => {
  for (const h of running.splice(0)) await h.stop();
  await browser?.close();
  await cleanupTempDirs();
});

async function start(opts: Parameters<typeof startDisplay>[1]): Promise<DisplayHarness> {
  const h = await startDisplay(work, opts);
  running.push(h);
  return h;
}

async function stopHarness(h: DisplayHarness, page?: Page): Promise<void> {
  await page?.close();
  running.splice(running.indexOf(h), 1);
  await h.stop();
}

/** Bounding box of a selector in CSS pixels (null when absent or hidden). */
const box = (page: Page, sel: string) => probe<Box | null>(page, 'box', sel);
const fitOf = async (page: Page, sel: string) => {
  const f = await probe<Fit | null>(page, 'fit', sel);
  if (!f) throw new Error(`${sel} is not on the page`);
  return f;
};
const text = (page: Page, sel: string) => probe<string | null>(page, 'text', sel);

/** The fonts Chromium really used to draw the text of `sel` (DevTools CSS domain). */
async function platformFonts(page: Page, sel: string) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: sel });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

describe('noticeboard layouts in Chromium', () => {
  it('a text bulletin in the zone layout: fitted, unclipped, local Vietnamese font, QR code, regions placed', async () => {
    const b = await signedBundle(work, {
      id: 'ban-tin-tiem-phong',
      items: [
        {
          id: 'tiem-phong',
          kind: 'text',
          title: 'Thông báo tiêm phòng cho gia súc, gia cầm đợt II năm 2026',
          text: BODY,
          link: 'https://thongtin.tuyenquang.gov.vn/ban-tin/tiem-phong',
          durationMs: 60_000,
        },
        { id: 'cat-dien', kind: 'text', category: 'ticker', title: 'Lịch cắt điện', text: TICKER },
      ],
      schedule: [{ id: 'ngay', items: ['tiem-phong', 'cat-dien'], rule: { type: 'immediate' } }],
    });
    const h = await start({ bundles: [b] });
    const page = await openKiosk(browser, h.display.url);
    const now = await waitOnScreen(h, (n) => n.itemId === 'tiem-phong');
    expect(now).toMatchObject({ bundleId: 'ban-tin-tiem-phong', kind: 'text' });
    const res = await page.request.get(h.display.url.replace('/kiosk/', '/kiosk/now'));
    expect(await res.json()).toEqual(now);
    await page.waitForFunction("(document.getElementById('ticker-track')?.textContent ?? '').length > 0");
    await shot(page, 'bulletin-zone');

    const body = await fitOf(page, '.b-body');
    expect(body.text.replace(/\s+/g, ' ').trim()).toBe(BODY);
    expect(body.over).toBeLessThanOrEqual(1);
    expect(body.overX).toBeLessThanOrEqual(1);
    expect(body.fontPx).toBeGreaterThanOrEqual(30); // minFontPx default
    expect(await text(page, '.bulletin .page-no')).toBe('');
    // The title, the unit and the date are on screen.
    const texts = {
      title: await text(page, '.bulletin h1'),
      unit: await text(page, '.b-unit'),
      date: await text(page, '.b-date'),
      header: await text(page, '#unit'),
      time: await text(page, '#time'),
      date2: await text(page, '#date'),
    };
    expect(texts.title).toBe('Thông báo tiêm phòng cho gia súc, gia cầm đợt II năm 2026');
    expect(texts.unit).toBe('UBND xã Sơn Dương');
    expect(texts.date).toBe('Ngày 01/12/2026');
    expect(texts.header).toBe('UBND xã Sơn Dương');
    expect(texts.time).toMatch(/^\d\d:\d\d$/);
    expect(texts.date2).toMatch(/^(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật), \d\d\/\d\d\/\d{4}$/);
    // QR code of the public page, drawn by the agent.
    expect(await page.locator('.b-qr svg path').count()).toBeGreaterThan(0);
    // Regions: header above main above ticker, together covering the viewport without overlap.
    const top = await box(page, '#top');
    const main = await box(page, '#main');
    const ticker = await box(page, '#ticker');
    expect(top && main && ticker).toBeTruthy();
    if (!top || !main || !ticker) return;
    expect(top.y).toBe(0);
    expect(main.y).toBeCloseTo(top.bottom, 0);
    expect(ticker.y).toBeCloseTo(main.bottom, 0);
    expect(ticker.bottom).toBeCloseTo(720, 0);
    expect(main.h).toBeGreaterThan(720 * 0.6);
    // Every part of the bulletin lies inside the main area.
    for (const sel of ['.bulletin h1', '.b-body', '.b-foot', '.b-qr svg']) {
      const r = await box(page, sel);
      expect(r, sel).not.toBeNull();
      if (!r) continue;
      expect(r.y).toBeGreaterThanOrEqual(main.y - 0.5);
      expect(r.bottom).toBeLessThanOrEqual(main.bottom + 0.5);
    }
    // Vietnamese with its diacritics drawn by the kiosk's own font (DejaVu Sans from the agent).
    const faces = await probe<string[]>(page, 'fontFaces', 'LoaSans');
    expect(faces).toContain('loaded');
    for (const sel of ['.b-body', '.bulletin h1', '#ticker-track .ticker-item']) {
      const fonts = await platformFonts(page, sel);
      expect(fonts.length, sel).toBeGreaterThan(0);
      for (const f of fonts) {
        expect(f.familyName, sel).toBe('DejaVu Sans');
        expect(f.isCustomFont, sel).toBe(true);
      }
    }
    await stopHarness(h, page);
  });

  it('a ticker scrolls its line across the bottom', async () => {
    const b = await signedBundle(work, {
      id: 'chu-chay',
      items: [
        { id: 'anh', kind: 'image', file: media.png, mediaType: 'image/png', durationMs: 60_000 },
        { id: 'cat-dien', kind: 'text', category: 'ticker', title: 'Lịch cắt điện', text: TICKER },
      ],
    });
    const h = await start({ bundles: [b] });
    const page = await openKiosk(browser, h.display.url);
    await waitOnScreen(h, (n) => n.itemId === 'anh');
    const x1 = (await box(page, '#ticker-track'))?.x;
    await page.waitForTimeout(700);
    const x2 = (await box(page, '#ticker-track'))?.x;
    expect(x1).toBeDefined();
    expect(x2).toBeLessThan(x1 as number);
    const bar = await box(page, '#ticker');
    expect(bar?.bottom).toBeCloseTo(720, 0);
    expect(await page.locator('#ticker-track').innerText()).toBe(TICKER);
    await shot(page, 'ticker');
    await stopHarness(h, page);
  });

  it('a full-screen image and a muted video fill the screen in the fullscreen layout', async () => {
    const b = await signedBundle(work, {
      id: 'anh-video',
      items: [
        { id: 'anh', kind: 'image', file: media.png, mediaType: 'image/png', durationMs: 3000 },
        { id: 'phim', kind: 'video', file: media.webm, mediaType: 'video/webm', durationMs: 60_000 },
      ],
      schedule: [{ id: 'lien', items: ['anh', 'phim'], rule: { type: 'immediate' } }],
    });
    // The page is up first, so the 3 s of the image are not spent loading it.
    const h = await start({ bundles: [], config: { layout: 'fullscreen' } });
    const page = await openKiosk(browser, h.display.url);
    await page.waitForFunction("document.getElementById('idle')?.hidden === false");
    h.display.setBundles([{ ...b, activatedAt: Date.now() }]);
    await waitOnScreen(h, (n) => n.itemId === 'anh');
    const img = await probe<MediaBox>(page, 'media', '#main img');
    expect(img).toMatchObject({ w: 1280, h: 720, x: 0, y: 0, natural: 1280, complete: true });
    expect(await box(page, '#top')).toBeNull();
    await shot(page, 'image-fullscreen');
    // After its 3 s the video follows: frames decode and time advances, muted.
    const v = await waitOnScreen(h, (n) => n.itemId === 'phim');
    expect(v.kind).toBe('video');
    const t1 = (await probe<MediaBox>(page, 'media', '#main video')).t as number;
    await page.waitForTimeout(600);
    const video = await probe<MediaBox>(page, 'media', '#main video');
    expect(video.t).toBeGreaterThan(t1);
    expect(video).toMatchObject({ muted: true, w: 1280, h: 720, vw: 640 });
    expect(video.ready).toBeGreaterThanOrEqual(2);
    await shot(page, 'video-fullscreen');
    await stopHarness(h, page);
  });

  it('text far too long for the screen is paginated at the minimum size, never clipped, and raises an alert', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `Đoạn ${i + 1}. ${BODY}`).join('\n');
    const b = await signedBundle(work, {
      id: 'qua-dai',
      items: [{ id: 'dai', kind: 'text', title: 'Quy chế dân chủ ở cơ sở', text: long, durationMs: 20_000 }],
      schedule: [{ id: 'x', items: ['dai'], rule: { type: 'immediate' } }],
    });
    const h = await start({ bundles: [b] });
    const page = await openKiosk(browser, h.display.url);
    await waitOnScreen(h, (n) => n.itemId === 'dai');
    const r = await fitOf(page, '.b-body');
    const m = /^Trang 1\/(\d+)$/.exec((await text(page, '.bulletin .page-no')) ?? '');
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(5);
    expect(r.over).toBeLessThanOrEqual(1);
    expect(r.fontPx).toBe(30);
    expect(r.text.startsWith('Đoạn 1. Ủy ban nhân dân')).toBe(true);
    await shot(page, 'bulletin-paginated');
    await expect.poll(() => h.alerts.map((a) => a.code)).toContain('DISPLAY_TEXT_TOO_LONG');
    await stopHarness(h, page);
  });

  it('the emergency overlay covers everything and clears when the emergency ends', async () => {
    const normal = await signedBundle(work, {
      id: 'thuong',
      items: [{ id: 'anh', kind: 'image', file: media.png, mediaType: 'image/png', durationMs: 60_000 }],
    });
    const h = await start({ bundles: [normal] });
    const page = await openKiosk(browser, h.display.url);
    await waitOnScreen(h, (n) => n.itemId === 'anh');
    const emergency = await signedBundle(work, {
      id: 'khan-cap-v1',
      channel: 'emergency',
      items: [
        {
          id: 'alert-text',
          kind: 'text',
          priority: 'emergency',
          title: 'Cảnh báo lũ quét cấp độ 3',
          text: 'Mưa lớn kéo dài, nguy cơ lũ quét và sạt lở đất tại các thôn ven suối. Người dân di chuyển ngay đến nơi an toàn, không qua ngầm tràn.',
          durationMs: 4000,
        },
      ],
      schedule: [{ id: 'now', items: ['alert-text'], rule: { type: 'immediate' } }],
    });
    h.display.setBundles([normal, emergency]);
    const up = await waitOnScreen(h, (n) => n.kind === 'emergency');
    expect(up).toMatchObject({ bundleId: 'khan-cap-v1', itemId: 'alert-text' });
    const hits = await probe<boolean[]>(page, 'hits', '#overlay', [
      [5, 5],
      [640, 360],
      [1270, 710],
      [640, 700],
    ]);
    expect(hits).toEqual([true, true, true, true]);
    expect(await text(page, '#overlay-title')).toBe('Cảnh báo lũ quét cấp độ 3');
    expect((await fitOf(page, '#overlay-title')).fontPx).toBeGreaterThanOrEqual(60);
    const o = await fitOf(page, '#overlay-text');
    expect(o.text).toContain('không qua ngầm tràn');
    expect(o.over).toBeLessThanOrEqual(1);
    await shot(page, 'emergency-overlay');
    // 4 s later the emergency is over: the overlay goes, the image is back underneath.
    await waitOnScreen(h, (n) => n.kind === 'image', 10_000);
    await page.waitForFunction("document.getElementById('overlay')?.hidden === true");
    const back = await probe<string | null>(page, 'tagAt', 640, 360);
    expect(back).toBe('IMG');
    await stopHarness(h, page);
  });

  it('an emergency that only sounds (audio plan) raises the overlay with its title', async () => {
    const h = await start({ bundles: [] });
    const page = await openKiosk(browser, h.display.url);
    await page.waitForFunction("document.getElementById('idle')?.hidden === false");
    expect(h.display.lane.onScreen()).toBeNull();
    const res = await page.request.get(h.display.url.replace('/kiosk/', '/kiosk/now'));
    expect(await res.json()).toBeNull();
    await shot(page, 'idle');
    const now = Date.now();
    h.audio.push({
      id: 'emergency/now/x/r0/i0~chime',
      itemKey: 'emergency/now/x/r0/i0',
      output: 'audio',
      kind: 'chime',
      priorityClass: 'emergency',
      start: now + 2000,
      end: now + 5000,
      leadMs: 2000,
      scheduledAt: now,
      offsetMs: 0,
      bundleId: 'khan-cap-v2',
      entryId: 'now',
      item: {
        id: 'alert-audio',
        title: 'Cháy rừng tại tiểu khu 12',
        kind: 'audio',
        priority: 'emergency',
        lang: 'vi',
      } as never,
      volume: 100,
      gainDb: 0,
      repeatIndex: 0,
      repeatCount: 1,
    });
    const up = await waitOnScreen(h, (n) => n.kind === 'emergency', 3000);
    expect(up.bundleId).toBe('khan-cap-v2');
    expect(await page.locator('#overlay-title').innerText()).toBe('Cháy rừng tại tiểu khu 12');
    h.audio.length = 0;
    await page.waitForFunction("document.getElementById('overlay')?.hidden === true");
    await stopHarness(h, page);
  });

  it('corrupt image and video show a fallback card, fail their proof and raise an alert', async () => {
    const b = await signedBundle(work, {
      id: 'hong',
      items: [
        { id: 'anh-hong', kind: 'image', file: media.badPng, mediaType: 'image/png', durationMs: 4000 },
        { id: 'phim-hong', kind: 'video', file: media.badWebm, mediaType: 'video/webm', durationMs: 60_000 },
      ],
      schedule: [{ id: 'x', items: ['anh-hong', 'phim-hong'], rule: { type: 'immediate' } }],
    });
    const h = await start({ bundles: [b] });
    const page = await openKiosk(browser, h.display.url);
    const fb = await waitOnScreen(h, (n) => n.itemId === 'anh-hong');
    expect(fb.kind).toBe('fallback');
    const card = {
      title: await text(page, '.fallback .fb-title'),
      msg: await text(page, '.fallback .fb-msg'),
      code: await text(page, '.fallback .fb-code'),
      hit: (await probe<boolean[]>(page, 'hits', '.fallback', [[640, 360]]))[0],
    };
    expect(card.title).toBe('Bản tin anh-hong');
    expect(card.msg).toContain('Không hiển thị được hình ảnh');
    expect(card.code).toContain('DISPLAY_IMAGE_DECODE');
    expect(card.hit).toBe(true);
    await shot(page, 'fallback-image');
    const fv = await waitOnScreen(h, (n) => n.itemId === 'phim-hong', 25_000);
    expect(fv.kind).toBe('fallback');
    expect(await page.locator('.fallback .fb-msg').innerText()).toContain('Không phát được video');
    await shot(page, 'fallback-video');
    const codes = h.alerts.map((a) => a.code);
    expect(codes).toContain('DISPLAY_IMAGE_DECODE');
    expect(codes.some((c) => c === 'DISPLAY_VIDEO_DECODE' || c === 'DISPLAY_MEDIA_TIMEOUT')).toBe(true);
    await h.display.lane.record.flush();
    const proofs = await h.journal.read(1, 100);
    const failed = proofs.filter((p) => p.outcome === 'failed');
    expect(failed.map((p) => p.itemId)).toEqual(['anh-hong', 'phim-hong']);
    expect(failed.every((p) => p.kind === 'display')).toBe(true);
    expect(failed[0]?.reason).toMatch(/^DISPLAY_IMAGE_DECODE: /);
    await stopHarness(h, page);
  }, 45_000);

  it('a missing font: the text still shows in a fallback font, with a notice and an alert', async () => {
    const b = await signedBundle(work, {
      id: 'thieu-phong',
      items: [{ id: 'tb', kind: 'text', title: 'Thông báo họp dân', text: BODY, durationMs: 60_000 }],
    });
    const missing = join(work, 'khong-co.ttf');
    await rm(missing, { force: true });
    const h = await start({ bundles: [b], config: { fonts: { regular: missing, bold: missing } } });
    const page = await openKiosk(browser, h.display.url);
    await waitOnScreen(h, (n) => n.itemId === 'tb');
    expect(await page.locator('#notice').innerText()).toContain('Thiếu phông chữ');
    expect((await page.locator('.b-body').innerText()).replace(/\s+/g, ' ').trim()).toBe(BODY);
    const over = (await fitOf(page, '.b-body')).over;
    expect(over).toBeLessThanOrEqual(1);
    await expect.poll(() => h.alerts.map((a) => a.code)).toContain('DISPLAY_FONT_MISSING');
    await shot(page, 'font-missing');
    await stopHarness(h, page);
  });
});
