/**
 * Names, not codes, where the screenshots showed codes: the approval page names who signed (name
 * and role; the key id on hover), a device's latest error is a Vietnamese sentence (the code in
 * small type), the device's bundle table names the programme and its channel, and the health
 * charts' time axis has distinct labels for a single report and a date when the span crosses
 * days. Headless Chromium against the demo's province (real agents over simulated hardware);
 * screenshots at 1280 px and 390 px into tests/artifacts/words/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Health } from '@loa/protocol';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBoundaries } from '../../scripts/src/demo/boundaries.js';
import { MORNING } from '../../scripts/src/demo/bulletins.js';
import { FleetApi } from '../../scripts/src/sim/fleet-api.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'words');
const UNIT = '08/02500';
const BOARD_UNIT = '08/02503';
const ADMIN_PW = 'Quan-tri-Demo-2026!';
const VIEWPORTS = [
  [1280, 900, 'desktop'],
  [390, 844, 'phone'],
] as const;
let p: DemoProvince;

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({
    devices: [
      { unit: UNIT, kind: 'station', index: 1 },
      { unit: BOARD_UNIT, kind: 'noticeboard', index: 1 },
    ],
    // one report at start, then none for the test's length: the test's own reports stay the latest
    healthIntervalS: 3600,
  });
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
}, 180_000);

afterAll(async () => {
  await p?.close();
});

async function pageAs(username: string, vw = 1280, vh = 900): Promise<Page> {
  const ctx = await p.chrome.newContext({
    viewport: { width: vw, height: vh },
    ...(vw < 500 ? { isMobile: true, hasTouch: true } : {}),
    locale: 'vi-VN',
  });
  const page = await ctx.newPage();
  const admin = username === p.admin.username;
  await login(page, p.server.url, username, admin ? ADMIN_PW : p.password(username));
  return page;
}

/** What a person does, counted: a link, button or checkbox is one click; a typed field is one field. */
class Counted {
  clicks = 0;
  typed = 0;
  constructor(readonly page: Page) {}
  async click(sel: string) {
    this.clicks++;
    await this.page.click(sel);
  }
  async check(sel: string, on = true) {
    this.clicks++;
    if (on) await this.page.check(sel);
    else await this.page.uncheck(sel);
  }
  async type(sel: string, text: string) {
    this.typed++;
    await this.page.fill(sel, text);
  }
}

/** The device's own latest report (from its agent), as the base of a later one. */
async function agentHealth(deviceId: string): Promise<Health> {
  await expect.poll(() => p.server.deps.store.health.latest(deviceId), { timeout: 60_000 }).toBeTruthy();
  return (p.server.deps.store.health.latest(deviceId) as { health: Health }).health;
}

async function report(deviceId: string, at: Date, change: Partial<Health>): Promise<void> {
  const base = await agentHealth(deviceId);
  await p.server.deps.store.health.append({
    deviceId,
    receivedAt: at.toISOString(),
    health: { ...base, ...change, at: at.toISOString(), seq: base.seq + 1 },
  });
}

async function xLabels(page: Page, metric: string): Promise<string[]> {
  const el = page.locator(`[data-chart="${metric}"]`);
  await expect.poll(() => el.getAttribute('data-x-labels'), { timeout: 30_000 }).toBeTruthy();
  return ((await el.getAttribute('data-x-labels')) ?? '').split('|');
}

