/**
 * Authoring a noticeboard bulletin on the server, as an editor does it in the dashboard (headless
 * Debian Chromium): write the bulletin (title, body, issuing body, date, seconds on screen), see
 * it in the live preview (the noticeboard page itself, protocol/kiosk, framed at /kiosk/?preview)
 * as it is typed, save it; the programme (a one-off slot) is signed by the editor and the
 * approver and published; the demo province's noticeboard (the real agent, its screen a headless
 * Chromium on the kiosk page) shows it with the issuer and date; its proof of display reaches the
 * server and counts as shown in the report. Screenshots in tests/artifacts/display/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAsUser } from '../../scripts/src/sim/provision.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'display');
const TITLE = 'Thông báo tạm ngừng cấp điện';
const BODY =
  'Điện lực Sơn Dương tạm ngừng cấp điện thôn Đồng Chằm, Cầu Quất và Khuôn Thê từ 7 giờ đến 11 giờ 30 ' +
  'sáng thứ Bảy để sửa chữa đường dây. Bà con chủ động sắp xếp sinh hoạt, không trèo lên cột điện.';
const ISSUER = 'Điện lực Sơn Dương';
let p: DemoProvince;

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({
    devices: [
      {
        unit: '08/02503',
        kind: 'noticeboard',
        index: 1,
        display: {
          port: 0,
          unitName: 'UBND xã Tân Trào',
          browser: { driver: 'chromium', headless: true, width: 1280, height: 720 },
        },
      },
    ],
    healthIntervalS: 5,
  });
}, 240_000);

afterAll(async () => {
  await p?.close();
});

describe('a bulletin written in the dashboard reaches the board', () => {
  it('is previewed by the board page as it is typed, published, shown by the board, proved and reported', async () => {
    const page = await p.chrome.newPage({ viewport: { width: 1280, height: 1000 } });
    try {
      await login(page, p.server.url, 'bientap', p.password('bientap'));
      await page.goto(`${p.server.url}/ui/content`);
      const form = page.locator('form[data-bulletin-form]');
      await form.locator('[name=t_title]').fill(TITLE);
      await form.locator('[name=t_unit]').selectOption('08/02503');
      await form.locator('[name=t_category]').selectOption('announcement');
      await form.locator('[name=t_text]').fill(BODY);
      await form.locator('[name=t_issuer]').fill(ISSUER);
      await form.locator('[name=t_dated]').fill('2026-12-08');
      await form.locator('[name=t_seconds]').fill('30');
      // the preview is the board page: the bulletin as a board lays it out
      const preview = page.frameLocator('iframe[data-board-preview]');
      await expect.poll(() => preview.locator('.bulletin h1').textContent(), { timeout: 15_000 }).toBe(TITLE);
      await expect
        .poll(() => preview.locator('.bulletin .b-body').textContent(), { timeout: 15_000 })
        .toBe(BODY);
      await expect
        .poll(() => preview.locator('.bulletin .b-unit').textContent(), { timeout: 15_000 })
        .toBe(ISSUER);
      await expect
        .poll(() => preview.locator('.bulletin .b-date').textContent(), { timeout: 15_000 })
        .toBe('Ngày 08/12/2026');
      await expect
        .poll(() => preview.locator('#unit').textContent(), { timeout: 15_000 })
        .toBe('Xã Tân Trào');
      // fitted, not clipped: the body's box holds all its text
      const clipped = await preview
        .locator('.bulletin .b-body')
        .evaluate((el) => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1);
      expect(clipped).toBe(false);
      // the board page's own font (DejaVu Sans, served like on a board) rendered the diacritics
      const font = await preview
        .locator('body')
        .evaluate((el) =>
          (
            el.ownerDocument as unknown as { fonts: { check(font: string, text: string): boolean } }
          ).fonts.check('700 20px LoaSans', 'Việt Nam ỆẪỸđƯơ'),
        );
      expect(font).toBe(true);
      await page.locator('#board-preview').screenshot({ path: join(ART, 'authoring-preview.png') });

      // a body far too long for its seconds: the preview says so before anyone publishes
      await form.locator('[name=t_seconds]').fill('5');
      await form.locator('[name=t_text]').fill(`${BODY} `.repeat(12));
      await expect
        .poll(() => page.locator('[data-preview-status]').textContent(), { timeout: 15_000 })
        .toMatch(/^Bản tin quá dài cho 5 giây: cần \d+ trang/);
      await form.locator('[name=t_text]').fill(BODY);
      await form.locator('[name=t_seconds]').fill('30');

      await Promise.all([
        page.waitForURL(/\/ui\/content(\?|$)/),
        form.locator('button[type=submit]').click(),
      ]);
    } finally {
      await page.close();
    }

    const editor = await apiAsUser(p.server, 'bientap', 1);
    const approver = await apiAsUser(p.server, 'pheduyet', 1);
    const content = (
      await editor.get<{ id: string; title: string; issuer?: string; dated?: string }[]>('/content')
    ).find((c) => c.title === TITLE);
    expect(content).toMatchObject({ issuer: ISSUER, dated: '2026-12-08' });
    const id = content?.id as string;
    // a one-off display slot a few seconds from now, on the commune's boards
    const at = new Date(Date.now() + 15_000).toISOString();
    const b = await editor.post<{ id: string }>('/bundles', {
      channel: 'bang-tin-tan-trao',
      description: 'Thông báo cắt điện',
      targets: [{ unit: '08/02503' }],
      items: [{ content: id, id: 'cat-dien', priority: 'priority' }],
      schedule: [{ id: 'mot-lan', items: ['cat-dien'], rule: { type: 'once', at } }],
    });
    await editor.post(`/bundles/${b.id}/submit`, { sign: true });
    await approver.post(`/bundles/${b.id}/approve`, { sign: true });
    await approver.post(`/bundles/${b.id}/publish`);
    const manifest = (
      await editor.get<{ manifest: { items: { issuer?: string; dated?: string; durationMs?: number }[] } }>(
        `/bundles/${b.id}`,
      )
    ).manifest;
    expect(manifest.items[0]).toMatchObject({ issuer: ISSUER, dated: '2026-12-08', durationMs: 30_000 });

    const board = p.devices[0];
    const display = board?.runtime?.display;
    if (!board?.deviceId || !display) throw new Error('the board has no screen');
    await expect
      .poll(async () => (await fetch(display.url.replace('/kiosk/', '/kiosk/now'))).json(), {
        timeout: 60_000,
        interval: 250,
      })
      .toMatchObject({ bundleId: b.id, itemId: 'cat-dien', kind: 'text' });
    const kiosk = await p.chrome.newPage({ viewport: { width: 1280, height: 720 } });
    try {
      await kiosk.goto(display.url);
      await expect.poll(() => kiosk.locator('.bulletin h1').textContent(), { timeout: 15_000 }).toBe(TITLE);
      expect(await kiosk.locator('.bulletin .b-unit').textContent()).toBe(ISSUER);
      expect(await kiosk.locator('.bulletin .b-date').textContent()).toBe('Ngày 08/12/2026');
    } finally {
      await kiosk.close();
    }
    await writeFile(join(ART, 'authoring-board.png'), await display.screenshot());

    // (a live bundle's board items also fill the default loop, so the board shows it before its
    // slot too); the slot's own signed proof of display reaches the server and the report
    // counts the slot as shown
    await expect
      .poll(
        async () =>
          (await p.server.deps.store.proofs.query({ deviceId: board.deviceId as string }))
            .map((e) => e.proof)
            .filter(
              (x) =>
                x.kind === 'display' &&
                x.itemId === 'cat-dien' &&
                x.entryId === 'mot-lan' &&
                x.outcome === 'started',
            ).length,
        { timeout: 60_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    const reportPage = await p.chrome.newPage();
    try {
      await login(reportPage, p.server.url, 'bientap', p.password('bientap'));
      const csv = await reportPage.evaluate(async () =>
        (await fetch('/ui/reports.csv?unit=08/02503')).text(),
      );
      const row = csv.split(/\r?\n/).find((l) => l.includes('08/02503') && l.includes('Bảng tin'));
      expect(row, csv).toBeDefined();
      const cells = (row as string).split(',');
      // scheduled, shown, rate
      expect(cells.slice(-3, -1)).toEqual(['1', '1']);
    } finally {
      await reportPage.close();
    }
  }, 240_000);
});
