/**
 * Every dashboard page on the demo province, in headless Chromium, on a desktop and on a 390 px
 * phone: screenshots into tests/artifacts/pages/, an axe-core audit (no serious or critical
 * violation), no page-wide sideways scrolling on the phone and a header on one line; a role's menu
 * never links to a page that refuses it, and a refusal is a normal page saying who may use it.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishProgramme } from '../../scripts/src/demo/seed.js';
import { FleetApi } from '../../scripts/src/sim/fleet-api.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'pages');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ADMIN_PW = 'Quan-tri-Demo-2026!';
let p: DemoProvince;
let programmeId: string;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

async function axe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate<unknown[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((x) => x.violations)",
  );
  return (r as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function adminLogin(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  await login(page, p.server.url, p.admin.username, ADMIN_PW);
  return page;
}

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({
    devices: [
      { unit: '08/02500', kind: 'station', index: 1 },
      { unit: '08/02500', kind: 'station', index: 2 },
      { unit: '08/02503', kind: 'noticeboard', index: 1 },
    ],
  });
  programmeId = await publishProgramme(p.server, p.state);
  // The first administrator's one-time password, changed as at a first login (through the API).
  const admin = await p.server.deps.store.users.byUsername(p.admin.username);
  if (!admin) throw new Error('no administrator');
  const { token, record } = await p.server.deps.auth.createApiToken(
    admin.id,
    'test',
    new Date(Date.now() + 3600_000).toISOString(),
  );
  const api = new FleetApi(p.server.url, token);
  await api.post('/auth/password', { currentPassword: p.admin.password, newPassword: ADMIN_PW });
  await api.call('delete', `/tokens/${record.id}`);
}, 240_000);

afterAll(async () => {
  await p?.close();
});

describe('every page, desktop and phone', () => {
  it('renders each page with no serious accessibility violation and no sideways page on a phone', async () => {
    const station = p.devices[0]?.deviceId as string;
    // A programme waiting for approval, so the approval pages have something to show.
    const waiting = await p.publishDraftOnly();
    const pages: [string, string][] = [
      ['/ui/', 'overview'],
      ['/ui/fleet', 'fleet'],
      [`/ui/devices/${encodeURIComponent(station)}`, 'device'],
      ['/ui/enrolments', 'enrolments'],
      ['/ui/content', 'content'],
      ['/ui/programmes', 'programmes'],
      ['/ui/approvals', 'approvals'],
      [`/ui/approvals/${encodeURIComponent(waiting)}`, 'approval'],
      ['/ui/emergency', 'emergency'],
      ['/ui/reports', 'reports'],
      ['/ui/admin', 'admin'],
      ['/ui/admin/audit', 'audit'],
      [`/ui/devices/khong-co`, 'not-found'],
    ];
    expect(programmeId).toBeTruthy();
    const failures: string[] = [];
    for (const [vw, vh, tag] of [
      [1280, 900, 'desktop'],
      [390, 844, 'phone'],
    ] as const) {
      const ctx = await p.chrome.newContext({
        viewport: { width: vw, height: vh },
        ...(vw < 500 ? { isMobile: true, hasTouch: true } : {}),
        locale: 'vi-VN',
      });
      const page = await adminLogin(ctx);
      for (const [path, name] of pages) {
        await page.goto(`${p.server.url}${path}`);
        await page.waitForLoadState('load');
        await page.screenshot({ path: join(ART, `${name}-${tag}.png`), fullPage: true });
        // units by name: no commune code ("08/02500") in what an operator's page shows (the
        // administrator's unit register and audit log keep them)
        const codes = (await page.locator('main').innerText()).match(/\b\d{2}\/\d{5}\b/g);
        if (codes && name !== 'admin' && name !== 'audit')
          failures.push(`${tag} ${name}: unit codes shown: ${[...new Set(codes)].join(', ')}`);
        for (const v of await axe(page))
          failures.push(
            `${tag} ${name}: ${v.id} (${v.impact}) ${v.help} @ ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
          );
        if (tag === 'phone') {
          const over = await page.evaluate<number>(
            'document.documentElement.scrollWidth - window.innerWidth',
          );
          if (over > 1) failures.push(`phone ${name}: page scrolls sideways by ${over}px`);
          // The header on one line: the sign-out button sits beside the brand, not under it.
          const wrapped = await page.evaluate<boolean>(
            "(() => { const b = document.querySelector('header.top .brand')?.getBoundingClientRect(); const o = document.querySelector('header.top button.link')?.getBoundingClientRect(); return !!b && !!o && o.top >= b.bottom; })()",
          );
          if (wrapped) failures.push(`phone ${name}: the header wraps onto a second line`);
        }
      }
      await ctx.close();
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it("keeps pages out of a role's menu when the role may not use them, and refuses politely", async () => {
    const ctx = await p.chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const page = await ctx.newPage();
    await login(page, p.server.url, 'bientap', p.password('bientap'));
    const menu = await page
      .locator('nav.main-nav a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(menu).not.toContain('/ui/emergency');
    expect(menu).not.toContain('/ui/approvals');
    expect(menu).toContain('/ui/programmes');
    const res = await page.goto(`${p.server.url}/ui/emergency`);
    expect(res?.status()).toBe(403);
    expect(res?.headers()['content-type']).toContain('text/html');
    expect(await page.locator('html').getAttribute('lang')).toBe('vi');
    expect(await page.locator('nav.main-nav a').count()).toBeGreaterThan(2);
    expect(await page.locator('h1').textContent()).toBe('Không có quyền truy cập');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('Vận hành');
    expect(text).toContain('Quản trị viên');
    expect(text).not.toContain('Biên tập viên');
    await page.screenshot({ path: join(ART, 'forbidden-desktop.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('the editor chooses units from a tree and a readable channel; the approver judges in words', async () => {
    // A fresh demo: nothing a booting station shows (mains, clock) has become an alert.
    expect(await p.server.deps.store.alerts.list((a) => a.state !== 'resolved')).toEqual([]);
    const ctx = await p.chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const ed = await ctx.newPage();
    await login(ed, p.server.url, 'bientap', p.password('bientap'));
    expect(await ed.locator('[data-k="ov:alerts"]').textContent()).toBe('0');
    await ed.goto(`${p.server.url}/ui/programmes`);
    const tanTrao = ed.locator('fieldset#f-targetUnits label', { hasText: 'Xã Tân Trào' });
    expect(await tanTrao.textContent()).toContain('0 cụm loa, 1 bảng tin');
    expect(
      await ed.locator('fieldset#f-targetUnits label', { hasText: 'Thị trấn Sơn Dương' }).textContent(),
    ).toContain('2 cụm loa');
    await ed.locator('#f-items label', { hasText: 'Lịch tiêm chủng' }).locator('input').check();
    await ed.locator('#f-items label', { hasText: 'Bản tin sáng' }).locator('input').check();
    await ed.selectOption('#f-channel', '+new');
    await ed.fill('#f-channelName', 'Thông báo Tân Trào');
    await ed.uncheck('input[name=targetUnits][value="08"]');
    await tanTrao.locator('input').check();
    await ed.selectOption('#f-rule', 'once');
    const local = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(0, 16); // datetime-local in +07:00
    await ed.fill('#f-at', local(Date.now() - 3600_000));
    await ed.click('button[value=submit]');
    await expect
      .poll(() => ed.locator('[data-error-for="at"]').textContent(), { timeout: 10_000 })
      .toContain('đã qua');
    // 09:00 local two days ahead: never inside the demo's quiet hours, whatever time the test runs.
    await ed.fill('#f-at', `${local(Date.now() + 2 * 86_400_000).slice(0, 10)}T09:00`);
    await Promise.all([ed.waitForURL(/ok=prog.submittedOk/), ed.click('button[value=submit]')]);
    const row = ed.locator('#bundle-list tr', { hasText: 'Thông báo Tân Trào' });
    expect(await row.textContent()).toContain('Lần phát tới');
    expect(await row.textContent()).toContain('Xã Tân Trào');
    await ed.screenshot({ path: join(ART, 'programmes-after-submit.png'), fullPage: true });
    const bundle = (await p.server.deps.store.bundles.list((b) => b.channel === 'thong-bao-tan-trao'))[0];
    expect(bundle?.manifest.targets).toEqual([{ unit: '08/02503' }]);

    // The demo's devices stand in their communes on the map.
    await ed.goto(`${p.server.url}/ui/fleet`);
    await expect
      .poll(() => ed.evaluate<string>("document.getElementById('map')?.dataset.ready ?? ''"), {
        timeout: 10_000,
      })
      .toBe('3');
    // Diacritics ignored in the device search.
    await ed.goto(`${p.server.url}/ui/fleet?q=${encodeURIComponent('tan trao')}`);
    const fleet = (await ed.locator('#fleet-table').textContent()) ?? '';
    expect(fleet).toContain('Bảng tin điện tử – Xã Tân Trào');
    expect(fleet).not.toContain('Cụm loa 1');

    // The approver is another person: a browser of their own (the editor's session is in ctx).
    const apCtx = await p.chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const ap = await apCtx.newPage();
    await login(ap, p.server.url, 'pheduyet', p.password('pheduyet'));
    const badge = await ap.locator('nav.main-nav a[href="/ui/approvals"] .nav-badge').textContent();
    expect(Number(badge?.trim().split(/\s/)[0])).toBeGreaterThanOrEqual(1);
    await ap.goto(`${p.server.url}/ui/approvals/${encodeURIComponent(bundle?.id ?? '')}`);
    const sum = (await ap.locator('#summary').textContent()) ?? '';
    expect(sum).toContain('Bản tin sáng');
    expect(sum).toContain('Một lần, lúc');
    expect(sum).toContain('Xã Tân Trào');
    expect(sum).toContain('0 cụm loa, 1 bảng tin');
    expect(sum).toContain('Thông thường');
    expect(sum).toContain('Lần phát tới');
    expect(await ap.locator('#summary audio').count()).toBe(1);
    expect(await ap.locator('#summary blockquote').textContent()).toBeTruthy();
    // The changes in words: titles, Vietnamese labels, unit and channel names; no ids or slugs.
    const diff = (await ap.locator('#diff').textContent()) ?? '';
    expect(diff).toContain('Mục phát');
    expect(diff).toContain('Bản tin sáng');
    expect(diff).toContain('Âm thanh · Thông thường · Tiếng Việt');
    expect(diff).toContain('Văn bản');
    expect(diff).toContain('Xã Tân Trào');
    expect(diff).toContain('Một lần, lúc');
    expect(diff).not.toMatch(/\b(audio|text|normal|health) ·|08\/02503|bundle|tiem|ban-tin/);
    expect(await ap.locator('[data-k="appr:channel"]').textContent()).toBe('Thông báo Tân Trào');
    await ap.screenshot({ path: join(ART, 'approval-summary-desktop.png'), fullPage: true });
    // A rejection needs a reason.
    await ap.click('form[action$="/reject"] button');
    await expect
      .poll(() => ap.locator('[data-error-for="reason"]').textContent(), { timeout: 10_000 })
      .toBe('Vui lòng nhập trường này.');
    expect((await p.server.deps.store.bundles.get(bundle?.id ?? ''))?.state).toBe('submitted');
    await apCtx.close();
    await ctx.close();
  }, 120_000);

  it('undoes from the pages: content archived or deleted (not while on air), a code and a device revoked; all audited', async () => {
    const ctx = await p.chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const page = await adminLogin(ctx);
    page.on('dialog', (d) => void d.accept());
    const store = p.server.deps.store;
    const row = (title: string) => page.locator('#content-list tr', { hasText: title });

    // Content used by the programme on air: deleting it is refused, with the programme's name.
    await page.goto(`${p.server.url}/ui/content`);
    await row('Bản tin sáng').locator('button.danger').click();
    await expect
      .poll(() => page.locator('.flash.error').textContent(), { timeout: 10_000 })
      .toContain('Không thể xoá: nội dung đang được dùng trong chương trình');
    // the programme on air by name (programmes waiting for approval may be named too)
    expect(await page.locator('.flash.error').textContent()).toContain(
      '"Chương trình phát thanh hằng ngày (demo)"',
    );
    expect(await row('Bản tin sáng').count()).toBe(1);
    await page.screenshot({ path: join(ART, 'undo-content-in-use.png'), fullPage: true });

    // Unused content: archived (out of the library and the programme form), then deleted.
    const unused = (await store.content.list()).find(
      (c) => c.title !== 'Bản tin sáng' && c.title !== 'Bản tin chiều' && c.kind === 'audio',
    );
    expect(unused).toBeTruthy();
    const title = unused?.title as string;
    await Promise.all([
      page.waitForURL(/ok=content.archived/),
      row(title).locator('form[action$="/archive"] button').click(),
    ]);
    expect(await page.locator('.flash.ok').textContent()).toContain(title);
    expect(await row(title).count()).toBe(0);
    expect((await store.content.get(unused?.id as string))?.archivedAt).toBeTruthy();
    await page.goto(`${p.server.url}/ui/programmes`);
    expect(await page.locator('#f-items label', { hasText: title }).count()).toBe(0);
    await page.goto(`${p.server.url}/ui/content`);
    await Promise.all([page.waitForURL(/archived=1/), page.click('#archived-toggle')]);
    await Promise.all([page.waitForURL(/ok=content.deleted/), row(title).locator('button.danger').click()]);
    expect(await store.content.get(unused?.id as string)).toBeUndefined();

    // An enrolment code revoked from the enrolments page.
    await page.goto(`${p.server.url}/ui/enrolments`);
    const tokenId = await page.locator('[data-token-revoke]').first().getAttribute('data-token-revoke');
    expect(tokenId).toBeTruthy();
    await Promise.all([
      page.waitForURL(/ok=enrol.revoked/),
      page.locator(`[data-token-revoke="${tokenId}"]`).click(),
    ]);
    expect((await store.enrolmentTokens.get(tokenId as string))?.revokedAt).toBeTruthy();

    // A device revoked from its page, with a reason: disconnected, and it cannot come back.
    const dev = p.devices[1]?.deviceId as string;
    await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(dev)}`);
    await page.fill('#f-undo-reason', 'Mất trộm');
    await Promise.all([page.waitForURL(/ok=device.revoked/), page.click('#device-undo button.danger')]);
    expect(await page.locator('.flash.ok').textContent()).toBe('Đã thu hồi thiết bị.');
    const rec = await store.devices.get(dev);
    expect(rec?.status).toBe('revoked');
    expect(rec?.revokedReason).toBe('Mất trộm');
    await expect
      .poll(() => p.server.deps.broker.presence(dev)?.connected ?? false, { timeout: 15_000 })
      .toBe(false);
    await page.screenshot({ path: join(ART, 'undo-device-revoked.png'), fullPage: true });

    // Every undo in the audit log, in Vietnamese.
    await page.goto(`${p.server.url}/ui/admin/audit`);
    const audit = (await page.locator('main').textContent()) ?? '';
    for (const label of ['Lưu trữ nội dung', 'Xoá nội dung', 'Thu hồi mã kết nạp', 'Thu hồi thiết bị'])
      expect(audit).toContain(label);
    // what was undone, by name: the deleted content's title, the code as a code
    expect(audit).toContain(`Nội dung: ${title}`);
    expect(audit).toContain('Mã kết nạp:');
    await page.screenshot({ path: join(ART, 'undo-audit.png'), fullPage: true });
    await ctx.close();
  }, 180_000);

  it('edits a device from its page (name, a click on the map, a group) and draws the communes offline', async () => {
    const store = p.server.deps.store;
    await store.groups.insert({
      id: 'cum-cho',
      unit: '08/02500',
      name: 'Cụm chợ trung tâm',
      createdAt: new Date().toISOString(),
    });
    const dev = p.devices[0]?.deviceId as string;
    for (const [vw, vh, tag] of [
      [1280, 900, 'desktop'],
      [390, 844, 'phone'],
    ] as const) {
      const ctx = await p.chrome.newContext({
        viewport: { width: vw, height: vh },
        ...(vw < 500 ? { isMobile: true, hasTouch: true } : {}),
        locale: 'vi-VN',
      });
      const page = await adminLogin(ctx);
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(p.server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });

      // The fleet map: four communes' boundaries and the stations, from this server only.
      await page.goto(`${p.server.url}/ui/fleet`);
      await expect
        .poll(() => page.evaluate<string>("document.getElementById('map')?.dataset.ready ?? ''"), {
          timeout: 15_000,
        })
        .toBe('3');
      expect(await page.evaluate<string>("document.getElementById('map')?.dataset.boundaryCount ?? ''")).toBe(
        '4',
      );
      expect(
        await page.locator('#map path.leaflet-interactive, #map svg path, #map canvas').count(),
      ).toBeGreaterThan(0);
      await page.locator('#map-section').screenshot({ path: join(ART, `map-${tag}.png`) });

      if (tag === 'desktop') {
        await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(dev)}`);
        await expect
          .poll(() => page.evaluate<string>("document.getElementById('edit-map')?.dataset.ready ?? ''"), {
            timeout: 15_000,
          })
          .toBe('1');
        // Refused: a latitude out of range, with the message beside the field; nothing saved.
        await page.fill('#f-lat', '95');
        await page.click('#device-edit button[type=submit]');
        await expect
          .poll(() => page.locator('[data-error-for="lat"]').textContent(), { timeout: 10_000 })
          .toBe('Vĩ độ là số từ -90 đến 90, ví dụ 21.69760.');
        expect((await store.devices.get(dev))?.location?.lat).not.toBe(95);
        // The page came back with the form as typed; its map is ready again.
        await expect
          .poll(() => page.evaluate<string>("document.getElementById('edit-map')?.dataset.ready ?? ''"), {
            timeout: 15_000,
          })
          .toBe('1');
        // A name, a click on the map, a group: saved and audited.
        await page.fill('#f-name', 'Cụm loa chợ Sơn Dương');
        await page.locator('#edit-map').scrollIntoViewIfNeeded();
        const box = await page.locator('#edit-map').boundingBox();
        expect(box).toBeTruthy();
        await page.mouse.click(
          (box?.x ?? 0) + (box?.width ?? 0) * 0.3,
          (box?.y ?? 0) + (box?.height ?? 0) * 0.6,
        );
        const lat = Number(await page.inputValue('#f-lat'));
        const lon = Number(await page.inputValue('#f-lon'));
        expect(lat).toBeGreaterThan(21);
        expect(lat).toBeLessThan(22.5);
        expect(lon).toBeGreaterThan(104.5);
        expect(lon).toBeLessThan(106);
        await page.locator('#f-groups label', { hasText: 'Cụm chợ trung tâm' }).locator('input').check();
        await page.locator('#device-edit').screenshot({ path: join(ART, 'device-edit-desktop.png') });
        await Promise.all([page.waitForURL(/ok=dev.saved/), page.click('#device-edit button[type=submit]')]);
        expect(await page.locator('.flash.ok').textContent()).toBe('Đã lưu thông tin thiết bị.');
        const rec = await store.devices.get(dev);
        expect(rec?.name).toBe('Cụm loa chợ Sơn Dương');
        expect(rec?.location).toEqual({ lat, lon });
        expect(rec?.groups).toEqual(['cum-cho']);
        expect(await page.locator('h1').textContent()).toContain('Cụm loa chợ Sơn Dương');
        await page.goto(`${p.server.url}/ui/admin/audit`);
        expect(await page.locator('main').textContent()).toContain('Sửa thông tin thiết bị');
      }
      expect(foreign).toEqual([]);
      await ctx.close();
    }
  }, 180_000);
});