describe('names, not codes', () => {
  it('names who signed a programme waiting for approval, with the key id only on hover', async () => {
    const id = await p.publishDraftOnly();
    const keys = await p.server.deps.store.signingKeys.list();
    const editor = await p.server.deps.store.users.byUsername('bientap');
    const key = keys.find((k) => k.userId === editor?.id);
    for (const [vw, vh, tag] of VIEWPORTS) {
      const page = await pageAs('pheduyet', vw, vh);
      await page.goto(`${p.server.url}/ui/approvals/${encodeURIComponent(id)}`);
      const li = page.locator('[data-signer]');
      await expect.poll(() => li.count()).toBe(1);
      expect(await li.textContent()).toBe('Nguyễn Thị Lan (Biên tập viên)');
      expect(await li.getAttribute('title')).toBe(`Khoá ký ${key?.keyid}`);
      expect(await page.locator('main').textContent()).not.toContain(key?.keyid.slice(0, 16));
      await page.screenshot({ path: join(ART, `approval-signers-${tag}.png`), fullPage: true });
      // the queue names the programme and its communes, not the bundle id and unit codes
      await page.goto(`${p.server.url}/ui/approvals`);
      const row = page.locator('#queue tbody tr', { has: page.locator(`a[title="${id}"]`) });
      expect(await row.locator('a').textContent()).toBe('Thông báo lịch tiêm phòng cúm gia cầm');
      expect(await row.locator('td').nth(1).textContent()).not.toContain('08/');
      await page.screenshot({ path: join(ART, `approval-queue-${tag}.png`), fullPage: true });
      await page.context().close();
    }
  }, 120_000);

  it("says a noticeboard's latest error in words, the code in small type, and labels a short chart span distinctly", async () => {
    const board = p.devices[1]?.deviceId as string;
    await report(board, new Date(), {
      cpuTempC: 47,
      lastError: {
        code: 'SCREEN_POWER_FAILED',
        message: 'cec-client exited 1',
        at: new Date().toISOString(),
      },
    });
    for (const [vw, vh, tag] of VIEWPORTS) {
      const page = await pageAs('vanhanh', vw, vh);
      await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(board)}`);
      const err = page.locator('[data-error-code="SCREEN_POWER_FAILED"]');
      await expect.poll(() => err.count()).toBe(1);
      const text = (await err.textContent()) ?? '';
      expect(text.startsWith('Không bật/tắt được màn hình')).toBe(true);
      expect(await err.locator('small').textContent()).toBe('Mã lỗi SCREEN_POWER_FAILED');
      expect(await err.getAttribute('title')).toBe('SCREEN_POWER_FAILED: cec-client exited 1');
      // two reports seconds apart: every tick label differs
      const labels = await xLabels(page, 'cpuTempC');
      expect(labels.length).toBeGreaterThanOrEqual(2);
      expect(new Set(labels).size).toBe(labels.length);
      for (const l of labels) expect(l).toMatch(/^\d\d:\d\d$/);
      await page.screenshot({ path: join(ART, `device-error-${tag}.png`), fullPage: true });
      await page.context().close();
    }
  }, 120_000);

  it("an unknown code shows the station's own message", async () => {
    const board = p.devices[1]?.deviceId as string;
    await report(board, new Date(), {
      cpuTempC: 47,
      lastError: {
        code: 'SOMETHING_NEW',
        message: 'Lỗi mới chưa có trong bảng',
        at: new Date().toISOString(),
      },
    });
    const page = await pageAs('vanhanh');
    await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(board)}`);
    const err = page.locator('[data-error-code="SOMETHING_NEW"]');
    await expect.poll(() => err.textContent()).toBe('Lỗi mới chưa có trong bảng Mã lỗi SOMETHING_NEW');
    await page.context().close();
  }, 60_000);

  it("names the station's programmes and channels in its bundle table, and dates a chart that crosses days", async () => {
    const station = p.devices[0];
    const id = station?.deviceId as string;
    const at = new Date(Date.now() + 3 * 86_400_000);
    const bundle = await p.publish({
      channel: 'ban-tin-tan-trao',
      description: 'Bản tin sáng xã Tân Trào',
      targets: [{ unit: UNIT }],
      items: [{ content: p.state.content[MORNING.id], id: MORNING.id, title: MORNING.title }],
      schedule: [{ id: 'sang', items: [MORNING.id], rule: { type: 'once', at: at.toISOString() } }],
    });
    await expect
      .poll(() => station?.runtime?.bundles.active().some((b) => b.id === bundle), { timeout: 60_000 })
      .toBe(true);
    // a report from before the last midnight in Vietnam (within the chart's 24 hours)
    const now = Date.now();
    const day = 86_400_000;
    const midnight = Math.floor((now + 7 * 3_600_000) / day) * day - 7 * 3_600_000;
    await report(id, new Date((midnight + now - day) / 2), { cpuTempC: 48 });
    await report(id, new Date(), { cpuTempC: 51 });
    for (const [vw, vh, tag] of VIEWPORTS) {
      const page = await pageAs('vanhanh', vw, vh);
      await expect
        .poll(
          async () => {
            await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(id)}`);
            return page.locator(`td[data-bundle="${bundle}"]`).count();
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(1);
      const row = page.locator('tr', { has: page.locator(`td[data-bundle="${bundle}"]`) });
      expect(await row.locator('td').nth(0).textContent()).toBe('Bản tin sáng xã Tân Trào v1');
      expect(await row.locator('td').nth(0).getAttribute('title')).toBe(bundle);
      expect(await row.locator('td').nth(1).textContent()).toBe('Bản tin sáng xã Tân Trào');
      expect(await row.locator('td').nth(1).getAttribute('title')).toBe('ban-tin-tan-trao');
      const labels = await xLabels(page, 'cpuTempC');
      expect(new Set(labels).size).toBe(labels.length);
      // the date (dd/MM) under the first tick and under the first tick of the new day
      expect(labels.filter((l) => /\d\d\/\d\d$/.test(l)).length).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: join(ART, `device-bundles-${tag}.png`), fullPage: true });
      await page.context().close();
    }
  }, 180_000);
});

describe("a station's loudspeaker zones", () => {
  it('are named on the device page and chosen by name in the programme form', async () => {
    const station = p.devices[0]?.deviceId as string;
    const page = await pageAs(p.admin.username);
    const u = new Counted(page);
    // the job: from the fleet list, name two zones of a station
    await page.goto(`${p.server.url}/ui/fleet`);
    await Promise.all([
      page.waitForURL(/\/ui\/devices\//),
      u.click(`#fleet-table a[href="/ui/devices/${encodeURIComponent(station)}"]`),
    ]);
    await u.type('#f-newZoneName', 'Chợ Tân Trào');
    await u.type('#f-newZoneId', 'cho');
    await Promise.all([page.waitForURL(/ok=dev.saved/), u.click('#device-edit button[type=submit]')]);
    await u.type('#f-newZoneName', 'Thôn 1');
    await Promise.all([page.waitForURL(/ok=dev.saved/), u.click('#device-edit button[type=submit]')]);
    const job = { clicks: u.clicks, typed: u.typed };
    await writeFile(join(ART, 'zone-edit-job.json'), `${JSON.stringify(job, null, 2)}\n`);
    console.log(`zone edit job (two zones): ${JSON.stringify(job)}`);
    expect((await p.server.deps.store.devices.get(station))?.zones).toEqual([
      { id: 'cho', name: 'Chợ Tân Trào' },
      { id: 'thon-1', name: 'Thôn 1' },
    ]);
    expect(await page.locator('input[data-zone="thon-1"]').inputValue()).toBe('Thôn 1');
    await page.locator('#f-zones').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ART, 'device-zones-desktop.png'), fullPage: true });
    // a refused id keeps what was typed and says why, in Vietnamese
    await page.fill('#f-newZoneName', 'Chợ mới');
    await page.fill('#f-newZoneId', 'cho');
    await page.click('#device-edit button[type=submit]');
    await expect
      .poll(() => page.locator('[data-error-for="newZoneId"]').textContent())
      .toBe('Trạm đã có vùng cho.');
    expect(await page.locator('#f-newZoneName').inputValue()).toBe('Chợ mới');
    await page.screenshot({ path: join(ART, 'device-zones-refused-desktop.png'), fullPage: true });
    // the change is in the audit log
    const audit = await p.server.deps.store.audit.query({ limit: 5 });
    expect(audit.some((a) => a.action === 'device.update' && a.target?.id === station)).toBe(true);
    await page.context().close();

    const phone = await pageAs(p.admin.username, 390, 844);
    await phone.goto(`${p.server.url}/ui/devices/${encodeURIComponent(station)}#f-zones`);
    await phone.screenshot({ path: join(ART, 'device-zones-phone.png'), fullPage: true });
    await phone.context().close();

    // the editor chooses the zone by its name
    const editor = await pageAs('bientap');
    await editor.goto(`${p.server.url}/ui/programmes`);
    const cho = editor.locator('#f-zones label', { has: editor.locator('input[value="cho"]') });
    expect((await cho.textContent())?.trim()).toBe('Chợ Tân Trào (1 cụm loa)');
    await editor.check(`#f-items label:has-text("${MORNING.title}") input`);
    await editor.selectOption('#f-channel', '+new');
    await editor.fill('#f-channelName', 'Thông báo chợ Tân Trào');
    await editor.uncheck('input[name=targetUnits][value="08"]');
    await editor.check(`input[name=targetUnits][value="${UNIT}"]`);
    await cho.locator('input').check();
    await editor.locator('#f-zones').scrollIntoViewIfNeeded();
    await editor.screenshot({ path: join(ART, 'programme-zones-desktop.png') });
    await Promise.all([editor.waitForURL(/ok=prog.submittedOk/), editor.click('button[value=submit]')]);
    const submitted = await p.server.deps.store.bundles.list(
      (b) => b.state === 'submitted' && b.channel === 'thong-bao-cho-tan-trao',
    );
    expect(submitted).toHaveLength(1);
    const schedule = submitted[0]?.manifest.schedule ?? [];
    expect(schedule.length).toBeGreaterThan(0);
    expect(schedule.map((e) => e.zones)).toEqual(schedule.map(() => ['cho']));
    await editor.context().close();
    // the approver reads the zone by its name
    const approver = await pageAs('pheduyet');
    await approver.goto(`${p.server.url}/ui/approvals/${encodeURIComponent(submitted[0]?.id as string)}`);
    expect(await approver.locator('[data-k="appr:zones"]').textContent()).toBe('Vùng loa: Chợ Tân Trào');
    await approver.context().close();
  }, 180_000);
});

