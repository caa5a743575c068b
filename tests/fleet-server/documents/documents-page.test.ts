import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { createUser, FakeClock, startTestServer, type TestServer } from '../app/harness.js';
import { axe, launchChromium, loggedInPage } from '../ui/browser-pages.js';
import { docx, pdf } from './office-files.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'documents');

// The document library as province staff fill it and a commune reads it, in a real browser.
describe('document library page', () => {
  const clock = new FakeClock(Date.parse('2026-12-10T03:00:00Z'));
  let s: TestServer;
  let chrome: Browser;

  const login = (username: string, width: number): Promise<Page> =>
    loggedInPage(chrome, s.url, username, width, { acceptDownloads: true });

  beforeAll(async () => {
    await mkdir(ART, { recursive: true });
    const reports = reportsPlugin({ schedule: false });
    s = await startTestServer({ clock, plugins: [reports, dashboardPlugin({ reports })] });
    await createUser(s, 'tinh.bientap', 'editor', ['08']);
    await createUser(s, 'xa.xem', 'viewer', ['08/02500']);
    chrome = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await s?.close();
  });

  it('uploads a decree and a guide, refuses a file that is not a document, and a commune finds and downloads it', async () => {
    const page = await login('tinh.bientap', 1280);
    await page.goto(`${s.url}/ui/documents`);
    expect(await page.locator('#library').textContent()).toContain('Không có văn bản');
    const fill = async (title: string, number: string, issuer: string, day: string, kind: string) => {
      await page.selectOption('#d-unit', '08');
      await page.fill('#d-title', title);
      await page.fill('#d-number', number);
      await page.fill('#d-issuer', issuer);
      await page.fill('#d-issued', day);
      await page.selectOption('#d-kind', kind);
    };
    // a web page renamed .pdf is refused, saying why
    await fill('Tệp giả', '', 'Không rõ', '2026-01-01', 'other');
    await page.setInputFiles('#d-file', {
      name: 'gia.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('<html>x</html>'),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#document-upload button[type=submit]')]);
    expect(await page.locator('.flash.error').textContent()).toContain('chỉ nhận tệp PDF, Word');
    expect(await s.deps.store.documents.count()).toBe(0);
    await fill(
      'Nghị định quy định về hoạt động thông tin cơ sở',
      '49/2024/NĐ-CP',
      'Chính phủ',
      '2024-05-10',
      'legal',
    );
    await page.setInputFiles('#d-file', {
      name: 'nghi-dinh-49-2024.pdf',
      mimeType: 'application/pdf',
      buffer: await pdf('Nghị định 49/2024/NĐ-CP'),
    });
    await Promise.all([
      page.waitForURL(/ok=dl\.uploaded/),
      page.click('#document-upload button[type=submit]'),
    ]);
    await fill(
      'Hướng dẫn vận hành cụm loa IP',
      '12/HD-STTTT',
      'Sở Văn hóa, Thể thao và Du lịch',
      '2026-09-15',
      'guide',
    );
    await page.setInputFiles('#d-file', {
      name: 'huong-dan.docx',
      mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      buffer: docx('Hướng dẫn'),
    });
    await Promise.all([
      page.waitForURL(/ok=dl\.uploaded/),
      page.click('#document-upload button[type=submit]'),
    ]);
    expect(await page.locator('#documents li').count()).toBe(2);
    await page.screenshot({ path: join(ART, 'library-1280.png'), fullPage: true });
    expect(await axe(page)).toEqual([]);
    await page.close();

    const phone = await login('xa.xem', 390);
    await phone.goto(`${s.url}/ui/documents`);
    expect(await phone.locator('#document-upload').count()).toBe(0);
    await phone.fill('#f-q', 'nghi dinh');
    await Promise.all([phone.waitForLoadState('load'), phone.click('form.filters button[type=submit]')]);
    const rows = await phone.locator('#documents li').allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('49/2024/NĐ-CP');
    const [download] = await Promise.all([
      phone.waitForEvent('download'),
      phone.click('#documents a[download]'),
    ]);
    expect(download.suggestedFilename()).toBe('nghi-dinh-49-2024.pdf');
    const wide = await phone.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(wide).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(ART, 'library-390.png'), fullPage: true });
    expect(await axe(phone)).toEqual([]);
    await phone.close();
  }, 120_000);
});
