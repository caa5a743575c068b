/**
 * A technician's day at a pole with no network, with the compiled agent (agent/bin/loa-agent.js)
 * as a station runs it: real ffmpeg into a WAV file, the modem's AT port on a real pseudo-terminal
 * (the simulated EC25 on its far side), the USB mount root watched, the technician page in headless
 * Chromium, and a real fleet server on 127.0.0.1 that goes away and comes back.
 *
 * 1. The station enrols and runs online, then loses power (SIGKILL).
 * 2. In the office the technician publishes a normal programme on the server and downloads its
 *    tar for the stick, and builds an emergency without a schedule with `loa bundle build/sign/pack`
 *    (the README's example). Then the server is gone: no fleet server, no NTP, no cell network.
 * 3. The station boots again with its system clock years behind (libfaketime: 2022) and says on its
 *    page what it waits for. The stick's two tars are imported: the emergency plays at once (its
 *    chime, then its audio, measured in the WAV), the normal item is held and the page says why.
 * 4. The modem finds the network and its time: the clock is trusted and the held item plays.
 * 5. The server comes back: the station reports its proofs (the offline ones say the clock was not
 *    trusted) and its health.
 * No test step depends on the hour: the programme has no quiet hours and its slot is a minute
 * after it is published.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type FleetServer, standardPlugins, startFleetServer } from '@loa/fleet-server';
import {
  generateKeyPair,
  type Health,
  type Proof,
  privateKeyToPem,
  publicKeyToPem,
  rawPublicKey,
} from '@loa/protocol';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimModemDevice } from '../../agent/src/drivers/modem/sim.js';
import { hashPassword } from '../../agent/src/http/password.js';
import { buildAgent } from '../../scripts/src/bench/agent-process.js';
import { runCli } from '../../scripts/src/cli/run.js';
import { frequencyAt, makeTone, soundRuns, type Wav } from '../agent/audio/wav-tools.js';
import { createPtyRig, type PtyRig } from '../agent/drivers/helpers/pty.js';
import { repoRoot } from '../agent/services/helpers.js';
import { readLiveWav, wavOriginMs } from './helpers/live-wav.js';
import { type Province, startProvince } from './helpers/province-station.js';

const COMMUNE = '08/02500';
const PASSWORD = 'ky-thuat-vien-1';
const CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const dir = mkdtempSync(join(tmpdir(), 'loa-offline-'));
const station = join(dir, 'station');
const shots = process.env.LOA_TEST_SHOTS ?? join(dir, 'shots');
const root = generateKeyPair();
const emergencyKey = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });

let server: FleetServer | undefined;
let province: Province;
let pty: PtyRig | undefined;
let agent: AgentProcess | undefined;
let ports: { http: number; mqtt: number; technician: number };
let deviceId = '';
/** The normal item's slot (published a minute ahead), and the tars the technician carries. */
let slotMs = 0;
const modem = new SimModemDevice({ tzQuarterHours: 28 });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface AgentProcess {
  proc: ChildProcessByStdio<null, Readable, Readable>;
  lines: Record<string, unknown>[];
  exited: Promise<void>;
}

