/**
 * Dashboard end to end in real headless Chromium against a real fleet server (aedes + hono on
 * 127.0.0.1, ffmpeg transcoding, server-held signing keys under a trust policy signed by a root
 * the server only knows publicly) and three stations, each the real agent (startAgent: enrolment
 * with a one-time token, trust store, bundle download and verification, scheduler and player,
 * signed proof journal, mqtt.js fleet link) over simulated GPIO, modem and audio timing, as
 * `npm start` and `npm run sim` run them:
 *   editor logs in → uploads audio → composes and submits a programme → approver approves (second
 *   signature) and publishes → stations verify it and play it at its time → the proof shows on
 *   the device page; emergency to the commune → 3/3 playing.
 * Screenshots of each page go to tests/artifacts/dashboard/.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, type KeyPair, type Proof, publicKeyToPem, rawPublicKey } from '@loa/protocol';
import pino from 'pino';
import { type Browser as Chromium, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimStation } from '../../scripts/src/sim/station.js';
import { Browser, type Harness, loginAs, startHarness, trustPolicy } from '../fleet-server/ui/harness.js';

const run = promisify(execFile);
const ART = join(process.cwd(), 'tests', 'artifacts', 'dashboard');
const PW = { admin: 'Quan-tri-2026!x', editor: 'Bien-tap-2026!y', approver: 'Phe-duyet-2026!z' };
const COMMUNE = '08/02500';

let h: Harness;
let root: KeyPair;
let chrome: Chromium;
let work: string;
let audioFile: string;
const stations: SimStation[] = [];

/** The station's signed proofs, from its own journal. */
async function proofs(st: SimStation): Promise<Proof[]> {
  return (await st.runtime?.journal.read(1, 10_000)) ?? [];
}

/** Bundles a station played (a "started" proof), by bundle id. */
async function played(st: SimStation): Promise<string[]> {
  return (await proofs(st)).filter((p) => p.outcome === 'started').map((p) => p.bundleId ?? '');
}

/** The device id of a station (after enrolment). */
function idOf(st: SimStation): string {
  const id = st.deviceId;
  if (!id) throw new Error(`${st.spec.name} is not enrolled`);
  return id;
}

/**
 * A daily time (HH:MM, province time UTC+07:00) at least `leadMs` from now: the programme must
 * reach the stations (approval, publication, download, verification) before it is due.
 */