describe("the province's boundaries, uploaded from the administration page", () => {
  it('refuses a file naming an unknown commune (the map keeps its outlines), then draws an accepted one', async () => {
    const dir = join(ART, 'files');
    await mkdir(dir, { recursive: true });
    const good = demoBoundaries();
    const bad = {
      ...good,
      features: [...good.features, { ...good.features[0], properties: { name: 'Xã lạ', unit: '08/09999' } }],
    };
    const badFile = join(dir, 'ranh-gioi-sai.geojson');
    const goodFile = join(dir, 'ranh-gioi.geojson');
    await writeFile(badFile, JSON.stringify(bad));
    // three of the four demo communes: the map must change from four outlines to three
    await writeFile(goodFile, JSON.stringify({ ...good, features: good.features.slice(0, 3) }));
    for (const [vw, vh, tag] of VIEWPORTS) {
      const page = await pageAs(p.admin.username, vw, vh);
      await page.goto(`${p.server.url}/ui/admin#boundaries`);
      await page.setInputFiles('#f-geojson', badFile);
      await page.click('#boundaries button[type=submit]');
      const err = page.locator('[data-error-for="geojson"]');
      await expect.poll(() => err.textContent()).toContain('Xã lạ');
      expect(await err.textContent()).toContain('BOUNDARIES_UNIT_UNKNOWN');
      await page.locator('#boundaries').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ART, `boundaries-refused-${tag}.png`) });
      await page.goto(`${p.server.url}/ui/fleet`);
      await expect
        .poll(() => page.locator('[data-boundary-count]').getAttribute('data-boundary-count'), {
          timeout: 30_000,
        })
        .toBe(tag === 'desktop' ? '4' : '3');
      if (tag === 'desktop') {
        await page.goto(`${p.server.url}/ui/admin#boundaries`);
        await page.setInputFiles('#f-geojson', goodFile);
        await page.click('#boundaries button[type=submit]');
        await expect
          .poll(() => page.locator('[data-k="bnd:stored"]').textContent())
          .toBe('Đã lưu 3 vùng của 3 đơn vị; bản đồ dùng ranh giới mới ngay.');
        expect(await page.locator('[data-k="bnd:current"]').textContent()).toContain('Bản đồ đang vẽ 3 vùng');
        await page.locator('#boundaries').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ART, `boundaries-stored-${tag}.png`) });
        await page.goto(`${p.server.url}/ui/fleet`);
        await expect
          .poll(() => page.locator('[data-boundary-count]').getAttribute('data-boundary-count'), {
            timeout: 30_000,
          })
          .toBe('3');
      }
      await page.context().close();
    }
  }, 180_000);
});
