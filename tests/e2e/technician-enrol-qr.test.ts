/**
 * A station enrolled from its technician page by the dashboard's enrolment QR code, against a
 * real fleet server on 127.0.0.1, in real headless Chromium:
 * - the QR is what the dashboard draws (its `enrolQrText` and `qrPath`, rendered by Chromium to a
 *   PNG), fed to Chromium's fake camera as a y4m video made by ffmpeg; the page opened on
 *   127.0.0.1 (a secure context) scans it live and the station enrols;
 * - the same page opened as http://tram-cho.lan (resolved to 127.0.0.1, not a secure context, as
 *   a phone on the station's LAN sees it) says why the live camera is off and reads photos instead:
 *   a label's QR, a stranger's QR and an expired code are refused in Vietnamese, then a photo
 *   of a good code (tilted, on a grey table) enrols the second station;
 * - a browser with no camera at all and one refused permission say so.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FleetServer } from '@loa/fleet-server';
import { generateKeyPair, publicKeyToPem } from '@loa/protocol';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { hashPassword } from '../../agent/src/http/password.js';
import { type AgentRuntime, startAgent } from '../../agent/src/main.js';
import { enrolQrText } from '../../fleet-server/src/http/ui/pages/enrolments.js';
import { qrPath } from '../../fleet-server/src/http/ui/qr.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { type Province, startProvince } from './helpers/province-station.js';

const run = promisify(execFile);
const COMMUNE = '08/02500';
const PASSWORD = 'ky-thuat-vien-1';
const dir = mkdtempSync(join(tmpdir(), 'loa-enrol-qr-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });
const ART = join(import.meta.dirname, '..', 'artifacts', 'technician-enrol');
mkdirSync(ART, { recursive: true });
const CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];

let shiftMs = 0;
let server: FleetServer | undefined;
let province: Province;
const agents: AgentRuntime[] = [];
const browsers: Browser[] = [];

interface Made {
  token: string;
  enrolUrl: string;
  record: { id: string };
}

async function makeToken(note: string, ttlHours = 24): Promise<Made> {
  return province.technician.post<Made>('/enrol-tokens', {
    unit: COMMUNE,
    kind: 'station',
    maxUses: 1,
    ttlHours,
    note,
  });
}

/** A PNG of the QR code exactly as the dashboard draws it (its SVG, rendered by Chromium). */
async function qrPng(text: string, file: string): Promise<string> {
  const { size, d } = qrPath(text);
  const q = 4;
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROME_ARGS });
  try {
    const page = await b.newPage({ viewport: { width: 600, height: 600 } });
    await page.setContent(
      `<body style="margin:0;background:#fff"><svg id="qr" width="480" height="480" viewBox="${-q} ${-q} ${size + 2 * q} ${size + 2 * q}" shape-rendering="crispEdges"><rect x="${-q}" y="${-q}" width="${size + 2 * q}" height="${size + 2 * q}" fill="#fff"/><path d="${d}" fill="#000"/></svg></body>`,
    );
    await page.locator('#qr').screenshot({ path: file });
  } finally {
    await b.close();
  }
  return file;
}

/** A camera's video of the QR (y4m, what Chromium's fake capture device plays in a loop). */
async function qrVideo(png: string, out: string): Promise<string> {
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-i', png],
    ...['-vf', 'scale=360:360,pad=640:480:140:60:color=0x808080,format=yuv420p'],
    ...['-r', '10', '-frames:v', '20', '-f', 'yuv4mpegpipe', out],
  ]);
  return out;
}

/** A phone photo of the QR: large, tilted, on a grey table, JPEG. */
async function qrPhoto(png: string, out: string): Promise<string> {
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-i', png],
    ...[
      '-vf',
      'scale=900:900,pad=2400:1800:700:420:color=0x9a9388,rotate=0.12:fillcolor=0x9a9388,noise=alls=12:allf=t',
    ],
    ...['-frames:v', '1', '-q:v', '4', out],
  ]);
  return out;
}