function provinceTimeIn(leadMs: number): string {
  const minute = 60_000;
  const at = Math.ceil((Date.now() + leadMs) / minute) * minute + 7 * 3_600_000;
  const d = new Date(at);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

async function loginPage(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${h.server.url}/ui/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
}

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  work = await mkdtemp(join(tmpdir(), 'loa-e2e-'));
  audioFile = join(work, 'ban-tin-sang.wav');
  await run('espeak-ng', [
    '-v',
    'vi',
    '-w',
    audioFile,
    'Bản tin sáng nay: lịch tiêm phòng cho gia súc tại xã Sơn Dương.',
  ]);
  root = generateKeyPair();
  h = await startHarness({
    trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
    liveIntervalMs: 300,
  });
  const boot = h.server.bootstrap;
  if (!boot) throw new Error('no bootstrap admin');
  const admin = new Browser(h.server.url);
  await loginAs(admin, boot.username, boot.password, PW.admin);
  const imp = await admin.api('POST', '/units/import', {
    format: 'csv',
    data: 'code,name,level,parent\n08,Tuyên Quang,province,\n02500,Xã Sơn Dương,commune,08\n02503,Xã Hồng Lạc,commune,08\n',
  });
  expect(imp.status).toBe(200);
  const users: Record<string, Browser> = { admin };
  for (const [username, role] of [
    ['editor', 'editor'],
    ['approver', 'approver'],
  ] as const) {
    const r = await admin.api<{ oneTimePassword: string }>('POST', '/users', {
      username,
      displayName: role === 'editor' ? 'Nguyễn Thị Biên' : 'Trần Văn Duyệt',
      role,
      scope: ['08'],
    });
    expect(r.status).toBe(201);
    const b = new Browser(h.server.url);
    await loginAs(b, username, r.data.oneTimePassword, PW[username]);
    users[username] = b;
  }
  const keys: Record<string, { keyid: string; publicKey: string }> = {};
  for (const [name, b] of Object.entries(users)) {
    const r = await b.api<{ keyid: string; publicKey: string }>('POST', '/signing-keys/me');
    expect(r.status).toBe(201);
    keys[name] = { keyid: r.data.keyid, publicKey: r.data.publicKey };
  }
  const policy = trustPolicy(
    root,
    1,
    [
      {
        name: 'editor',
        ...(keys.editor as { keyid: string; publicKey: string }),
        roles: ['content'],
        scope: ['08'],
      },
      {
        name: 'approver',
        ...(keys.approver as { keyid: string; publicKey: string }),
        roles: ['content'],
        scope: ['08'],
      },
      {
        name: 'admin',
        ...(keys.admin as { keyid: string; publicKey: string }),
        roles: ['emergency', 'command'],
        scope: ['08'],
      },
    ],
    { content: 2 },
  );
  const t = await admin.api('PUT', '/trust', policy);
  expect(t.status, JSON.stringify(t.data)).toBe(200);
  const tok = await admin.api<{ token: string }>('POST', '/enrol-tokens', {
    unit: COMMUNE,
    maxUses: 3,
    ttlHours: 1,
  });
  expect(tok.status).toBe(201);
  const rootPem = join(work, 'root.pub');
  await writeFile(rootPem, publicKeyToPem(root.publicKey));
  const logger = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });
  for (let i = 1; i <= 3; i++) {
    const st = new SimStation(
      {
        name: `st-${i}`,
        kind: 'station',
        displayName: `Cụm loa thôn ${i}`,
        server: new URL(h.server.url),
        mqtt: new URL(h.server.mqttUrl),
        dataDir: join(work, `st-${i}`),
        token: tok.data.token,
        rootKeys: [rootPem],
        healthIntervalS: 5,
        warmupMs: 300,
        logLevel: 'silent',
        ampFault: false,
      },
      logger,
    );
    await st.start();
    stations.push(st);
    // The agent enrols in the background with its token, then connects.
    for (const end = Date.now() + 60_000; !st.deviceId; await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() > end) throw new Error(`${st.spec.name} did not enrol within 60 s`);
    // Positions around Sơn Dương (demo coordinates) so the map has markers and a unit label.
    const loc = await admin.api('PATCH', `/devices/${encodeURIComponent(idOf(st))}`, {
      location: { lat: 21.7 + i * 0.01, lon: 105.4 + i * 0.012 },
    });
    expect(loc.status).toBe(200);
  }
  chrome = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await chrome?.close();
  for (const s of stations) await s.stop();
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  it('upload → submit → approve by a second person → publish → a station plays it → proof on the device page', async () => {
    const editorCtx = await chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const ed = await editorCtx.newPage();
    await loginPage(ed, 'editor', PW.editor);
    await expect.poll(() => ed.locator('[data-k="ov:online"]').textContent(), { timeout: 15_000 }).toBe('3');
    await shot(ed, '01-overview');

    // Upload with the progress bar; a form without a title first shows the Vietnamese error.
    await ed.goto(`${h.server.url}/ui/content`);
    await ed.setInputFiles('#f-file', audioFile);
    await Promise.all([ed.waitForURL(/\/ui\/content$/), ed.click('#upload button[type=submit]')]);
    await expect
      .poll(() => ed.locator('[data-error-for="title"]').textContent(), { timeout: 10_000 })
      .toBe('Vui lòng nhập trường này.');
    await shot(ed, '02-content-error');
    await ed.setInputFiles('#f-file', audioFile);
    await ed.fill('#f-title', 'Bản tin sáng: tiêm phòng gia súc');
    await ed.selectOption('#f-unit', COMMUNE);
    await ed.selectOption('#f-category', 'agriculture');
    await Promise.all([
      ed.waitForURL(/ok=content.uploaded/, { timeout: 60_000 }),
      ed.click('#upload button[type=submit]'),
    ]);
    await expect
      .poll(() => ed.locator('#content-list').textContent(), { timeout: 10_000 })
      .toContain('Bản tin sáng: tiêm phòng gia súc');
    await expect.poll(() => ed.locator('#content-list audio').count(), { timeout: 10_000 }).toBe(1);
    await shot(ed, '03-content');

    // Programme editor: bad time first, then a daily programme submitted for approval.
    await ed.goto(`${h.server.url}/ui/programmes`);
    await ed.locator('#f-items input[type=checkbox]').first().check();
    await ed.fill('#f-times', '05:30, 25:00');
    await ed.fill('#f-channelName', 'Bản tin sáng');
    await ed.uncheck('input[name=targetUnits][value="08"]');
    await ed.check(`input[name=targetUnits][value="${COMMUNE}"]`);
    await ed.click('button[value=submit]');
    await expect
      .poll(() => ed.locator('[data-error-for="times"]').textContent(), { timeout: 10_000 })
      .toContain('HH:MM');
    await shot(ed, '04-programme-error');
    await ed.locator('#f-items input[type=checkbox]').first().check();
    // The first time comes up during this test, so the stations play it; the second is tomorrow's.
    const due = provinceTimeIn(150_000);
    await ed.fill('#f-times', `${due}, ${due === '17:00' ? '05:30' : '17:00'}`);
    // The form proposes quiet hours (22:00–05:00): only emergencies play inside them, so a test run in
    // the evening would never hear this programme. This programme has none.
    await ed.fill('#f-quiet', '');
    await ed.fill('#f-repeat', '2');
    await ed.fill('#f-gap', '60');
    await Promise.all([ed.waitForURL(/ok=prog.submittedOk/), ed.click('button[value=submit]')]);
    await expect
      .poll(() => ed.locator('#bundle-list').textContent(), { timeout: 10_000 })
      .toContain('Chờ duyệt');
    await shot(ed, '05-programmes');

    // The approver (a second person) approves with the second signature and publishes.
    const apCtx = await chrome.newContext({ viewport: { width: 1280, height: 900 } });
    const ap = await apCtx.newPage();
    const asked: string[] = [];
    ap.on('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await loginPage(ap, 'approver', PW.approver);
    await ap.goto(`${h.server.url}/ui/approvals`);
    await shot(ap, '06-approvals');
    await ap.locator('#queue a').first().click();
    await expect
      .poll(() => ap.locator('#diff').textContent(), { timeout: 10_000 })
      .toContain('Bản tin sáng: tiêm phòng gia súc');
    await shot(ap, '07-approval-diff');
    await Promise.all([ap.waitForURL(/ok=appr.approved/), ap.click('form[action$="/approve"] button')]);
    await Promise.all([ap.waitForURL(/ok=prog.publishedOk/), ap.click('form[action$="/publish"] button')]);
    // asked and told by the programme's name, never its id
    const ids = (await h.server.deps.store.bundles.list()).map((b) => b.id);
    expect(asked).toHaveLength(1);
    const name = /^Phát hành “(.+)”\?$/.exec(asked[0] ?? '')?.[1] ?? '';
    expect(name).not.toBe('');
    expect(ids).not.toContain(name);
    expect(await ap.locator('.flash.ok').textContent()).toContain(`Đã phát hành “${name}”`);
    await expect
      .poll(() => ap.locator('#bundle-list').textContent(), { timeout: 10_000 })
      .toContain('Đã phát hành');

    // The stations verify the doubly signed manifest and play it at its time (up to 3 minutes).
    const programmeId = async () =>
      (await h.server.deps.store.bundles.list((b) => b.emergency !== true)).map((b) => b.manifest.id);
    await expect
      .poll(
        async () => {
          const ids = await programmeId();
          const all = await Promise.all(stations.map(played));
          return all.every((p) => p.some((b) => ids.includes(b)));
        },
        { timeout: 240_000, interval: 500 },
      )
      .toBe(true);
    for (const s of stations) expect((await proofs(s)).filter((p) => p.outcome === 'failed')).toEqual([]);
    const st = stations[0] as SimStation;
    await ed.goto(`${h.server.url}/ui/devices/${encodeURIComponent(idOf(st))}`);
    await expect
      .poll(() => ed.locator('#proofs').textContent(), { timeout: 15_000 })
      .toContain('Bản tin sáng: tiêm phòng gia súc');
    await expect
      .poll(
        async () => {
          await ed.reload();
          return ed.locator('#proofs').textContent();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toContain('Hoàn thành');
    await expect
      .poll(() => ed.evaluate<string>("document.body.dataset.charts ?? ''"), { timeout: 10_000 })
      .not.toBe('');
    await shot(ed, '08-device');
    await ed.goto(`${h.server.url}/ui/fleet`);
    await expect
      .poll(() => ed.locator('#fleet-table').textContent(), { timeout: 10_000 })
      .toContain('Cụm loa thôn 2');
    await expect
      .poll(() => ed.evaluate<string>("document.getElementById('map')?.dataset.ready ?? ''"), {
        timeout: 10_000,
      })
      .toBe('3');
    await shot(ed, '09-fleet');
    await ed.goto(`${h.server.url}/ui/reports`);
    await shot(ed, '10-reports');
    await editorCtx.close();
    await apCtx.close();
  }, 420_000);

  it('emergency to a commune with three stations shows 3/3 playing', async () => {
    const ctx = await chrome.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await ctx.newPage();
    await loginPage(page, 'admin', PW.admin);
    await page.goto(`${h.server.url}/ui/emergency`);
    await page.check(`input[name=unit][value="${COMMUNE}"]`);
    await page.fill('#f-title', 'Cảnh báo lũ quét');
    await page.fill('#f-text', 'Nước sông Lô đang lên nhanh. Bà con khẩn trương di chuyển lên vùng cao.');
    // Only one confirmation: refused, nothing sent.
    await page.check('#f-confirm1');
    await page.click('form button[type="submit"].danger');
    await expect
      .poll(() => page.locator('[data-error-for="confirm2"]').textContent(), { timeout: 10_000 })
      .toBe('Vui lòng gõ đúng cụm từ xác nhận.');
    await shot(page, '11-emergency-form-mobile');
    const before = (await h.server.deps.store.bundles.list((b) => b.emergency === true)).length;
    expect(before).toBe(0);
    await page.fill('#f-text', 'Nước sông Lô đang lên nhanh. Bà con khẩn trương di chuyển lên vùng cao.');
    await page.check('#f-confirm1');
    await page.fill('#f-confirm2', 'PHÁT KHẨN CẤP');
    await Promise.all([
      page.waitForURL(/\/ui\/emergency\/[^/]+$/, { timeout: 60_000 }),
      page.click('form button[type="submit"].danger'),
    ]);
    const emergencyIds = async () =>
      (await h.server.deps.store.bundles.list((b) => b.emergency === true)).map((b) => b.manifest.id);
    await expect
      .poll(
        async () => {
          const ids = await emergencyIds();
          const all = await Promise.all(stations.map(played));
          return all.filter((p) => p.some((b) => ids.includes(b))).length;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(3);
    for (const s of stations) expect((await proofs(s)).filter((p) => p.outcome === 'failed')).toEqual([]);
    await expect
      .poll(() => page.locator('[data-k="emg:summary"]').textContent(), { timeout: 30_000 })
      .toBe('3/3 đang phát');
    await expect.poll(() => page.locator('[data-k="emg:silent"] li').count(), { timeout: 10_000 }).toBe(0);
    await shot(page, '12-emergency-progress-mobile');
    await page.goto(`${h.server.url}/ui/`);
    await expect
      .poll(() => page.locator('[data-k="ov:online"]').textContent(), { timeout: 10_000 })
      .toBe('3');
    await page.waitForSelector('[data-live-state]:not([hidden])');
    // A station drops off: the open page updates itself over SSE (no reload).
    await (stations[2] as SimStation).stop();
    await expect
      .poll(() => page.locator('[data-k="ov:online"]').textContent(), { timeout: 15_000 })
      .toBe('2');
    await expect
      .poll(() => page.locator('[data-k="ov:offline"]').textContent(), { timeout: 15_000 })
      .toBe('1');
    await shot(page, '13-overview-mobile');
    await ctx.close();
  }, 120_000);

  it('renders the remaining pages (enrolments, admin, audit) in English and Vietnamese', async () => {
    const ctx = await chrome.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await loginPage(page, 'admin', PW.admin);
    for (const [path, name] of [
      ['/ui/enrolments', '14-enrolments'],
      ['/ui/admin', '15-admin'],
      ['/ui/admin/audit', '16-audit'],
    ] as const) {
      await page.goto(`${h.server.url}${path}`);
      await shot(page, name);
    }
    // A command from the device page, after the confirmation dialog (signed with the admin's key).
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${h.server.url}/ui/devices/${encodeURIComponent(idOf(stations[1] as SimStation))}`);
    await Promise.all([page.waitForURL(/ok=device.cmd.sent/), page.click('button[value="test-tone"]')]);
    await expect
      .poll(() => page.locator('.flash.ok').textContent())
      .toBe('Đã gửi lệnh "Phát âm thử" tới Cụm loa thôn 2.');
    await shot(page, '18-device-command');
    await page.click('a.lang');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await page.goto(`${h.server.url}/ui/fleet`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 10_000 }).toBe('Devices');
    await shot(page, '17-fleet-en');
    await ctx.close();
  }, 60_000);
});
