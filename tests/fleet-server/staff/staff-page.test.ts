import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { createUser, FakeClock, PASSWORD, startTestServer, type TestServer } from '../app/harness.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Serious or critical accessibility violations on the page (axe-core), by rule and element. */
async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate<{ id: string; impact: string | null; nodes: { target: string[] }[] }[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((x) => x.violations)",
  );
  return r
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const ART = join(process.cwd(), 'tests', 'artifacts', 'staff');

// The staff and training pages as a commune official uses them in a real browser.
describe('staff and training pages', () => {
  const clock = new FakeClock(Date.parse('2026-12-10T03:00:00Z'));
  let s: TestServer;
  let chrome: Browser;

  const login = async (username: string, width: number): Promise<Page> => {
    const page = await chrome.newPage({ viewport: { width, height: 900 }, locale: 'vi-VN' });
    await page.goto(`${s.url}/ui/login`);
    await page.fill('#f-username', username);
    await page.fill('#f-password', PASSWORD);
    await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
    return page;
  };

  beforeAll(async () => {
    await mkdir(ART, { recursive: true });
    const reports = reportsPlugin({ schedule: false });
    s = await startTestServer({ clock, plugins: [reports, dashboardPlugin({ reports })] });
    await createUser(s, 'vanhanh.sonduong', 'operator', ['08/02500']);
    await createUser(s, 'xem.sonduong', 'viewer', ['08/02500']);
    chrome = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await s?.close();
  });

  it('imports staff from a file (errors per line first), adds a course and its attendance, and shows the indicator', async () => {
    const page = await login('vanhanh.sonduong', 1280);
    await page.goto(`${s.url}/ui/staff?unit=08/02500`);
    expect(await page.locator('#training-kpi').textContent()).toContain('Chưa có cán bộ');
    // a file with a bad line: the errors by line, nothing imported
    const head = 'Mã,Đơn vị,Họ và tên,Chức danh,Điện thoại,Ngày nhận nhiệm vụ';
    const bad = `${head}\r\nCB-01,08/02500,Nguyễn Văn An,Phụ trách đài,0912 345 678,2021-03-01\r\nCB-02,08/02500,,Công chức VH-XH,,2026-02-30\r\n`;
    await page.setInputFiles('#s-file', {
      name: 'can-bo.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(bad),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#staff-import button[type=submit]')]);
    const errs = await page.locator('#import-errors tbody tr').allTextContents();
    expect(errs).toEqual(['3Họ và tênbắt buộc', '3Ngày nhận nhiệm vụngày không có thật']);
    expect(await s.deps.store.staff.count()).toBe(0);
    const good = `${head}\r\nCB-01,08/02500,Nguyễn Văn An,Phụ trách đài truyền thanh,0912 345 678,2021-03-01\r\nCB-02,08/02500,Trần Thị Bình,Công chức Văn hóa - Xã hội,,2024-08-15\r\n`;
    await page.setInputFiles('#s-file', {
      name: 'can-bo.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(good),
    });
    await Promise.all([page.waitForURL(/ok=st\.imported/), page.click('#staff-import button[type=submit]')]);
    expect(await page.locator('.flash.ok').textContent()).toContain('Đã nhập 2 dòng');
    expect(await page.locator('#staff tbody tr').allTextContents()).toEqual([
      expect.stringMatching(
        /^Nguyễn Văn AnCB-01 Chưa bồi dưỡngPhụ trách đài truyền thanh.*0912 345 678.*01\/03\/2021$/,
      ),
      expect.stringMatching(/^Trần Thị BìnhCB-02 Chưa bồi dưỡng.*15\/08\/2024$/),
    ]);
    // a course, then CB-01's attendance with a certificate
    await page.fill('#c-id', 'SD-2026-01');
    await page.fill('#c-title', 'Tập huấn vận hành cụm loa IP');
    await page.fill('#c-date', '2026-11-02');
    await page.fill('#c-end', '2026-11-03');
    await page.fill('#c-org', 'UBND xã Sơn Dương');
    await page.fill('#c-hours', '8');
    await page.fill('#c-topics', 'Vận hành cụm loa; Biên tập tin');
    await Promise.all([
      page.waitForURL(/\/ui\/staff\/courses\/SD-2026-01/),
      page.click('#course-add button[type=submit]'),
    ]);
    await page.selectOption('#a-staff', 'CB-01');
    await page.fill('#a-cert', 'CC-07/2026');
    await page.fill('#a-date', '2026-11-03');
    await Promise.all([
      page.waitForURL(/ok=st\.recorded/),
      page.click('#attendance-add button[type=submit]'),
    ]);
    expect(await page.locator('#attendance-table tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^Nguyễn Văn An.*Hoàn thành khóa họcCC-07\/202603\/11\/2026$/),
    ]);
    await page.screenshot({ path: join(ART, 'course-1280.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);
    await page.goto(`${s.url}/ui/staff?unit=08/02500`);
    expect(await page.locator('#training-kpi').textContent()).toContain('Đã bồi dưỡng 1/2 cán bộ');
    expect(await page.locator('#staff tbody tr').first().textContent()).toContain('Đã bồi dưỡng');
    await page.screenshot({ path: join(ART, 'staff-1280.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);
    // the report page's indicators carry the same figure
    await page.goto(`${s.url}/ui/reports?from=2026-10-01&to=2026-12-10&unit=08/02500`);
    const kpi = await page.locator('#kpi tbody tr').allTextContents();
    expect(kpi.find((r) => r.includes('bồi dưỡng'))).toContain('50,0%');
    await page.close();
  }, 120_000);

  it('on a 390 px phone, a viewer sees no phone numbers and no page-wide sideways scroll', async () => {
    const page = await login('xem.sonduong', 390);
    await page.goto(`${s.url}/ui/staff?unit=08/02500`);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).not.toContain('0912');
    expect(text).toContain('chỉ hiện với vai trò Vận hành');
    expect(await page.locator('#staff-add').count()).toBe(0);
    const wide = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(wide).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ART, 'staff-390.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);
    await page.close();
  }, 60_000);
});