/** The compiled agent, as systemd starts it; `faketime` sets the board's clock (no RTC). */
function spawnAgent(wav: string, faketime?: string): AgentProcess {
  writeFileSync(
    join(station, 'agent.json'),
    JSON.stringify({
      device: { dataDir: 'data', name: 'Cụm loa chợ Sơn Dương' },
      fleet: {
        url: `http://127.0.0.1:${ports.http}`,
        provisioningFile: 'provisioning.json',
        healthIntervalS: 5,
      },
      trust: { rootKeys: ['root.pub'] },
      hardware: {
        gpio: { driver: 'sim' },
        amplifier: { pin: 17, warmupMs: 500, idleTailMs: 1000 },
        modem: { driver: 'real', path: pty?.path, pollIntervalS: 5 },
      },
      audio: { driver: 'real', output: { type: 'wav', path: wav } },
      station: { emergencyChime: { toneHz: 880, durationMs: 1000 } },
      usb: { dir: 'usb', pollS: 0.5 },
      technician: {
        enabled: true,
        listen: '127.0.0.1',
        port: ports.technician,
        passwordHash: readFileSync(join(station, 'password.hash'), 'utf8'),
      },
    }),
  );
  const node = [process.execPath, 'agent/bin/loa-agent.js', '--config', join(station, 'agent.json')];
  const [cmd, ...args] = faketime ? ['faketime', faketime, ...node] : node;
  const proc = spawn(cmd as string, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // the monotonic clock runs true on a board without an RTC; only the wall clock is wrong
    env: { ...process.env, NOTIFY_SOCKET: '', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  proc.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  proc.stderr.on('data', (c: Buffer) => lines.push({ msg: c.toString() }));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { proc, lines, exited };
}

async function kill(a: AgentProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!a || a.proc.exitCode !== null || a.proc.signalCode !== null) return;
  a.proc.kill(signal);
  await a.exited;
}

/** The technician page as Chromium shows it after signing in: its text, and a screenshot. */
async function technicianPage(shot: string): Promise<string> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROME_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(`http://127.0.0.1:${ports.technician}/`);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(`http://127.0.0.1:${ports.technician}/`), page.click('button')]);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, shot), fullPage: true });
    return (await page.textContent('main')) ?? '';
  } finally {
    await browser.close();
  }
}

/** Sound runs of the station's output with their wall-clock start and dominant frequency. */
async function heard(wav: string): Promise<{ atMs: number; startMs: number; endMs: number; hz: number }[]> {
  const w = await readLiveWav(join(station, wav));
  const origin = (await wavOriginMs(join(station, wav))) ?? Number.NaN;
  return soundRuns(w, -40, 10, 60).map((r) => ({
    ...r,
    atMs: origin + r.startMs,
    hz: frequencyAt(w, r.startMs + 100, Math.min(r.endMs, r.startMs + 900) - 100),
  }));
}

const near = (hz: number, want: number) => Math.abs(hz - want) <= want * 0.03;

/**
 * The first stretch from `fromMs` on where the output carries `hz` (100 ms windows), once it has
 * lasted at least 2.5 s or ended: where it starts and ends in the file.
 */
function tone(w: Wav, hz: number, fromMs: number): { startMs: number; endMs: number } | undefined {
  const total = (w.samples.length / w.rate) * 1000;
  let start: number | undefined;
  for (let t = fromMs; t + 100 <= total; t += 100) {
    const on = near(frequencyAt(w, t, t + 100), hz);
    if (on && start === undefined) start = t;
    if (!on && start !== undefined) {
      if (t - start >= 500) return { startMs: start, endMs: t };
      start = undefined;
    }
  }
  return start !== undefined && total - start >= 2500 ? { startMs: start, endMs: total } : undefined;
}

beforeAll(async () => {
  const built = buildAgent();
  if (built && !existsSync(join(repoRoot, 'agent/dist/main.js'))) throw new Error(built);
  ports = { http: await freePort(), mqtt: await freePort(), technician: await freePort() };
  province = await startProvince({
    dataDir: join(dir, 'server'),
    root,
    commune: COMMUNE,
    logger: log.child({ side: 'server' }),
    httpPort: ports.http,
    mqttPort: ports.mqtt,
    // with the USB-stick export ("Tải tệp cho USB") of published bundles
    plugins: standardPlugins(),
    // the province's duty officer keeps an emergency key offline, for `loa bundle sign`
    offlineKeys: [{ publicKey: emergencyKey.publicKey, roles: ['emergency'], name: 'Trực ban (khoá rời)' }],
    onServer: (s) => {
      server = s;
    },
  });
  mkdirSync(join(station, 'usb'), { recursive: true });
  writeFileSync(join(station, 'root.pub'), publicKeyToPem(root.publicKey));
  writeFileSync(join(station, 'provisioning.json'), JSON.stringify({ enrolmentToken: province.token }));
  writeFileSync(join(station, 'password.hash'), await hashPassword(PASSWORD));
  pty = await createPtyRig(modem);
}, 180_000);

