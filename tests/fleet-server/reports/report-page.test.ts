import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { createUser, FakeClock, PASSWORD, startTestServer, type TestServer } from '../app/harness.js';
import { alert, BUNDLE, Chains, device, writeProofs } from './fixture.js';

// The report page as an official sees it in a real browser: names, not slugs; start-up alerts apart.
describe('report page', () => {
  const clock = new FakeClock(Date.parse('2026-11-23T16:00:00Z'));
  let s: TestServer;
  let chrome: Browser;

  beforeAll(async () => {
    const reports = reportsPlugin({ schedule: false });
    s = await startTestServer({ clock, plugins: [reports, dashboardPlugin({ reports })] });
    const { store } = s.deps;
    await store.devices.insert(device('st1', '08/02500', 'station', 'Cụm loa Chợ'));
    await store.devices.insert(device('st2', '08/02500', 'station', 'Cụm loa Đình'));
    await store.bundles.insert(BUNDLE);
    await store.presence.append({
      at: new Date(clock.t + 1000).toISOString(),
      event: 'connect',
      deviceId: 'st1',
    });
    await store.presence.append({
      at: new Date(clock.t + 1000).toISOString(),
      event: 'connect',
      deviceId: 'st2',
    });
    const chains = new Chains();
    clock.t = Date.parse('2026-11-24T06:00:00+07:00');
    await writeProofs(
      store,
      [chains.proof('st1', '2026-11-24'), chains.proof('st2', '2026-11-24')],
      new Date(clock.t).toISOString(),
    );
    // start-up noise: 14 mains-lost alerts of 20 s each while the stations booted
    for (let i = 0; i < 14; i++)
      await store.alerts.insert(
        alert(`m${i}`, 'st1', 'mains-lost', '2026-11-24T07:00:00+07:00', '2026-11-24T07:00:20+07:00'),
      );
    clock.t = Date.parse('2026-11-24T20:00:00+07:00');
    await createUser(s, 'xa.sonduong', 'viewer', ['08/02500']);
    chrome = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await s?.close();
  });

  it('shows categories and languages by name, uptime from presence, brief start-up alerts apart from faults', async () => {
    const page = await chrome.newPage({ viewport: { width: 1280, height: 1400 }, locale: 'vi-VN' });
    await page.goto(`${s.url}/ui/login`);
    await page.fill('#f-username', 'xa.sonduong');
    await page.fill('#f-password', PASSWORD);
    await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
    await page.goto(`${s.url}/ui/reports?from=2026-11-24&to=2026-11-24`);
    expect(await page.locator('#airtime-cat').textContent()).toContain('Nông nghiệp');
    expect(await page.locator('#airtime-cat').textContent()).not.toContain('agriculture');
    expect(await page.locator('#airtime-lang').textContent()).toContain('Tiếng Việt');
    const faults = await page.locator('#faults tbody tr').allTextContents();
    expect(faults).toEqual(['Mất điện lưới014']);
    const uptime = await page.locator('#uptime tbody tr').first().textContent();
    expect(uptime).toContain('100,0%');
    expect(uptime).toContain('0 sự cố');
    const kpi = await page.locator('#kpi tbody tr').allTextContents();
    expect(kpi[0]).toContain('Thông tin thiết yếu');
    expect(kpi[0]).toContain('100,0% · Đạt');
    expect(await page.locator('#unit-day tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^24\/11\/2026Thị trấn Sơn DươngLoa22100,0%/),
    ]);
    await page.screenshot({ path: join(tmpdir(), 'loa-report-page.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
