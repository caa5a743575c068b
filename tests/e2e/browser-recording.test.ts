/**
 * Recording in the browser, all the way to a station's loudspeaker, every component real on
 * 127.0.0.1: headless Chromium whose microphone is a fake device fed with a WAV of Vietnamese
 * speech (espeak-ng), the fleet server in this process with the dashboard (embedded aedes, file
 * store, real ffmpeg), and the real agent (startAgent: simulated GPIO and modem, real ffmpeg
 * decoding into a WAV sink), enrolled with a one-time token.
 *
 * 1. A bulletin: the commune editor records it on the content page and saves it (trimmed and
 *    normalised by the server); it goes into a programme that the editor submits with the first
 *    signature; a second person, the approver, approves it with the second signature and publishes
 *    it from the dashboard; the station plays it and its signed `played` proofs name the
 *    recording's audio, for as long as the recording lasts, and the station's output has the sound.
 * 2. An emergency: the operator on duty records the alert on the emergency page and sends it; the
 *    short recording is speech-grade and travels inside the signed emergency message (the
 *    server's blob URL points at a listener that drops every connection, and none is made); the
 *    station plays it at once, as long as it lasts, and proves it.
 * 3. The emergency page refuses a silent recording with the server's words, next to the recorder.
 *
 * Quiet hours (22:00–05:00 Vietnam time) would hold a normal bulletin: this programme carries none,
 * the station's configuration has none and the commune has set none, so it plays at any hour; the
 * emergency plays at any hour by rule. Screenshots of the emergency page (1280 and 390 px wide, a
 * recording ready to send) go to tests/artifacts/record/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FleetServer, standardPlugins } from '@loa/fleet-server';
import { EMERGENCY_INLINE_MAX_BYTES, generateKeyPair, type Proof } from '@loa/protocol';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRuntime } from '../../agent/src/main.js';
import type { ContentRecord } from '../../fleet-server/src/domain/model.js';
import type { FleetApi } from '../../scripts/src/sim/fleet-api.js';
import { soundRuns } from '../agent/audio/wav-tools.js';
import { readLiveWav } from './helpers/live-wav.js';
import { type Province, type Station, startProvince, startStation } from './helpers/province-station.js';

const run = promisify(execFile);
const COMMUNE = '08/02500';
const ART = join(process.cwd(), 'tests', 'artifacts', 'record');
const dir = mkdtempSync(join(tmpdir(), 'loa-browser-recording-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

let server: FleetServer | undefined;
let province: Province;
let station: Station | undefined;
let operator: FleetApi;
let deviceId = '';
let speechWav = '';
let silentWav = '';
const browsers: Browser[] = [];
const closers: (() => Promise<void>)[] = [];

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  // The fake microphone: espeak-ng reading an alert, 48 kHz mono 16-bit (Chromium loops the file).
  const raw = join(dir, 'raw.wav');
  await run('espeak-ng', [
    '-v',
    'vi',
    '-w',
    raw,
    '--',
    'Thông báo của Ủy ban nhân dân xã Sơn Dương. Nước suối đang lên nhanh, bà con không qua ngầm tràn.',
  ]);
  speechWav = join(dir, 'speech.wav');
  await ffmpeg(['-i', raw, '-ar', '48000', '-ac', '1', '-c:a', 'pcm_s16le', speechWav]);
  silentWav = join(dir, 'silent.wav');
  await ffmpeg(['-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-t', '10', '-c:a', 'pcm_s16le', silentWav]);

  province = await startProvince({
    dataDir: join(dir, 'server'),
    root,
    commune: COMMUNE,
    logger: log.child({ side: 'server' }),
    plugins: standardPlugins(),
    onServer: (s) => {
      server = s;
    },
  });
  ({ operator } = province);
  station = await startStation({
    dir: join(dir, 'station'),
    serverUrl: province.server.url,
    root,
    token: province.token,
    logger: log.child({ side: 'agent' }),
  });
  const agent = station.rt as AgentRuntime;
  deviceId = (await poll('the station to enrol', () => agent.enrolment.credentials(), 60_000)).deviceId;
  await poll(
    'the station online on the server',
    async () => (await operator.get<{ online: boolean }>(`/devices/${deviceId}`)).online || undefined,
    60_000,
  );
}, 180_000);

afterAll(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  for (const close of closers) await close();
  await station?.rt.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Polls until `fn` gives a value; says what it waited for when the time runs out. */