afterAll(async () => {
  await kill(agent, 'SIGTERM');
  await pty?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a station offline after a power cut, served by a USB stick (compiled agent, faketime)', () => {
  it('enrols and runs online, then loses power', async () => {
    agent = spawnAgent('online.wav');
    await expect
      .poll(() => existsSync(join(station, 'data', 'credentials.json')), { timeout: 60_000, interval: 200 })
      .toBe(true);
    deviceId = (
      JSON.parse(readFileSync(join(station, 'data', 'credentials.json'), 'utf8')) as { deviceId: string }
    ).deviceId;
    await expect
      .poll(async () => (await province.operator.get<{ online: boolean }>(`/devices/${deviceId}`)).online, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(true);
    // the clock was trusted (server or modem) and saved before the power went
    await expect.poll(() => existsSync(join(station, 'data', 'clock.json')), { timeout: 30_000 }).toBe(true);
    await kill(agent, 'SIGKILL');
  }, 180_000);

  it('in the office: a published programme downloaded for the stick, an emergency built with loa', async () => {
    // the normal programme: uploaded, two signatures, published, then "Tải tệp cho USB"
    const src = join(dir, 'thong-bao.wav');
    await makeTone(src, 440, 3);
    const q = new URLSearchParams({
      title: 'Thông báo tiêm chủng',
      unit: COMMUNE,
      lang: 'vi',
      name: 'thong-bao.wav',
    });
    const content = await province.editor.call<{ id: string }>('post', `/content/upload?${q}`, undefined, {
      raw: readFileSync(src),
      contentType: 'audio/wav',
    });
    slotMs = Date.now() + 60_000;
    const draft = await province.editor.post<{ id: string }>('/bundles', {
      channel: 'xa-02500',
      targets: [{ unit: COMMUNE }],
      items: [{ content: content.id, id: 'tiem-chung' }],
      schedule: [
        { id: 'mot-lan', items: ['tiem-chung'], rule: { type: 'once', at: new Date(slotMs).toISOString() } },
      ],
    });
    await province.editor.post(`/bundles/${draft.id}/submit`, { sign: true });
    await province.approver.post(`/bundles/${draft.id}/approve`, { sign: true });
    await province.approver.post(`/bundles/${draft.id}/publish`);
    const api = province.approver;
    const tar = await fetch(`${api.baseUrl}/api/v1/bundles/${draft.id}/tar`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(tar.status, await tar.clone().text()).toBe(200);
    writeFileSync(join(dir, 'xa-02500.tar'), Buffer.from(await tar.arrayBuffer()));

    // the emergency, as the README shows it: no schedule, signed with the offline key, packed
    await makeTone(join(dir, 'lu.wav'), 1000, 3);
    writeFileSync(join(dir, 'truc-ban.key'), privateKeyToPem(emergencyKey.privateKey));
    const out: string[] = [];
    const io = {
      out: (l: string) => void out.push(l),
      err: (l: string) => void out.push(l),
      lang: 'vi' as const,
      now: () => new Date(),
      cwd: dir,
    };
    for (const argv of [
      [
        'bundle',
        'build',
        '--out',
        'bao',
        '--channel',
        'canh-bao',
        '--version',
        '1',
        '--priority',
        'emergency',
      ],
      ['bundle', 'sign', '--key', 'truc-ban.key', 'bao'],
      ['bundle', 'pack', 'bao', 'canh-bao.tar'],
    ]) {
      const args =
        argv[1] === 'build' ? [...argv, '--target', COMMUNE, '--title', 'Cảnh báo lũ', 'lu.wav'] : argv;
      expect(await runCli(args, io), out.join('\n')).toBe(0);
    }
    // then the link is gone: no fleet server, and the pole has no cell network
    await server?.stop();
    server = undefined;
    Object.assign(modem.config, { creg: 2, cereg: 2, nitz: false, operator: null });
  }, 180_000);

  it('boots with its clock years behind and says on its page what it waits for', async () => {
    agent = spawnAgent('offline.wav', '2022-03-01 08:00:00');
    await expect
      .poll(() => agent?.lines.some((l) => l.msg === 'agent started'), { timeout: 60_000, interval: 200 })
      .toBe(true);
    await expect
      .poll(() => agent?.lines.some((l) => l.code === 'CLOCK_WAITING' && l.modem === 'no-network-time'), {
        timeout: 30_000,
      })
      .toBe(true);
    const text = await technicianPage('1-khoi-dong-khong-mang.png');
    expect(text).toContain('chưa tin cậy: lịch thường đang tạm giữ, tin khẩn cấp vẫn phát');
    expect(text).toContain('máy chủ (chưa liên lạc được)');
    expect(text).toContain('modem (chưa có giờ mạng)');
    expect(text).toContain('đang tìm mạng');
  }, 120_000);

  let droppedAt = 0;
  it('a USB stick: the emergency plays at once, chime first; the normal item is held and the page says why', async () => {
    mkdirSync(join(station, 'usb', 'sda1'));
    droppedAt = Date.now();
    writeFileSync(join(station, 'usb', 'sda1', 'canh-bao.tar'), readFileSync(join(dir, 'canh-bao.tar')));
    writeFileSync(join(station, 'usb', 'sda1', 'xa-02500.tar'), readFileSync(join(dir, 'xa-02500.tar')));
    // the chime (880 Hz, 1 s), then the emergency's own audio (1 kHz, 3 s)
    await expect
      .poll(
        async () => {
          const w = await readLiveWav(join(station, 'offline.wav'));
          const c = (await heard('offline.wav')).find((r) => near(r.hz, 880));
          return c !== undefined && (w.samples.length / w.rate) * 1000 > c.startMs + 5000;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
    const runs = await heard('offline.wav');
    const chime = runs.find((r) => near(r.hz, 880));
    if (!chime) throw new Error('no chime');
    // the emergency's own audio follows the chime (a loaded machine may leave a gap between them)
    await expect
      .poll(async () => tone(await readLiveWav(join(station, 'offline.wav')), 1000, chime.startMs + 500), {
        timeout: 30_000,
        interval: 500,
      })
      .toBeDefined();
    const emergency = tone(await readLiveWav(join(station, 'offline.wav')), 1000, chime.startMs + 500);
    if (!emergency) throw new Error('no emergency audio after the chime');
    const chimeEnd = tone(await readLiveWav(join(station, 'offline.wav')), 880, chime.startMs)?.endMs ?? 0;
    log.info({ gapMs: emergency.startMs - chimeEnd }, 'chime to emergency audio');
    expect(emergency.startMs).toBeGreaterThanOrEqual(chimeEnd);
    expect(emergency.endMs - emergency.startMs).toBeGreaterThanOrEqual(2500);
    const fromStickMs = chime.atMs - droppedAt;
    log.info({ fromStickMs }, 'emergency on air after the stick');
    expect(fromStickMs).toBeGreaterThan(0);
    // at once: not waiting for a clock or a link (the bound only says it did not wait for either)
    expect(fromStickMs).toBeLessThan(30_000);
    // nothing of the normal programme before the clock is trusted
    expect(runs.some((r) => near(r.hz, 440))).toBe(false);

    const text = await technicianPage('2-usb-khan-cap-da-phat.png');
    expect(text).toMatch(/tiem-chung \(.+\), lúc .+: chờ đồng hồ tin cậy/);
    expect(text).toContain('(đồng hồ chưa tin cậy)');
    expect(text).toMatch(/USBđã nhập/);
    // the log says it too
    expect(agent?.lines.some((l) => l.code === 'PROGRAMME_HELD')).toBe(true);
  }, 120_000);

  let networkAt = 0;
  it('the modem finds the network: the clock is trusted and the held item plays', async () => {
    // past the item's slot: it was held at its time
    await expect.poll(() => Date.now() > slotMs + 1000, { timeout: 120_000, interval: 500 }).toBe(true);
    expect((await heard('offline.wav')).some((r) => near(r.hz, 440))).toBe(false);
    networkAt = Date.now();
    Object.assign(modem.config, { creg: 1, cereg: 1, nitz: true, operator: 'Viettel' });
    await expect
      .poll(
        async () => (await heard('offline.wav')).some((r) => near(r.hz, 440) && r.endMs - r.startMs > 2500),
        {
          timeout: 60_000,
          interval: 500,
        },
      )
      .toBe(true);
    const played = (await heard('offline.wav')).find((r) => near(r.hz, 440));
    expect(played?.atMs).toBeGreaterThan(networkAt);
    log.info({ afterNetworkMs: (played?.atMs ?? 0) - networkAt }, 'held item on air after the modem time');
    expect(agent?.lines.some((l) => l.msg === 'clock trusted' && l.source === 'modem')).toBe(true);
    const text = await technicianPage('3-co-gio-mang.png');
    expect(text).toContain('tin cậy (modem)');
    expect(text).toContain('đã đăng ký mạng');
  }, 180_000);

  it('the server comes back: proofs and health reach it', async () => {
    server = await startFleetServer({
      config: {
        dataDir: join(dir, 'server'),
        httpPort: ports.http,
        mqttPort: ports.mqtt,
        host: '127.0.0.1',
        trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
      },
      logger: log.child({ side: 'server' }),
      plugins: standardPlugins(),
    });
    interface Entry {
      proof: Proof;
    }
    const proofs = async () =>
      (await province.operator.get<Entry[]>(`/devices/${deviceId}/proofs?limit=1000`)).map((e) => e.proof);
    await expect
      .poll(
        async () => (await proofs()).some((p) => p.itemId === 'tiem-chung' && p.outcome === 'completed'),
        {
          timeout: 90_000,
          interval: 500,
        },
      )
      .toBe(true);
    const all = await proofs();
    const em = all.filter((p) => p.priority === 'emergency' && p.channel === 'canh-bao');
    expect(em.map((p) => p.outcome).sort()).toEqual(['completed', 'started']);
    expect(em.every((p) => p.clockTrusted === false)).toBe(true);
    // the untrusted clock ran on: the emergency took time, not one frozen instant
    const done = em.find((p) => p.outcome === 'completed');
    expect(Date.parse(done?.endedAt ?? '') - Date.parse(done?.startedAt ?? '')).toBeGreaterThan(2500);
    const normal = all.filter((p) => p.itemId === 'tiem-chung');
    expect(normal.every((p) => p.clockTrusted === true)).toBe(true);
    expect(Date.parse(normal.find((p) => p.outcome === 'started')?.startedAt ?? '')).toBeGreaterThan(slotMs);
    await expect
      .poll(
        async () => {
          const d = await province.operator.get<{ online: boolean; health: Health | null }>(
            `/devices/${deviceId}`,
          );
          return d.online && d.health?.clock.trusted === true;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
    const d = await province.operator.get<{ health: Health }>(`/devices/${deviceId}`);
    expect(d.health.bundles.map((b) => b.channel).sort()).toEqual(['canh-bao', 'xa-02500']);
    expect(d.health.modem?.registration).toBe('home');
    expect(d.health.usbImport?.ok).toBe(true);
  }, 180_000);
});
