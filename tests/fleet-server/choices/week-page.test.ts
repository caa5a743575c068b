/**
 * The programme page's week ("Cả tuần") as a commune's official sees it in headless Chromium: the
 * seven days from Monday with what plays, what is held and why (quiet hours, the commune's opt-out),
 * times and air time per output, links to each day and to the weeks around, the station picker
 * kept; at 1280 and 390 px with nothing wider than the screen. The same week from the API.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Choices, Manifest } from '@loa/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord } from '../../../fleet-server/src/domain/model.js';
import { contentPlugin } from '../../../fleet-server/src/plugins/content.js';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { createUser, FakeClock, startTestServer, type TestServer } from '../app/harness.js';
import { device } from '../reports/fixture.js';
import { launchChromium, loggedInPage } from '../ui/browser-pages.js';

const SHOTS = '/tmp/week-shots';
const UNIT = '08/02500';
const SHA = 'a'.repeat(64);
const T0 = '2026-12-01T00:00:00Z';

function bundle(
  id: string,
  unit: string,
  manifest: Omit<
    Manifest,
    | 'type'
    | 'format'
    | 'id'
    | 'channel'
    | 'version'
    | 'created'
    | 'expires'
    | 'utcOffset'
    | 'targets'
    | 'signatures'
  >,
): BundleRecord {
  return {
    id: `${id}-v1`,
    channel: id,
    version: 1,
    state: 'published',
    manifest: {
      type: 'loa-bundle',
      format: 1,
      id: `${id}-v1`,
      channel: id,
      version: 1,
      created: T0,
      expires: '2027-01-01T00:00:00Z',
      utcOffset: '+07:00',
      targets: [{ unit }],
      signatures: [],
      ...manifest,
    },
    units: [unit],
    createdBy: 'e',
    createdAt: T0,
    updatedAt: T0,
    publishedAt: T0,
  };
}

const audio = (id: string, title: string, priority: 'normal' | 'priority') => ({
  id,
  title,
  kind: 'audio' as const,
  priority,
  lang: 'vi',
  blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
  durationMs: 5 * 60_000,
});

// the province every day at 06:00 (a normal bulletin the commune refuses, a priority one) and 22:30
const PROVINCE = bundle('tinh-thoi-su', '08', {
  description: 'Thời sự tỉnh Tuyên Quang',
  items: [
    audio('thoi-su-sang', 'Thời sự buổi sáng', 'normal'),
    audio('canh-bao', 'Cảnh báo thời tiết', 'priority'),
    audio('thoi-su-toi', 'Thời sự buổi tối', 'normal'),
  ],
  schedule: [
    { id: 'sang', items: ['thoi-su-sang', 'canh-bao'], rule: { type: 'daily', times: ['06:00'] } },
    { id: 'toi', items: ['thoi-su-toi'], rule: { type: 'daily', times: ['22:30'] } },
  ],
});
// the commune's own meeting notice, once, on Wednesday 09/12 at 10:00
const OWN = bundle('xa-thong-bao', UNIT, {
  description: 'Thông báo của xã',
  items: [audio('hop-dan', 'Thông báo họp dân', 'normal')],
  schedule: [{ id: 'hop', items: ['hop-dan'], rule: { type: 'once', at: '2026-12-09T10:00:00+07:00' } }],
});
const CHOICES: Choices = {
  type: 'loa-choices',
  format: 1,
  unit: UNIT,
  version: 1,
  issued: T0,
  optOut: [{ channel: 'tinh-thoi-su', entries: ['sang'] }],
  quietHours: [{ start: '22:00', end: '05:00' }],
  signatures: [],
};

describe('programme page, week view', () => {
  // Thursday 10/12 00:30 in Vietnam (17:30 UTC the day before): "this week" is the week of 07/12
  const clock = new FakeClock(Date.parse('2026-12-09T17:30:00Z'));
  let s: TestServer;
  let chrome: Browser;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const content = contentPlugin();
    s = await startTestServer({ clock, plugins: [content, dashboardPlugin({ content })] });
    const { store } = s.deps;
    await store.bundles.insert(PROVINCE);
    await store.bundles.insert(OWN);
    await store.choices.put({ id: UNIT, unit: UNIT, current: CHOICES, publishedAt: T0, updatedAt: T0 });
    await store.devices.insert(device('loa-cho', UNIT, 'station', 'Cụm loa Chợ'));
    await store.devices.insert(device('bang-tin', UNIT, 'noticeboard', 'Bảng tin UBND'));
    await createUser(s, 'xa.sonduong', 'viewer', [UNIT]);
    await createUser(s, 'xa.pheduyet', 'approver', [UNIT]);
    chrome = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await s?.close();
  });

  const login = (width: number, username = 'xa.sonduong'): Promise<Page> =>
    loggedInPage(chrome, s.url, username, width);

  it('shows the week per output with reasons, times and air time; days and weeks link on', async () => {
    for (const width of [1280, 390]) {
      const page = await login(width);
      // the menu's "Lịch ngày, tuần" (not the programmes' "Lịch phát"), then the "Cả tuần" toggle: this week in Vietnam, Monday first
      await page.goto(`${s.url}/ui/`);
      await Promise.all([
        page.waitForURL(/\/ui\/timeline/),
        page.locator('nav.main-nav a', { hasText: 'Lịch ngày, tuần' }).click(),
      ]);
      expect(await page.locator('.tlw-toggle a').allTextContents()).toEqual(['Trong ngày', 'Cả tuần']);
      await Promise.all([
        page.waitForURL(/view=week/),
        page.locator('.tlw-toggle a', { hasText: 'Cả tuần' }).click(),
      ]);
      expect(await page.locator('nav.main-nav a[aria-current="page"]').textContent()).toBe('Lịch ngày, tuần');
      expect(await page.locator('.tlw-weeks strong').textContent()).toBe('Tuần từ 07/12/2026 đến 13/12/2026');
      const loa = page.locator('.tlw-lane[data-lane="audio"]');
      expect(await loa.locator('h2').textContent()).toBe('Loa truyền thanh');
      const days = loa.locator('tbody tr');
      expect(await days.count()).toBe(7);
      expect(await days.first().locator('th').textContent()).toBe('Thứ Hai 07/12/2026');
      expect(await days.last().locator('th').textContent()).toBe('Chủ Nhật 13/12/2026');
      // Wednesday: the priority bulletin and the commune's notice play; the refused and the quiet one do not
      const wed = loa.locator('tr[data-day="2026-12-09"]');
      expect(await wed.locator('.tlw-plays').textContent()).toBe('2');
      expect(await wed.locator('.tlw-held').textContent()).toBe(
        '2 (1 trong giờ yên lặng; 1 do Thị trấn Sơn Dương không nhận)',
      );
      expect(await wed.locator('.tlw-span').textContent()).toBe('06:00–10:05');
      expect(await wed.locator('.tlw-airtime').textContent()).toBe('10 phút');
      expect(await loa.locator('tr[data-day="2026-12-10"] .tlw-airtime').textContent()).toBe('5 phút');
      expect(await loa.locator('.tl-summary').textContent()).toBe(
        'Cả tuần: 8 mục sẽ phát · 14 mục không phát · tổng thời lượng 40 phút',
      );
      // the boards have nothing scheduled this week
      const bang = page.locator('.tlw-lane[data-lane="display"]');
      expect(await bang.locator('h2').textContent()).toBe('Bảng tin điện tử');
      expect(await bang.textContent()).toContain('Bảng tin không có mục nào theo lịch trong tuần này.');
      expect(await bang.locator('tbody tr').count()).toBe(0);
      // nothing wider than the screen
      expect(
        (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number,
      ).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(SHOTS, `week-${width}.png`), fullPage: true });

      // the next week, then back, then Wednesday's day plan
      await Promise.all([page.waitForURL(/day=2026-12-14/), page.locator('.tlw-weeks a[rel=next]').click()]);
      expect(await page.locator('.tlw-weeks strong').textContent()).toBe('Tuần từ 14/12/2026 đến 20/12/2026');
      await Promise.all([page.waitForURL(/day=2026-12-07/), page.locator('.tlw-weeks a[rel=prev]').click()]);
      await Promise.all([
        page.waitForURL(/day=2026-12-09/),
        page.locator('.tlw-lane[data-lane="audio"] tr[data-day="2026-12-09"] th a').click(),
      ]);
      expect(page.url()).not.toContain('view=week');
      expect(await page.locator('.tl-row[data-item="hop-dan"]').getAttribute('data-state')).toBe('plays');
      expect(await page.locator('.tl-row[data-item="thoi-su-toi"]').getAttribute('data-state')).toBe('quiet');
      await page.close();
    }
  }, 120_000);

  it("draws one station's week with the picker; the API answers the same week", async () => {
    const page = await login(390);
    await page.goto(`${s.url}/ui/timeline?unit=${UNIT}&view=week&day=2026-12-09&station=bang-tin`);
    expect(await page.locator('.tl-station').textContent()).toContain('Bảng tin UBND');
    expect(await page.locator('.tlw-lane').count()).toBe(1);
    expect(await page.locator('.tlw-lane').getAttribute('data-lane')).toBe('display');
    // the picker keeps the station and the week on "Xem"
    await Promise.all([
      page.waitForURL(/station=loa-cho/),
      (async () => {
        await page.selectOption('select[name=station]', 'loa-cho');
        await page.locator('.tl-filters button').click();
      })(),
    ]);
    expect(page.url()).toContain('view=week');
    expect(await page.locator('.tlw-lane').getAttribute('data-lane')).toBe('audio');
    expect(await page.locator('tr[data-day="2026-12-09"] .tlw-plays').textContent()).toBe('2');
    await page.screenshot({ path: join(SHOTS, 'week-station-390.png'), fullPage: true });

    const api = (q: string) =>
      page.evaluate(async (url) => {
        const r = await fetch(url);
        return {
          status: r.status,
          body: (await r.json()) as {
            week?: string;
            days?: { outputs: { audio: { plays: number } } }[];
            error?: { code: string };
          },
        };
      }, `${s.url}/api/v1/units/${UNIT}/timeline?${q}`);
    const w = await api('week=2026-12-13');
    expect(w.status).toBe(200);
    expect(w.body.week).toBe('2026-12-07');
    expect(w.body.days?.map((d) => d.outputs.audio.plays)).toEqual([1, 1, 2, 1, 1, 1, 1]);
    // ?view=week without a day: this week by the server's clock (Thursday 10/12 in Vietnam)
    expect((await api('view=week')).body.week).toBe('2026-12-07');
    expect((await api('week=2026-02-30')).body).toMatchObject({ error: { code: 'DAY_INVALID' } });
    await page.close();
  }, 120_000);

  it("keeps the commune's choices on the day view, not on the week", async () => {
    const page = await login(1280, 'xa.pheduyet');
    await page.goto(`${s.url}/ui/timeline?unit=${UNIT}&day=2026-12-09`);
    expect(await page.locator('input[name=refuse][value="tinh-thoi-su|sang"]').isChecked()).toBe(true);
    expect(await page.locator('.tl-quiet input[name=qs0]').inputValue()).toBe('22:00');
    await page.goto(`${s.url}/ui/timeline?unit=${UNIT}&day=2026-12-09&view=week`);
    expect(await page.locator('.tl-choices').count()).toBe(0);
    expect(await page.locator('.tlw-lane').count()).toBe(2);
    await page.close();
  }, 60_000);
});
