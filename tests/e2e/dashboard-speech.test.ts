/**
 * Spoken content in a real headless Chromium against a real server: a commune operator records an
 * announcement from a fake microphone fed with a real WAV (espeak-ng speech), listens back and
 * saves it (the stored item decodes with ffmpeg, at the recorded length, normalised); an editor
 * maintains the pronunciation lexicon, previews a text read aloud (spoken form shown, a clip that
 * plays) and saves it as an audio bulletin; the refusals an operator meets (silent microphone,
 * permission refused, no microphone) are shown in Vietnamese. Screenshots at 1280 and 390 px go to
 * tests/artifacts/speech/, and an axe-core audit finds no serious or critical violation.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../fleet-server/src/domain/model.js';
import { standardPlugins } from '../../fleet-server/src/plugins/standard.js';
import { createUser, PASSWORD, startTestServer, type TestServer } from '../fleet-server/app/harness.js';
import { measureAudio } from '../fleet-server/speech/audio-measure.js';

const run = promisify(execFile);
const ART = join(process.cwd(), 'tests', 'artifacts', 'speech');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--autoplay-policy=no-user-gesture-required',
];

async function launch(extra: string[]): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...BASE_ARGS, ...extra] });
}

async function login(page: Page, url: string, username: string): Promise<void> {
  await page.goto(`${url}/ui/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', PASSWORD);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
}

async function seriousAxe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const r = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((x) => x.violations)",
  )) as { id: string; impact: string | null; nodes: { target: string[] }[] }[];
  return r
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('spoken content in the dashboard', () => {
  let s: TestServer;
  let dir: string;
  let speechWav: string;
  let silentWav: string;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    await mkdir(ART, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'loa-speech-ui-'));
    // a real voice for the fake microphone: espeak-ng speaking, 48 kHz 16-bit mono WAV
    const raw = join(dir, 'raw.wav');
    await run('espeak-ng', [
      '-v',
      'vi',
      '-w',
      raw,
      '--',
      'Thông báo của Ủy ban nhân dân xã. Sáng nay thôn Tân Trào họp tại nhà văn hóa lúc tám giờ.',
    ]);
    speechWav = join(dir, 'speech.wav');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      raw,
      '-ar',
      '48000',
      '-ac',
      '1',
      speechWav,
    ]);
    silentWav = join(dir, 'silent.wav');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=mono',
      '-t',
      '10',
      '-c:a',
      'pcm_s16le',
      silentWav,
    ]);
    s = await startTestServer({ plugins: standardPlugins() });
    await createUser(s, 'xa.sonduong', 'editor', ['08/02500']);
    await createUser(s, 'tinh.bientap', 'editor', ['08']);
  }, 120_000);
  afterAll(async () => {
    for (const b of browsers) await b.close().catch(() => undefined);
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records an announcement from the microphone, plays it back and stores it normalised', async () => {
    const chrome = await launch([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${speechWav}`,
    ]);
    browsers.push(chrome);
    const page = await chrome.newPage({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    page.setDefaultTimeout(120_000);
    await login(page, s.url, 'xa.sonduong');
    await page.goto(`${s.url}/ui/content`);
    const rec = page.locator('[data-recorder]');
    await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('ready');
    await page.click('[data-rec-start]');
    await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('recording');
    // the meter moves with the voice and the clock runs
    await expect
      .poll(async () => Number(await rec.getAttribute('data-peak')), { timeout: 15_000 })
      .toBeGreaterThan(0.05);
    await expect
      .poll(async () => (await page.locator('[data-rec-time]').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/^0:0[4-9]$/);
    await page.screenshot({ path: join(ART, 'record-running-1280.png') });
    await page.click('[data-rec-stop]');
    await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('review');
    expect(await page.locator('[data-rec-status]').textContent()).toContain('Đã ghi 0:0');
    // the recording plays back in the page
    const playable = (await page.evaluate(`(async () => {
      const a = document.querySelector('[data-rec-audio]');
      a.muted = true;
      await a.play();
      await new Promise((r) => setTimeout(r, 300));
      const t = a.currentTime;
      a.pause();
      return { src: a.src.slice(0, 5), t };
    })()`)) as { src: string; t: number };
    expect(playable.src).toBe('blob:');
    expect(playable.t).toBeGreaterThan(0);
    await page.fill('#f-r_title', 'Thông báo họp thôn sáng nay');
    await page.selectOption('#f-r_category', 'announcement');
    await page.locator('#record').screenshot({ path: join(ART, 'record-review-1280.png') });
    await Promise.all([
      page.waitForURL(/ok=content\.recorded/, { timeout: 60_000 }),
      page.click('[data-rec-save]'),
    ]);
    expect(await page.locator('.flash.ok').textContent()).toContain('Đã lưu bản ghi âm');

    const items = await s.deps.store.content.list((c) => c.title === 'Thông báo họp thôn sáng nay');
    expect(items).toHaveLength(1);
    const item = items[0] as ContentRecord;
    expect(item).toMatchObject({
      kind: 'audio',
      mediaType: 'audio/ogg',
      unit: '08/02500',
      category: 'announcement',
    });
    const made = item.meta?.recording as {
      durationMs: number;
      maxDb: number;
      kept: { startMs: number; endMs: number };
    };
    expect(made.durationMs).toBeGreaterThan(3500);
    expect(made.maxDb).toBeGreaterThan(-30);
    const m = await measureAudio(join(s.dir, 'blobs', item.sha256 as string));
    expect(Math.abs(m.durationMs - (item.durationMs ?? 0))).toBeLessThan(150);
    // what was kept (the silent head and tail cut off) is what is stored
    expect(Math.abs(m.durationMs - (made.kept.endMs - made.kept.startMs))).toBeLessThan(150);
    expect(made.kept.endMs - made.kept.startMs).toBeGreaterThan(3000);
    expect(m.lufs).toBeGreaterThan(-19.5);
    expect(m.lufs).toBeLessThan(-13);
    expect(m.maxDb).toBeLessThan(-1);
    expect(m.maxDb).toBeGreaterThan(-12);
    await page.close();
  }, 180_000);

  it('explains a silent microphone, a refused permission and a missing microphone in Vietnamese', async () => {
    const silent = await launch([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${silentWav}`,
    ]);
    browsers.push(silent);
    const page = await silent.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    page.setDefaultTimeout(120_000);
    await login(page, s.url, 'xa.sonduong');
    await page.goto(`${s.url}/ui/content#record`);
    const rec = page.locator('[data-recorder]');
    await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('ready');
    await page.click('[data-rec-start]');
    await expect
      .poll(async () => (await page.locator('[data-rec-time]').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/^0:0[3-9]$/);
    await page.click('[data-rec-stop]');
    await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('review');
    await page.fill('#f-r_title', 'Bản ghi im lặng');
    await page.click('[data-rec-save]');
    await expect.poll(() => rec.getAttribute('data-error'), { timeout: 60_000 }).toBe('RECORDING_SILENT');
    const said = await page.locator('[data-rec-status]').textContent();
    expect(said).toContain('Không lưu được: Bản ghi gần như im lặng');
    expect(await page.locator('[data-rec-status]').getAttribute('role')).toBe('alert');
    await page.locator('#record').screenshot({ path: join(ART, 'record-silent-390.png') });
    expect(await s.deps.store.content.count((c) => c.title === 'Bản ghi im lặng')).toBe(0);

    // no fake UI: the browser refuses the microphone on its own
    const refused = await launch(['--use-fake-device-for-media-stream']);
    browsers.push(refused);
    const p2 = await refused.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    p2.setDefaultTimeout(120_000);
    await login(p2, s.url, 'xa.sonduong');
    await p2.goto(`${s.url}/ui/content#record`);
    await p2.click('[data-rec-start]');
    await expect
      .poll(() => p2.locator('[data-recorder]').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('mic-error');
    expect(await p2.locator('[data-recorder]').getAttribute('data-error')).toBe('NotAllowedError');
    expect(await p2.locator('[data-rec-status]').textContent()).toContain('bị từ chối quyền dùng micrô');
    await p2.locator('#record').screenshot({ path: join(ART, 'record-denied-390.png') });

    // a machine without any microphone
    const none = await launch(['--use-fake-ui-for-media-stream']);
    browsers.push(none);
    const p3 = await none.newPage({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    p3.setDefaultTimeout(120_000);
    await login(p3, s.url, 'xa.sonduong');
    await p3.goto(`${s.url}/ui/content#record`);
    await p3.click('[data-rec-start]');
    await expect
      .poll(() => p3.locator('[data-recorder]').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('mic-error');
    expect(await p3.locator('[data-recorder]').getAttribute('data-error')).toBe('NotFoundError');
    expect(await p3.locator('[data-rec-status]').textContent()).toContain('Không tìm thấy micrô');
  }, 180_000);

  it('keeps the lexicon, previews a text read aloud with it and saves the spoken bulletin', async () => {
    const chrome = await launch([]);
    browsers.push(chrome);
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ] as const) {
      // the province's editor and the commune's: each adds a reading; the commune's wins at home
      const ctx = await chrome.newContext({ viewport: { width, height }, locale: 'vi-VN' });
      const page = await ctx.newPage();
      page.setDefaultTimeout(120_000);
      await login(page, s.url, width === 1280 ? 'xa.sonduong' : 'tinh.bientap');
      await page.goto(`${s.url}/ui/content/lexicon`);
      if (width === 1280) {
        await page.fill('#f-a_from', 'HTX');
        await page.fill('#f-a_to', 'hợp tác xã');
        await page.selectOption('#f-a_unit', '08/02500');
        await Promise.all([page.waitForURL(/ok=lex\.added/), page.click('#lex-add button[type=submit]')]);
        // the same written form again: refused next to the field, nothing lost
        await page.fill('#f-a_from', ' HTX ');
        await page.fill('#f-a_to', 'hắt tê ích');
        await page.click('#lex-add button[type=submit]');
        expect(await page.locator('[data-error-for=a_from]').textContent()).toContain(
          'Đã có cách đọc cho "HTX"',
        );
        expect(await page.inputValue('#f-a_to')).toBe('hắt tê ích');
        await page.screenshot({ path: join(ART, 'lexicon-refused-1280.png'), fullPage: true });
        // change the spoken form of the entry in its row
        const row = page.locator('.lex-row', { hasText: 'Thị trấn Sơn Dương' }).first();
        await row.locator('input[name^=e_to_]').fill('hợp tác xã nông nghiệp');
        await Promise.all([page.waitForURL(/ok=lex\.updated/), row.locator('.lex-edit button').click()]);
      } else {
        await page.fill('#f-a_from', 'HTX');
        await page.fill('#f-a_to', 'hợp tác');
        await page.selectOption('#f-a_unit', '08');
        await Promise.all([page.waitForURL(/ok=lex\.added/), page.click('#lex-add button[type=submit]')]);
        // an empty spoken form is refused with the domain's message
        await page.fill('#f-a_from', 'BQL');
        await page.click('#lex-add button[type=submit]');
        expect(await page.locator('[data-error-for=a_to]').textContent()).toContain('Cần nhập cách đọc');
      }
      await page.goto(`${s.url}/ui/content/lexicon`);
      expect(await seriousAxe(page)).toEqual([]);
      await page.screenshot({ path: join(ART, `lexicon-${width}.png`), fullPage: true });
      await ctx.close();
    }
    const entries = await s.deps.store.lexicon.list();
    expect(entries.map((e) => [e.unit, e.from, e.to]).sort()).toEqual([
      ['08', 'HTX', 'hợp tác'],
      ['08/02500', 'HTX', 'hợp tác xã nông nghiệp'],
    ]);
    const audit = await s.deps.store.audit.query({ action: 'lexicon.' });
    expect(audit.map((e) => e.action).sort()).toEqual(['lexicon.create', 'lexicon.create', 'lexicon.update']);

    for (const [width, height] of [
      [390, 844],
      [1280, 900],
    ] as const) {
      const ctx = await chrome.newContext({ viewport: { width, height }, locale: 'vi-VN' });
      const page = await ctx.newPage();
      page.setDefaultTimeout(120_000);
      await login(page, s.url, 'xa.sonduong');
      await page.goto(`${s.url}/ui/content#speak`);
      await page.fill('#f-s_title', 'Họp HTX cuối năm');
      await page.fill('#f-s_text', 'HTX thôn Tân Trào họp lúc 7:30 ngày 15/12/2026 tại nhà văn hóa.');
      await page.selectOption('#f-s_voice', 'vi-vn-x-south');
      await page.selectOption('#f-s_rate', '120');
      await page.click('[data-speak-listen]');
      const form = page.locator('form[data-speak-form]');
      await expect.poll(() => form.getAttribute('data-state'), { timeout: 60_000 }).toBe('previewed');
      expect(await page.locator('[data-speak-spoken]').textContent()).toBe(
        'hợp tác xã nông nghiệp thôn Tân Trào họp lúc bảy giờ ba mươi phút ngày mười lăm tháng mười hai năm hai nghìn không trăm hai mươi sáu tại nhà văn hóa.',
      );
      const clip = (await page.evaluate(`(async () => {
        const a = document.querySelector('[data-speak-audio]');
        if (a.readyState < 1) await new Promise((r) => a.addEventListener('loadedmetadata', r, { once: true }));
        return { src: a.src.slice(0, 22), duration: a.duration };
      })()`)) as { src: string; duration: number };
      expect(clip.src).toBe('data:audio/ogg;base64,');
      expect(clip.duration).toBeGreaterThan(3);
      await page.locator('#speak').screenshot({ path: join(ART, `speak-preview-${width}.png`) });
      if (width === 390) {
        await page.screenshot({ path: join(ART, 'content-390.png'), fullPage: true });
        await ctx.close();
        continue;
      }
      expect(await seriousAxe(page)).toEqual([]);
      await page.screenshot({ path: join(ART, 'content-1280.png'), fullPage: true });
      await Promise.all([
        page.waitForURL(/ok=content\.spoken/, { timeout: 120_000 }),
        page.click('#speak button[value=save]'),
      ]);
      await ctx.close();
    }
    const [spoken] = await s.deps.store.content.list((c) => c.title === 'Họp HTX cuối năm');
    expect(spoken?.meta?.tts).toMatchObject({ engine: 'espeak-ng', voice: 'vi-vn-x-south', rate: 120 });
    expect((spoken?.meta?.tts as { spoken?: string } | undefined)?.spoken).toContain(
      'hợp tác xã nông nghiệp',
    );
  }, 420_000);
});
