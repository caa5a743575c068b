import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { createUser, FakeClock, startTestServer, type TestServer } from '../app/harness.js';
import { axe, launchChromium, loggedInPage } from '../ui/browser-pages.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'staff');
/** Screenshots to look at by hand (desktop and phone) after a run. */
const SHOTS = process.env.STAFF_SHOTS ?? '/tmp/staff-shots';

// The staff and training pages as a commune official uses them in a real browser.
describe('staff and training pages', () => {
  const clock = new FakeClock(Date.parse('2026-12-10T03:00:00Z'));
  let s: TestServer;
  let chrome: Browser;

  const login = (username: string, width: number): Promise<Page> =>
    loggedInPage(chrome, s.url, username, width);

  beforeAll(async () => {
    await mkdir(ART, { recursive: true });
    await mkdir(SHOTS, { recursive: true });
    const reports = reportsPlugin({ schedule: false });
    s = await startTestServer({ clock, plugins: [reports, dashboardPlugin({ reports })] });
    await createUser(s, 'vanhanh.sonduong', 'operator', ['08/02500']);
    await createUser(s, 'xem.sonduong', 'viewer', ['08/02500']);
    await createUser(s, 'vanhanh.xakhac', 'operator', ['08/02503']);
    await createUser(s, 'quantri.tinh', 'administrator', ['08']);
    chrome = await launchChromium();
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
        /^Nguyễn Văn AnCB-01 Chưa bồi dưỡngPhụ trách đài truyền thanh.*0912 345 678.*01\/03\/2021SửaXoá$/,
      ),
      expect.stringMatching(/^Trần Thị BìnhCB-02 Chưa bồi dưỡng.*15\/08\/2024SửaXoá$/),
    ]);
    // units by their names, never by their codes (in the table and in the pickers)
    expect(await page.locator('#staff td[data-label="Đơn vị"]').allTextContents()).toEqual([
      'Thị trấn Sơn Dương',
      'Thị trấn Sơn Dương',
    ]);
    expect(await page.locator('#f-unit option:checked').textContent()).toBe('Thị trấn Sơn Dương');
    expect(await page.locator('main').textContent()).not.toMatch(/\(0\d(\/\d{5})?\)/);
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
      expect.stringMatching(/^Nguyễn Văn An.*Hoàn thành khóa họcCC-07\/202603\/11\/2026SửaXoá$/),
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

  it('changes and removes staff, courses and attendance (asking first, errors in Vietnamese under their field, audited), within the unit scope', async () => {
    const page = await login('vanhanh.sonduong', 1280);
    const audited = async (action: string) =>
      (await s.deps.store.audit.query({ action })).map((e) => e.target?.id);
    await page.goto(`${s.url}/ui/staff?unit=08/02500`);
    // adding with a code already in the register and a bad phone: refused, the sentences under the fields, values kept
    await page.fill('#s-id', 'CB-01');
    await page.fill('#s-name', 'Phạm Văn Dũng');
    await page.fill('#s-position', 'Cộng tác viên');
    await page.fill('#s-phone', '12');
    await Promise.all([page.waitForLoadState('load'), page.click('#staff-add button[type=submit]')]);
    expect(await page.locator('#s-phone-error').textContent()).toBe(
      'Số điện thoại gồm 9–20 chữ số, có thể có dấu +, dấu cách hoặc dấu chấm, ví dụ 0912 345 678.',
    );
    expect(await page.inputValue('#s-name')).toBe('Phạm Văn Dũng');
    await page.fill('#s-phone', '0912 000 111');
    await Promise.all([page.waitForLoadState('load'), page.click('#staff-add button[type=submit]')]);
    expect(await page.locator('#s-id-error').textContent()).toBe(
      'Mã cán bộ này đã có trong sổ: chọn mã khác, hoặc sửa cán bộ đã có.',
    );
    expect(await page.getAttribute('#s-id', 'aria-invalid')).toBe('true');
    expect(await s.deps.store.staff.count()).toBe(2);

    // changing CB-02: a day she left before the day she began is refused, then the position changes
    await page.goto(`${s.url}/ui/staff?unit=08/02500`);
    await Promise.all([
      page.waitForURL(/\/ui\/staff\/people\/CB-02$/),
      page.click('#staff tr[data-id="CB-02"] a.button'),
    ]);
    expect(await page.inputValue('#e-name')).toBe('Trần Thị Bình');
    await page.fill('#e-left', '2020-01-01');
    await Promise.all([page.waitForLoadState('load'), page.click('#staff-edit button[type=submit]')]);
    expect(await page.locator('#e-left-error').textContent()).toBe(
      'Ngày thôi việc phải là ngày có thật và không trước ngày nhận nhiệm vụ.',
    );
    await page.fill('#e-left', '');
    await page.fill('#e-position', 'Công chức Văn hóa - Xã hội (kiêm nhiệm)');
    await page.fill('#e-notes', 'Kiêm phụ trách bảng tin');
    await Promise.all([page.waitForURL(/ok=st\.saved/), page.click('#staff-edit button[type=submit]')]);
    expect(await page.locator('.flash.ok').textContent()).toContain('Đã lưu thông tin cán bộ Trần Thị Bình');
    expect(await page.locator('#staff tr[data-id="CB-02"]').textContent()).toContain('(kiêm nhiệm)');
    expect(await s.deps.store.staff.get('CB-02')).toMatchObject({
      position: 'Công chức Văn hóa - Xã hội (kiêm nhiệm)',
      notes: 'Kiêm phụ trách bảng tin',
      hiredOn: '2024-08-15',
    });
    expect((await s.deps.store.staff.get('CB-02'))?.leftOn).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, 'staff-1280.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);

    // the course: hours left empty are refused in words, then changed
    await page.goto(`${s.url}/ui/staff/courses/SD-2026-01`);
    await page.fill('#ce-hours', '');
    await Promise.all([page.waitForLoadState('load'), page.click('#course-edit button[type=submit]')]);
    expect(await page.locator('#ce-hours-error').textContent()).toBe(
      'Số giờ là một số lớn hơn 0 và không quá 2.000, ví dụ 8 hoặc 7,5.',
    );
    await page.fill('#ce-hours', '7.5');
    await Promise.all([
      page.waitForURL(/ok=st\.courseSaved/),
      page.click('#course-edit button[type=submit]'),
    ]);
    expect(await page.locator('#course-facts').textContent()).toContain('7,5');

    // CB-01's attendance: a certificate dated before the course is refused, then changed to not completed
    await Promise.all([
      page.waitForURL(/edit=CB-01/),
      page.click('#attendance-table tr[data-id="CB-01"] a.button'),
    ]);
    expect(await page.inputValue('#a-cert')).toBe('CC-07/2026');
    await page.fill('#a-date', '2026-10-01');
    await Promise.all([page.waitForLoadState('load'), page.click('#attendance-add button[type=submit]')]);
    expect(await page.locator('#a-date-error').textContent()).toBe(
      'Ngày cấp phải là ngày có thật và không trước ngày bắt đầu khóa học.',
    );
    await page.fill('#a-date', '');
    await page.fill('#a-cert', '');
    await page.uncheck('#a-completed');
    await Promise.all([
      page.waitForURL(/ok=st\.recorded/),
      page.click('#attendance-add button[type=submit]'),
    ]);
    expect(await page.locator('#attendance-table tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^Nguyễn Văn An.*Chưa hoàn thành/),
    ]);
    await page.screenshot({ path: join(SHOTS, 'course-1280.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);

    // removing the line asks first: declining keeps it, accepting removes it (and it is audited)
    const removeLine = page.locator('#attendance-table tr[data-id="CB-01"] button.danger');
    page.once('dialog', (d) => void d.dismiss());
    await removeLine.click();
    expect(await s.deps.store.trainingAttendance.count()).toBe(1);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await Promise.all([page.waitForURL(/ok=st\.attDeleted/), removeLine.click()]);
    expect(asked).toBe('Xoá Nguyễn Văn An khỏi danh sách tham gia khóa “Tập huấn vận hành cụm loa IP”?');
    expect(await s.deps.store.trainingAttendance.count()).toBe(0);
    expect(await audited('training.attendance.delete')).toEqual(['SD-2026-01~CB-01']);

    // another commune's operator sees the staff of neither, and cannot reach the edit page
    const other = await login('vanhanh.xakhac', 1280);
    const r = await other.goto(`${s.url}/ui/staff/people/CB-02`);
    expect(r?.status()).toBe(404);
    // a province course is shown to the commune, but only the province may change it
    await s.deps.store.trainingCourses.insert({
      id: 'TINH-2026-02',
      unit: '08',
      title: 'Bồi dưỡng nghiệp vụ thông tin cơ sở cấp tỉnh',
      date: '2026-09-10',
      organiser: 'Sở Văn hóa, Thể thao và Du lịch',
      hours: 16,
      topics: [],
      createdAt: '2026-09-01T00:00:00.000Z',
      updatedAt: '2026-09-01T00:00:00.000Z',
    });
    await page.goto(`${s.url}/ui/staff/courses/TINH-2026-02`);
    expect(await page.locator('#course-facts').textContent()).toContain('Sở Văn hóa');
    expect(await page.locator('#course-edit').count()).toBe(0);
    expect(await page.locator('#course-delete').count()).toBe(0);
    await other.close();

    // on a phone the row actions wrap inside the table, the page does not scroll sideways
    const phone = await login('vanhanh.sonduong', 390);
    await phone.goto(`${s.url}/ui/staff?unit=08/02500`);
    expect(await phone.locator('#staff tr[data-id="CB-02"] button.danger').isVisible()).toBe(true);
    const wide = await phone.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(wide).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(SHOTS, 'staff-390.png'), fullPage: true });
    await phone.goto(`${s.url}/ui/staff/courses/SD-2026-01`);
    await phone.screenshot({ path: join(SHOTS, 'course-390.png'), fullPage: true });
    expect(await axe(phone)).toEqual([]);
    await phone.close();

    // removing a staff member and a course, each after the question; both audited
    await page.goto(`${s.url}/ui/staff/people/CB-02`);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/ok=st\.deleted/), page.click('#staff-delete button.danger')]);
    expect(await page.locator('.flash.ok').textContent()).toContain('Đã xoá cán bộ Trần Thị Bình');
    expect(await page.locator('#staff tr[data-id="CB-02"]').count()).toBe(0);
    expect(await audited('staff.delete')).toEqual(['CB-02']);
    await page.goto(`${s.url}/ui/staff/courses/SD-2026-01`);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/ok=st\.courseDeleted/), page.click('#course-delete button.danger')]);
    expect(await page.locator('#courses tr[data-id="SD-2026-01"]').count()).toBe(0);
    expect(await audited('training.course.delete')).toEqual(['SD-2026-01']);
    // the audit page names the removals in Vietnamese
    await page.close();
    const admin = await login('quantri.tinh', 1280);
    await admin.goto(`${s.url}/ui/admin/audit?action=staff.delete`);
    expect(await admin.locator('#audit tbody').textContent()).toContain('Xoá cán bộ khỏi sổ');
    expect(await admin.locator('#audit tbody').textContent()).toContain('Cán bộ: CB-02');
    await admin.close();
  }, 180_000);

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
