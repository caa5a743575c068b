/**
 * A commune refuses a provincial slot, in headless Chromium against the demo's province with a real
 * agent (simulated hardware, real ffmpeg): the approver ticks "Không nhận" for the province's
 * morning slot on the day plan, the editor co-signs (content needs two signatures in the demo),
 * the station applies the signed choices; at its time the refused item does not play (a signed
 * `skipped` proof says "opted-out") while the province's other slot plays, and the day plan shows
 * the refused item struck through with the reason. Screenshots at 1280 and 390 px.
 *
 * The same choices hold on the commune's noticeboard (a real agent whose screen is a headless
 * Chromium on its kiosk page): a provincial board notice of a refused category is shown neither at
 * its time nor in the board's loop, while the notice the commune carries is; the board's own day
 * plan (the station picked on the page) lists it under "Bảng tin điện tử" with the reason.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Proof } from '@loa/protocol';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MORNING, SOON } from '../../scripts/src/demo/bulletins.js';
import { apiAsUser } from '../../scripts/src/sim/provision.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'dashboard');
const UNIT = '08/02500';
let p: DemoProvince;

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({
    devices: [
      { unit: UNIT, kind: 'station', index: 1 },
      {
        unit: UNIT,
        kind: 'noticeboard',
        index: 1,
        display: {
          port: 0,
          unitName: 'UBND thị trấn Sơn Dương',
          browser: { driver: 'chromium', headless: true, width: 1280, height: 720 },
        },
      },
    ],
    healthIntervalS: 5,
  });
}, 180_000);

afterAll(async () => {
  await p?.close();
});

async function pageAs(username: string, width = 1280): Promise<Page> {
  const ctx = await p.chrome.newContext({ viewport: { width, height: 900 }, locale: 'vi-VN' });
  const page = await ctx.newPage();
  await login(page, p.server.url, username, p.password(username));
  return page;
}

/** The local (Vietnam) day of an instant. */
const vnDay = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);

