/**
 * The commune editor's daily job on the demo province, in headless Chromium, counted: upload a
 * spoken bulletin, put it into the daily programme for one commune, submit it for approval.
 * Clicks count what a person does: a menu link, a button or a checkbox is 1, a drop-down is 2
 * (open, pick), a file picker is 2 (open, choose); a typed field is a field the person has to type
 * into. The counts are written to tests/artifacts/editor-daily-job.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishProgramme } from '../../scripts/src/demo/seed.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const run = promisify(execFile);
const ART = join(process.cwd(), 'tests', 'artifacts');
let p: DemoProvince;
let work: string;

class Counted {
  clicks = 0;
  typed = 0;
  codes: string[] = [];
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
  async choose(sel: string, value: string) {
    this.clicks += 2;
    await this.page.selectOption(sel, value);
  }
  async file(sel: string, path: string) {
    this.clicks += 2;
    await this.page.setInputFiles(sel, path);
  }
  async type(sel: string, text: string, isCode = false) {
    this.typed++;
    if (isCode) this.codes.push(text);
    await this.page.fill(sel, text);
  }
}

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  work = await mkdtemp(join(tmpdir(), 'loa-editor-'));
  p = await startDemoProvince({ devices: [] });
  await publishProgramme(p.server, p.state);
}, 180_000);

afterAll(async () => {
  await p?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the editor's daily job", () => {
  it('upload, schedule one programme for one commune, submit: clicks and typed fields', async () => {
    const wav = join(work, 'ban-tin-nong-nghiep.wav');
    await run('espeak-ng', ['-v', 'vi', '-w', wav, 'Bà con chú ý phòng bệnh cho lúa vụ mùa.']);
    const ctx = await p.chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const page = await ctx.newPage();
    await login(page, p.server.url, 'bientap', p.password('bientap'));
    const u = new Counted(page);

    await Promise.all([page.waitForURL(/\/ui\/content$/), u.click('nav.main-nav a[href="/ui/content"]')]);
    await u.file('#f-file', wav);
    await u.type('#f-title', 'Phòng bệnh cho lúa vụ mùa');
    await u.choose('#f-category', 'agriculture');
    await Promise.all([
      page.waitForURL(/ok=content.uploaded/, { timeout: 60_000 }),
      u.click('#upload button[type=submit]'),
    ]);

    await Promise.all([
      page.waitForURL(/\/ui\/programmes$/),
      u.click('nav.main-nav a[href="/ui/programmes"]'),
    ]);
    await u.check('#f-items label:has-text("Phòng bệnh cho lúa vụ mùa") input');
    const picker = (await page.locator('select#f-channel').count()) > 0;
    if (picker) {
      // Choose, don't type: the demo's daily programme by its name; Tân Trào in the unit tree.
      await u.choose('#f-channel', 'son-duong');
      await u.check('input[name=targetUnits][value="08"]', false);
      await u.check('input[name=targetUnits][value="08/02503"]');
    } else {
      await u.type('#f-channel', 'son-duong', true);
      await u.type('#f-targets', '08/02503', true);
    }
    await Promise.all([page.waitForURL(/ok=prog.submittedOk/), u.click('button[value=submit]')]);
    const submitted = await p.server.deps.store.bundles.list(
      (b) => b.state === 'submitted' && b.channel === 'son-duong',
    );
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.manifest.targets).toEqual([{ unit: '08/02503' }]);
    // the page says what happened to it (sent for approval, not merely saved), by its name
    expect(await page.locator('.flash.ok').textContent()).toMatch(/^Đã gửi “.+” để phê duyệt/);
    expect(await page.locator('.flash.ok').textContent()).not.toContain(submitted[0]?.id ?? '-');
    const result = { ui: picker ? 'choose' : 'type', clicks: u.clicks, typed: u.typed, codesTyped: u.codes };
    await writeFile(join(ART, `editor-daily-job-${result.ui}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`editor daily job: ${JSON.stringify(result)}`);
    await ctx.close();
  }, 180_000);
});