async function poll<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function launch(wav: string): Promise<Browser> {
  const b = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...BASE_ARGS, `--use-file-for-fake-audio-capture=${wav}`],
  });
  browsers.push(b);
  return b;
}

async function login(page: Page, username: string): Promise<void> {
  const password = province.passwords[username];
  if (!password) throw new Error(`no password for ${username}`);
  await page.goto(`${province.server.url}/ui/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
}

/** Records from the fake microphone until the clock shows at least `seconds`, then stops. */
async function record(page: Page, seconds: number): Promise<void> {
  const rec = page.locator('[data-recorder]');
  await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('ready');
  await page.click('[data-rec-start]');
  await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('recording');
  await expect
    .poll(
      async () => Number(((await page.locator('[data-rec-time]').textContent()) ?? '0:00').split(':')[1]),
      {
        timeout: 60_000,
      },
    )
    .toBeGreaterThanOrEqual(seconds);
  await page.click('[data-rec-stop]');
  await expect.poll(() => rec.getAttribute('data-state'), { timeout: 15_000 }).toBe('review');
}

async function proofOf(bundleId: string, outcome: Proof['outcome']): Promise<Proof | undefined> {
  const rows = await operator.get<{ proof: Proof }[]>(`/devices/${deviceId}/proofs?limit=1000`);
  return rows.find((e) => e.proof.bundleId === bundleId && e.proof.outcome === outcome)?.proof;
}

/**
 * The station played this recording: its started and completed proofs (signed by the station,
 * checked by the server on receipt) name the recording's audio, the play lasted as long as the
 * recording (± 2 s: decoder start, an emergency's lead-in, a loaded machine), and the
 * station's output has sound for most of that time.
 */
async function expectPlayed(bundleId: string, audio: ContentRecord, priority: Proof['priority']) {
  const started = await poll('the started proof', () => proofOf(bundleId, 'started'), 120_000);
  const done = await poll('the completed proof', () => proofOf(bundleId, 'completed'), 120_000);
  for (const p of [started, done])
    expect(p).toMatchObject({
      deviceId,
      bundleId,
      contentSha256: audio.sha256,
      priority,
      clockTrusted: true,
    });
  expect(done.relays.amplifier).toBe(true);
  const t0 = Date.parse(started.startedAt ?? '');
  const playedMs = Date.parse(done.endedAt ?? '') - t0;
  const durationMs = audio.durationMs ?? 0;
  expect(Math.abs(playedMs - durationMs)).toBeLessThan(2000);
  const wav = await readLiveWav((station as Station).wavPath);
  const from = (station as Station).wavPosition(t0);
  const to = from.ms + playedMs;
  const sound = soundRuns(wav, -40, 10, 300)
    .filter((r) => r.endMs > from.ms - 500 - from.slackMs && r.startMs < to + 500 + from.slackMs)
    .reduce((n, r) => n + Math.min(r.endMs, to) - Math.max(r.startMs, from.ms), 0);
  console.info(
    '[browser-recording] played',
    JSON.stringify({ priority, durationMs, playedMs, soundMs: sound }),
  );
  expect(sound).toBeGreaterThan(durationMs * 0.5);
}

describe('recording in the browser, to the station (headless Chromium, real server and agent)', () => {
  it('a recorded bulletin is approved by a second person, published and played by the station', async () => {
    const chrome = await launch(speechWav);
    const ed = await chrome.newPage({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    ed.setDefaultTimeout(60_000);
    await login(ed, 'bientap');
    // The editor: 2 clicks (record, stop), 1 typed field (the title), 1 click (save); the unit and
    // the category keep their defaults (the editor's commune, "thông báo").
    await ed.goto(`${province.server.url}/ui/content#record`);
    await record(ed, 5);
    const title = 'Thông báo nước suối lên nhanh';
    await ed.fill('#f-r_title', title);
    await Promise.all([
      ed.waitForURL(/ok=content\.recorded/, { timeout: 60_000 }),
      ed.click('[data-rec-save]'),
    ]);
    const items = await (server as FleetServer).deps.store.content.list((c) => c.title === title);
    expect(items).toHaveLength(1);
    const audio = items[0] as ContentRecord;
    const made = audio.meta?.recording as { durationMs: number; kept: { startMs: number; endMs: number } };
    expect(made.durationMs).toBeGreaterThan(4500);
    expect(audio.durationMs).toBeGreaterThan(3000);
    expect(audio.loudnessLufs).toBeGreaterThan(-19.5);

    // Into a programme (the programme editor itself is dashboard.test's): one item, once, a little
    // ahead; the editor submits it with the first signature. A slot that has passed by the time
    // the station has it still plays (up to 15 minutes late), so no timing is assumed here.
    const at = new Date(Date.now() + 30_000).toISOString();
    const draft = await province.editor.post<{ id: string }>('/bundles', {
      channel: 'xa-02500',
      targets: [{ unit: COMMUNE }],
      items: [{ content: audio.id, id: 'ghi-am' }],
      schedule: [{ id: 'mot-lan', items: ['ghi-am'], rule: { type: 'once', at } }],
    });
    await province.editor.post(`/bundles/${draft.id}/submit`, { sign: true });

    // The approver, a second person in the dashboard: opens the queue, approves (second signature)
    // and publishes.
    const apCtx = await chrome.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const ap = await apCtx.newPage();
    ap.setDefaultTimeout(60_000);
    ap.on('dialog', (d) => void d.accept());
    await login(ap, 'pheduyet');
    await ap.goto(`${province.server.url}/ui/approvals`);
    await ap.locator('#queue a').first().click();
    await Promise.all([ap.waitForURL(/ok=appr.approved/), ap.click('form[action$="/approve"] button')]);
    await Promise.all([ap.waitForURL(/ok=prog.publishedOk/), ap.click('form[action$="/publish"] button')]);
    const bundle = await province.approver.get<{
      state: string;
      manifest: { id: string; signatures: unknown[] };
    }>(`/bundles/${draft.id}`);
    expect(bundle.state).toBe('published');
    expect(bundle.manifest.signatures).toHaveLength(2);

    await expectPlayed(bundle.manifest.id, audio, 'normal');
    await apCtx.close();
    await ed.close();
  }, 300_000);

  it('a recorded emergency is sent from the emergency page and played by the station at once', async () => {
    const chrome = await launch(speechWav);
    const op = await chrome.newPage({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    op.setDefaultTimeout(60_000);
    await login(op, 'vanhanh');
    // The operator on duty: 1 click (the commune), 1 typed field (the title), 2 clicks (record,
    // stop; then listen), 1 click (the confirmation box), 1 typed field (the phrase), 1 click
    // (send): 5 clicks and 2 typed fields. The test also sets the number of plays to 1 (the
    // default, 3, would only make the run longer).
    const openedAt = Date.now();
    await op.goto(`${province.server.url}/ui/emergency`);
    await op.check(`input[name=unit][value="${COMMUNE}"]`);
    const title = 'Cảnh báo nước suối lên nhanh';
    await op.fill('#f-title', title);
    await record(op, 5);
    // the recording is in the form, ready to listen to
    expect(await op.locator('[data-rec-status]').textContent()).toContain('Đã ghi 0:0');
    expect(
      await op.evaluate(`document.querySelector('[data-rec-file]').files[0]?.size ?? 0`),
    ).toBeGreaterThan(1000);
    await op.fill('#f-repeat', '1');
    await op.check('#f-confirm1');
    await op.fill('#f-confirm2', 'PHAT KHAN CAP');
    await op.locator('#record').scrollIntoViewIfNeeded();
    await op.screenshot({ path: join(ART, 'emergency-recorded-1280.png'), fullPage: true });
    await op.setViewportSize({ width: 390, height: 844 });
    await op.screenshot({ path: join(ART, 'emergency-recorded-390.png'), fullPage: true });
    // From now on the stations' blob downloads go to a listener that counts and drops them: the
    // recorded alert must arrive inside the emergency message, as a spoken one does.
    let downloads = 0;
    const sink = createServer((socket) => {
      downloads++;
      socket.destroy();
    });
    closers.push(() => new Promise((r) => sink.close(() => r())));
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkAddr = sink.address();
    const config = (server as FleetServer).deps.config;
    const publicUrl = config.publicUrl;
    config.publicUrl = `http://127.0.0.1:${typeof sinkAddr === 'object' && sinkAddr ? sinkAddr.port : 0}`;
    const sentAt = Date.now();
    await Promise.all([
      op.waitForURL(/\/ui\/emergency\/[^/]+$/, { timeout: 90_000 }),
      op.click('form button[type=submit].danger'),
    ]);
    const id = decodeURIComponent(new URL(op.url()).pathname.split('/').pop() ?? '');

    // What went out: the recording, cut and normalised, speech-grade, small enough to be carried
    // inside the signed emergency message.
    const b = await operator.get<{ manifest: { items: { blob?: { sha256: string; size: number } }[] } }>(
      `/bundles/${id}`,
    );
    const blob = b.manifest.items[0]?.blob;
    const [audio] = await (server as FleetServer).deps.store.content.list((c) => c.sha256 === blob?.sha256);
    if (!audio || !blob) throw new Error('the emergency carries no recorded audio');
    expect(audio).toMatchObject({ title, kind: 'audio', unit: COMMUNE });
    expect(audio.meta?.recording).toBeDefined();
    expect(audio.meta?.transcode).toMatchObject({ bitrate: '16k' });
    expect(blob.size).toBeLessThanOrEqual(EMERGENCY_INLINE_MAX_BYTES);

    await expectPlayed(id, audio, 'emergency');
    expect(downloads).toBe(0);
    if (publicUrl === undefined) delete config.publicUrl;
    else config.publicUrl = publicUrl;
    const started = (await proofOf(id, 'started')) as Proof;
    const startedAt = Date.parse(started.startedAt ?? '');
    // a figure, not a limit: page opened → station playing (machine-paced: two screenshots, 5 s recorded)
    console.info(
      '[browser-recording] emergency timing',
      JSON.stringify({ openedToStartedMs: startedAt - openedAt, sentToStartedMs: startedAt - sentAt }),
    );
    // the live progress page shows the station
    await op.setViewportSize({ width: 1280, height: 900 });
    await op.reload();
    await expect
      .poll(() => op.locator(`[data-k="emg:d:${deviceId}"]`).textContent(), { timeout: 30_000 })
      .toMatch(/Đang phát|Đã phát xong/);
    await op.close();
  }, 300_000);

  it('refuses a silent recording on the emergency page, in Vietnamese, next to the recorder', async () => {
    const chrome = await launch(silentWav);
    const op = await chrome.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    op.setDefaultTimeout(60_000);
    await login(op, 'vanhanh');
    await op.goto(`${province.server.url}/ui/emergency`);
    const before = await operator.get<unknown[]>('/emergency');
    await op.check(`input[name=unit][value="${COMMUNE}"]`);
    await op.fill('#f-title', 'Thử micrô tắt tiếng');
    await record(op, 3);
    await op.check('#f-confirm1');
    await op.fill('#f-confirm2', 'PHAT KHAN CAP');
    await op.click('form button[type=submit].danger');
    await expect
      .poll(() => op.locator('[data-error-for="recording"]').textContent(), { timeout: 60_000 })
      .toContain('gần như im lặng');
    await op.screenshot({ path: join(ART, 'emergency-silent-390.png'), fullPage: true });
    // nothing was sent
    expect(await operator.get<unknown[]>('/emergency')).toHaveLength(before.length);
    await op.close();
  }, 180_000);
});