async function startStation(name: string): Promise<AgentRuntime> {
  const config = parseConfig(
    {
      device: { dataDir: join(dir, name) },
      trust: { rootKeys: ['root.pub'] },
      hardware: {
        gpio: { driver: 'sim' },
        amplifier: { pin: 17 },
        modem: { driver: 'sim', pollIntervalS: 5 },
      },
      audio: { driver: 'sim', output: { type: 'null' } },
      fleet: { healthIntervalS: 5 },
      technician: { enabled: true, listen: '127.0.0.1', port: 0, passwordHash: await hashPassword(PASSWORD) },
    },
    dir,
  );
  const rt = await startAgent(config, { logger: log.child({ side: name }), env: {} });
  agents.push(rt);
  return rt;
}

async function login(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button');
  await page.waitForURL(`${base}/`);
}

beforeAll(async () => {
  writeFileSync(join(dir, 'root.pub'), publicKeyToPem(root.publicKey));
  province = await startProvince({
    dataDir: join(dir, 'server'),
    root,
    commune: COMMUNE,
    logger: log.child({ side: 'server' }),
    onServer: (s) => {
      server = s;
    },
    clock: { now: () => Date.now() + shiftMs },
  });
}, 120_000);

afterAll(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  for (const a of agents) await a.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function device(id: string): Promise<{ id: string; unit: string; online: boolean } | undefined> {
  const r = await province.operator.get<{ devices: { id: string; unit: string; online: boolean }[] }>(
    `/devices?unit=${COMMUNE}`,
  );
  return r.devices.find((d) => d.id === id);
}

describe('enrolment from the technician page by the dashboard QR code', () => {
  it('live camera on 127.0.0.1: scans the QR, the station enrols and comes online', async () => {
    const made = await makeToken('live');
    const text = enrolQrText(made.enrolUrl, made.token);
    const video = await qrVideo(await qrPng(text, join(dir, 'live.png')), join(dir, 'live.y4m'));
    const station = await startStation('cho');
    expect(station.enrolment.credentials()).toBeUndefined();
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        ...CHROME_ARGS,
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    const base = `http://127.0.0.1:${station.technician?.port}`;
    await login(page, base);
    await expect.poll(() => page.locator('#scan').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.evaluate('window.isSecureContext')).toBe(true);
    expect(await page.locator('#scan-live').isEnabled()).toBe(true);
    await page.click('#scan-live');
    await expect
      .poll(() => page.locator('#note').textContent(), { timeout: 60_000 })
      .toContain('Đã đăng ký với');
    const creds = station.enrolment.credentials();
    expect(creds?.unit).toBe(COMMUNE);
    expect(creds?.fleetUrl).toBe(province.server.url);
    expect(await page.locator('#enrol').textContent()).toContain(`mã trạm ${creds?.deviceId}`);
    await eventually(async () => (await device(creds?.deviceId ?? ''))?.online || undefined, 60_000, 200);
    const tokens = await province.technician.get<{ id: string; uses: number }[]>('/enrol-tokens');
    expect(tokens.find((t) => t.id === made.record.id)?.uses).toBe(1);
    // scanning again on an enrolled station: no form, the identity shown
    await page.goto(`${base}/`);
    expect(await page.locator('#enrol-form').count()).toBe(0);
    await page.screenshot({ path: join(ART, 'live-enrolled.png'), fullPage: true });
  }, 180_000);

  it('on http://<LAN name> the live camera is off (not a secure context) and photos are read instead', async () => {
    const good = await makeToken('photo');
    const soon = await makeToken('expires', 0.05);
    const photos = {
      label: await qrPhoto(
        await qrPng(`${province.server.url}/ui/devices/st-02500-cho?unit=08%2F02500`, join(dir, 'label.png')),
        join(dir, 'label.jpg'),
      ),
      stranger: await qrPhoto(
        await qrPng('https://example.vn/khuyen-mai', join(dir, 'x.png')),
        join(dir, 'x.jpg'),
      ),
      expired: await qrPhoto(
        await qrPng(enrolQrText(soon.enrolUrl, soon.token), join(dir, 'exp.png')),
        join(dir, 'exp.jpg'),
      ),
      good: await qrPhoto(
        await qrPng(enrolQrText(good.enrolUrl, good.token), join(dir, 'good.png')),
        join(dir, 'good.jpg'),
      ),
    };
    const station = await startStation('dinh');
    const port = station.technician?.port;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROME_ARGS, '--host-resolver-rules=MAP tram-dinh.lan 127.0.0.1'],
    });
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    const base = `http://tram-dinh.lan:${port}`;
    await login(page, base);
    await expect.poll(() => page.locator('#scan').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.evaluate('window.isSecureContext')).toBe(false);
    expect(await page.locator('#scan-live').isDisabled()).toBe(true);
    expect(await page.locator('#scan-note').textContent()).toContain('không cho mở camera trực tiếp');
    expect(await page.locator('#scan-photo').getAttribute('capture')).toBe('environment');
    await page.screenshot({ path: join(ART, 'lan-page.png'), fullPage: true });

    const pick = async (file: string, expected: string) => {
      await page.setInputFiles('#scan-photo', file);
      await expect
        .poll(() => page.locator('#scan-msg').textContent(), { timeout: 30_000 })
        .toContain(expected);
    };
    await pick(photos.label, 'mã trên nhãn tủ trạm');
    await pick(photos.stranger, 'không phải mã đăng ký Loa');
    expect(station.enrolment.credentials()).toBeUndefined();

    // the code expired on the server: refused there, said in Vietnamese, the form kept
    shiftMs = 3600_000;
    try {
      await page.setInputFiles('#scan-photo', photos.expired);
      await expect
        .poll(() => page.locator('#note').textContent(), { timeout: 60_000 })
        .toContain('Mã đăng ký đã hết hạn');
    } finally {
      shiftMs = 0;
    }
    expect(await page.locator('input[name=code]').inputValue()).toBe(soon.token);
    await page.screenshot({ path: join(ART, 'expired.png'), fullPage: true });
    expect(station.enrolment.credentials()).toBeUndefined();

    await page.waitForSelector('#scan:not([hidden])');
    await page.setInputFiles('#scan-photo', photos.good);
    await expect
      .poll(() => page.locator('#note').textContent(), { timeout: 60_000 })
      .toContain('Đã đăng ký với');
    const creds = station.enrolment.credentials();
    expect(creds?.unit).toBe(COMMUNE);
    await eventually(async () => (await device(creds?.deviceId ?? ''))?.online || undefined, 60_000, 200);
    await page.screenshot({ path: join(ART, 'photo-enrolled.png'), fullPage: true });
  }, 180_000);

  it('typed by hand: a wrong code is refused by the server; no camera and a refused camera are said', async () => {
    const station = await startStation('den');
    const base = `http://127.0.0.1:${station.technician?.port}`;
    // no camera on this machine (no fake device), permission granted: nothing to open
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROME_ARGS });
    browsers.push(browser);
    const granted = await browser.newContext({ locale: 'vi-VN', permissions: ['camera'] });
    const page = await granted.newPage();
    await login(page, base);
    await page.fill('input[name=server]', province.server.url);
    await page.fill('input[name=code]', 'loaenr_khongcomaso1234567890');
    await page.click('#enrol-form button');
    await expect
      .poll(() => page.locator('#note').textContent(), { timeout: 60_000 })
      .toContain('không nhận mã này');
    await page.fill('input[name=code]', 'ma-viet-tay');
    await page.click('#enrol-form button');
    await expect.poll(() => page.locator('#note').textContent(), { timeout: 30_000 }).toContain('loaenr_');
    expect(station.enrolment.credentials()).toBeUndefined();

    await page.click('#scan-live');
    await expect
      .poll(() => page.locator('#scan-msg').textContent(), { timeout: 30_000 })
      .toContain('Không tìm thấy camera');

    // a fake camera whose permission the browser refuses
    const b2 = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROME_ARGS, '--use-fake-device-for-media-stream'],
    });
    browsers.push(b2);
    const refused = await (await b2.newContext({ locale: 'vi-VN' })).newPage();
    await login(refused, base);
    await refused.click('#scan-live');
    await expect
      .poll(() => refused.locator('#scan-msg').textContent(), { timeout: 30_000 })
      .toContain('Quyền dùng camera bị từ chối');
  }, 180_000);
});