describe("a commune's choices, from the day plan to the station", () => {
  it('refuses a provincial slot: the station skips it with a proof, the day plan strikes it through', async () => {
    const station = p.devices[0];
    // the province's relay slot and its noon bulletin, a little ahead (the demo has no quiet hours)
    const sang = new Date(Date.now() + 100_000);
    const trua = new Date(sang.getTime() + 40_000);
    const day = vnDay(sang.getTime());
    const id = await p.publish({
      channel: 'tinh-thoi-su',
      description: 'Thời sự tỉnh Tuyên Quang',
      targets: [{ unit: '08' }],
      items: [
        { content: p.state.content[MORNING.id], id: 'thoi-su-sang', title: 'Thời sự buổi sáng của tỉnh' },
        { content: p.state.content[SOON.id], id: 'tin-trua', title: 'Tin vắn buổi trưa' },
      ],
      schedule: [
        { id: 'sang', items: ['thoi-su-sang'], rule: { type: 'once', at: sang.toISOString() } },
        { id: 'trua', items: ['tin-trua'], rule: { type: 'once', at: trua.toISOString() } },
      ],
    });
    await expect
      .poll(() => station?.runtime?.bundles.active().some((b) => b.id === id), { timeout: 60_000 })
      .toBe(true);

    // the approver refuses the morning slot on the day plan
    const approver = await pageAs('pheduyet');
    await approver.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}`);
    const refuse = approver.locator('input[name=refuse][value="tinh-thoi-su|sang"]');
    await expect.poll(() => refuse.count()).toBe(1);
    expect(await approver.locator('input[name=refuse][value="tinh-thoi-su|trua"]').isChecked()).toBe(false);
    await refuse.check();
    await Promise.all([
      approver.waitForURL(/ok=tl\.savedPending/),
      approver.locator('.tl-choices button').click(),
    ]);
    await expect.poll(() => approver.locator('.flash').first().textContent()).toContain('chờ người thứ hai');
    // one signature of two: nothing reached the station yet
    expect(station?.runtime?.bundles.choices()).toEqual([]);

    // the editor co-signs the same choices from the same page
    const editor = await pageAs('bientap');
    await editor.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}`);
    await expect.poll(() => editor.locator('.tl-choices').count()).toBe(1);
    expect(await editor.locator('input[name=refuse][value="tinh-thoi-su|sang"]').isChecked()).toBe(true);
    await Promise.all([editor.waitForURL(/ok=tl\.saved(&|$)/), editor.locator('.tl-choices button').click()]);
    await expect
      .poll(() => station?.runtime?.bundles.choices().map((c) => [c.unit, c.version, c.signatures.length]), {
        timeout: 30_000,
      })
      .toEqual([[UNIT, 1, 2]]);

    // at its time the refused item is skipped with a signed proof; the other slot plays
    const api = await apiAsUser(p.server, 'pheduyet', 1);
    const deviceId = station?.deviceId as string;
    const proofs = async () =>
      (await api.get<{ proof: Proof }[]>(`/devices/${deviceId}/proofs?limit=1000`))
        .map((e) => e.proof)
        .filter((x) => x.bundleId === id);
    await expect
      .poll(async () => (await proofs()).map((x) => `${x.itemId}:${x.outcome}`).sort(), {
        timeout: 240_000,
        interval: 1000,
      })
      .toEqual(['thoi-su-sang:skipped', 'tin-trua:completed', 'tin-trua:started']);
    const skipped = (await proofs()).find((x) => x.outcome === 'skipped');
    expect(skipped?.reason).toBe('not played: opted-out');

    // the day plan: struck through, with the reason, in Vietnamese and names, at 1280 and 390 px
    for (const width of [1280, 390]) {
      const page = width === 1280 ? approver : await pageAs('pheduyet', width);
      await page.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}`);
      const row = page.locator('.tl-row[data-item="thoi-su-sang"]');
      expect(await row.getAttribute('data-state')).toBe('opted-out');
      expect(await row.locator('s').textContent()).toBe('Thời sự buổi sáng của tỉnh');
      expect(await row.textContent()).toContain('Không phát: Thị trấn Sơn Dương đã chọn không nhận');
      expect(await row.textContent()).toContain('Từ Tỉnh Tuyên Quang');
      expect(await page.locator('.tl-row[data-item="tin-trua"]').getAttribute('data-state')).toBe('plays');
      // nothing wider than the screen
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth',
      )) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ART, `50-timeline-${width}.png`), fullPage: true });
    }
  }, 420_000);

  it('keeps a refused board notice off the noticeboard, at its time and in its loop; the day plan says why', async () => {
    const board = p.devices[1];
    const display = board?.runtime?.display;
    if (!board?.deviceId || !display) throw new Error('the board has no screen');
    const approverApi = await apiAsUser(p.server, 'pheduyet', 1);
    const editorApi = await apiAsUser(p.server, 'bientap', 1);
    // the commune refuses the province's advertisements (a category), on top of its earlier choice
    const current = await approverApi.get<{ current?: { version: number; optOut: unknown[] } }>(
      `/units/${UNIT}/choices`,
    );
    const body = {
      optOut: [...(current.current?.optOut ?? []), { categories: ['quang-cao'] }],
      quietHours: [],
    };
    await approverApi.put(`/units/${UNIT}/choices`, body);
    await editorApi.put(`/units/${UNIT}/choices`, body);
    const version = (current.current?.version ?? 0) + 1;
    await expect
      .poll(() => board.runtime?.bundles.choices().map((c) => c.version), { timeout: 30_000 })
      .toEqual([version]);

    // the province's board programme: an advertisement, then a health notice, a little ahead
    const notice = async (title: string, text: string, category: string) =>
      (
        await editorApi.post<{ id: string }>('/content/text', {
          title,
          unit: '08',
          lang: 'vi',
          text,
          category,
          durationMs: 15_000,
        })
      ).id;
    const ad = await notice(
      'Khuyến mãi phân bón mùa vụ',
      'Đại lý phân bón giảm giá 10% cho bà con trong tháng này.',
      'quang-cao',
    );
    const health = await notice(
      'Lịch tiêm chủng mở rộng',
      'Trạm y tế tiêm chủng cho trẻ dưới 5 tuổi vào sáng thứ Bảy.',
      'health',
    );
    const adAt = new Date(Date.now() + 60_000);
    const healthAt = new Date(adAt.getTime() + 30_000);
    const day = vnDay(adAt.getTime());
    const id = await p.publish({
      channel: 'tinh-bang-tin',
      description: 'Bảng tin của tỉnh',
      targets: [{ unit: '08' }],
      items: [
        { content: ad, id: 'quang-cao-phan-bon', title: 'Khuyến mãi phân bón mùa vụ' },
        { content: health, id: 'tiem-chung', title: 'Lịch tiêm chủng mở rộng' },
      ],
      schedule: [
        { id: 'quang-cao', items: ['quang-cao-phan-bon'], rule: { type: 'once', at: adAt.toISOString() } },
        { id: 'suc-khoe', items: ['tiem-chung'], rule: { type: 'once', at: healthAt.toISOString() } },
      ],
    });
    await expect
      .poll(() => board.runtime?.bundles.active().some((b) => b.id === id), { timeout: 60_000 })
      .toBe(true);

    // what the board's page reports on screen, from activation until the notice's own slot is over
    const seen = new Set<string>();
    const now = async () =>
      (await (await fetch(display.url.replace('/kiosk/', '/kiosk/now'))).json()) as {
        bundleId?: string;
        itemId?: string;
      } | null;
    await expect
      .poll(
        async () => {
          const s = await now();
          if (s?.bundleId === id && s.itemId) seen.add(s.itemId);
          return Date.now() > healthAt.getTime() + 5_000 && seen.has('tiem-chung');
        },
        { timeout: 240_000, interval: 250 },
      )
      .toBe(true);
    expect([...seen]).toEqual(['tiem-chung']);
    // the board's signed proofs: the health notice shown, the advertisement never on screen
    const proofs = async () =>
      (await approverApi.get<{ proof: Proof }[]>(`/devices/${board.deviceId}/proofs?limit=1000`))
        .map((e) => e.proof)
        .filter((x) => x.bundleId === id);
    await expect
      .poll(
        async () => (await proofs()).some((x) => x.itemId === 'tiem-chung' && x.outcome === 'completed'),
        {
          timeout: 60_000,
        },
      )
      .toBe(true);
    expect(
      (await proofs()).filter((x) => x.itemId === 'quang-cao-phan-bon' && x.outcome !== 'skipped'),
    ).toEqual([]);

    // the board's own day plan: the advertisement under "Bảng tin điện tử", struck through, with why
    for (const width of [1280, 390]) {
      const page = await pageAs('pheduyet', width);
      await page.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}&station=${board.deviceId}`);
      expect(
        await page.locator('.tl-lane').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-lane'))),
      ).toEqual(['display']);
      expect(await page.locator('.tl-lane h2').textContent()).toBe('Bảng tin điện tử');
      expect(await page.locator('.tl-station').textContent()).toContain('Lịch riêng của Bảng tin điện tử');
      const row = page.locator('.tl-row[data-item="quang-cao-phan-bon"]');
      expect(await row.getAttribute('data-state')).toBe('opted-out');
      expect(await row.getAttribute('data-output')).toBe('display');
      expect(await row.locator('.tl-out').textContent()).toBe('Bảng tin');
      expect(await row.textContent()).toContain('Không chiếu: Thị trấn Sơn Dương đã chọn không nhận');
      expect(await row.locator('.tl-len').textContent()).toBe('hiện trên màn hình 15 giây');
      const shown = page.locator('.tl-row[data-item="tiem-chung"]');
      expect(await shown.getAttribute('data-state')).toBe('plays');
      expect(await shown.locator('.tl-time').textContent()).toMatch(/^\d\d:\d\d:\d\d–\d\d:\d\d:\d\d$/);
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth',
      )) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ART, `52-timeline-board-${width}.png`), fullPage: true });
      await page.context().close();
    }
    // the whole commune, loudspeakers and boards apart; filtered to the boards only
    const page = await pageAs('pheduyet');
    await page.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}`);
    expect(await page.locator('.tl-lane h2').allTextContents()).toEqual([
      'Loa truyền thanh',
      'Bảng tin điện tử',
    ]);
    expect(
      await page.locator('.tl-lane[data-lane=audio] .tl-row[data-item="quang-cao-phan-bon"]').count(),
    ).toBe(0);
    await page.goto(`${p.server.url}/ui/timeline?unit=${UNIT}&day=${day}&lanes=display`);
    expect(await page.locator('.tl-lane h2').allTextContents()).toEqual(['Bảng tin điện tử']);
    await page.context().close();
  }, 420_000);

  it('repeats an emergency in progress from its page ("Phát lại"), signed like the original', async () => {
    const station = p.devices[0];
    const api = await apiAsUser(p.server, 'vanhanh', 1);
    const sent = await api.post<{ bundle: { id: string; version: number } }>('/emergency', {
      unit: UNIT,
      title: 'Cảnh báo lũ',
      text: 'Cảnh báo khẩn cấp. Nước sông đang lên nhanh. Bà con không qua ngầm tràn.',
      repeat: 1,
      gapSeconds: 0,
    });
    for (const width of [1280, 390]) {
      const page = await pageAs('vanhanh', width);
      await page.goto(`${p.server.url}/ui/emergency/${sent.bundle.id}`);
      const form = page.locator('form.emg-repeat');
      await expect.poll(() => form.locator('button').textContent()).toBe('Phát lại');
      await page.screenshot({ path: join(ART, `51-emergency-repeat-${width}.png`), fullPage: true });
      if (width === 390) break;
      await form.locator('input[name=repeat]').fill('2');
      await Promise.all([page.waitForURL(/ok=emgx\.sent/), form.locator('button').click()]);
      expect(page.url()).toContain(`/ui/emergency/emergency-v${sent.bundle.version + 1}`);
      await expect.poll(() => page.locator('.flash').first().textContent()).toContain('Đã phát lại cảnh báo');
    }
    // the station receives and verifies the repeat like the original
    await expect
      .poll(
        () =>
          station?.runtime?.bundles.active().some((b) => b.id === `emergency-v${sent.bundle.version + 1}`),
        {
          timeout: 60_000,
        },
      )
      .toBe(true);
  }, 180_000);
});
