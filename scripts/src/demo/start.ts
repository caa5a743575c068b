/**
 * `npm start`: the quick-start demo. Starts the fleet server in this process (DATA_DIR, default
 * ./data, reused on restart), seeds on first run a demo province (Tuyên Quang, 08) with four
 * communes of the former Sơn Dương district, a demo trust root (DATA_DIR/demo-keys, demo only),
 * editor/approver/operator users, spoken Vietnamese bulletins and a programme at 05:30 and 17:00,
 * publishes an announcement a few minutes after each start, then runs 12 simulated stations and
 * 2 noticeboards (the real agent over simulated hardware) enrolled with real tokens. Each
 * noticeboard runs its screen for real: the kiosk page on 127.0.0.1 shown by a headless Debian
 * Chromium (about 150 MB each), which proves what it displays and sends a screenshot to the
 * dashboard every few minutes; without /usr/bin/chromium the boards run a simulated screen.
 * Prints the dashboard address and the logins; Ctrl-C stops cleanly.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type FleetServer, standardPlugins, startFleetServer } from '@loa/fleet-server';
import { isLoaError, rawPublicKey } from '@loa/protocol';
import { pino } from 'pino';
import { SimFleet } from '../sim/fleet.js';
import { LINK_PROFILES } from '../sim/link-proxy.js';
import { asBootstrapAdmin } from '../sim/provision.js';
import { seededRandom } from '../sim/random.js';
import { SimStation } from '../sim/station.js';
import { missingTools, missingToolsMessage } from '../system-tools.js';
import { writeDemoBoundaries } from './boundaries.js';
import { loadOrCreateDemoRoot } from './keys.js';
import {
  DEMO_COMMUNES,
  type DemoState,
  placeDemoDevices,
  publishProgramme,
  publishSoon,
  seedDemo,
} from './seed.js';
import { finishSeeding, prepareDemoDir } from './seeding-marker.js';

const HELP = `Cách dùng: npm start [-- tuỳ chọn]

Chạy bản demo Loa: máy chủ đội thiết bị, tỉnh demo Tuyên Quang (4 xã của huyện Sơn Dương cũ),
12 cụm loa và 2 bảng tin điện tử mô phỏng. Dữ liệu giữ trong DATA_DIR để lần sau chạy tiếp.

Tuỳ chọn (hoặc biến môi trường):
  --data-dir DIR     thư mục dữ liệu (DATA_DIR, mặc định ./data)
  --port N           cổng HTTP của bảng điều khiển (PORT, mặc định 8080; 0 = tự chọn)
  --mqtt-port N      cổng MQTT (MQTT_PORT, mặc định 1883; 0 = tự chọn)
  --soon-minutes N   phát thông báo thử sau N phút kể từ khi khởi động (mặc định 3)
  -h, --help         hướng dẫn này
`;

interface DemoOptions {
  dataDir: string;
  port: number;
  mqttPort: number;
  soonMinutes: number;
}

function usage(message: string): never {
  process.stderr.write(`demo: ${message}\n\n${HELP}`);
  process.exit(2);
}

function port(name: string, v: string | undefined, def: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`${name} phải là số cổng 0–65535 (đang là "${v}")`);
  return n;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): DemoOptions | 'help' {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        'mqtt-port': { type: 'string' },
        'soon-minutes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    usage((e as Error).message);
  }
  if (v.help) return 'help';
  const soon = Number(v['soon-minutes'] ?? 3);
  if (!Number.isFinite(soon) || soon < 1 || soon > 600) usage('--soon-minutes phải từ 1 đến 600');
  return {
    dataDir: resolve((v['data-dir'] as string | undefined) ?? env.DATA_DIR ?? './data'),
    port: port('--port', (v.port as string | undefined) ?? env.PORT, 8080),
    mqttPort: port('--mqtt-port', (v['mqtt-port'] as string | undefined) ?? env.MQTT_PORT, 1883),
    soonMinutes: soon,
  };
}

const hhmm = (d: Date) =>
  new Intl.DateTimeFormat('vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d);

function readState(
  path: string,
): (DemoState & { admin?: { username: string; oneTimePassword: string } }) | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Seconds between the demo boards' periodic screenshots. */
const DEMO_SCREENSHOT_S = 120;

/**
 * A demo noticeboard's screen: headless Chromium on its kiosk page when Debian's is installed. It
 * has no physical screen to switch on and off, so no screen-power control (a machine with
 * cec-client or wlr-randr installed must not have the demo try them).
 */
function demoDisplay(unitName: string, chromium = existsSync('/usr/bin/chromium')) {
  return {
    port: 0,
    unitName,
    screen: { power: 'none' as const },
    browser: chromium ? { driver: 'chromium', headless: true, width: 1280, height: 720 } : { driver: 'sim' },
    screenshots: { format: 'jpeg', quality: 75, ...(chromium ? { everyS: DEMO_SCREENSHOT_S } : {}) },
  };
}

function demoStations(server: FleetServer, state: DemoState, rootPem: string, dataDir: string): SimStation[] {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const out: SimStation[] = [];
  const profile = LINK_PROFILES['4g-good'] ?? {
    name: 'lan',
    latencyMs: 0,
    jitterMs: 0,
    loss: 0,
    retransmitMs: 0,
  };
  for (const c of DEMO_COMMUNES) {
    const code = c.unit.slice(3);
    const add = (kind: 'station' | 'noticeboard', i: number) => {
      const token = state.tokens.find((t) => t.unit === c.unit && t.kind === kind)?.token;
      if (!token) return;
      const name = kind === 'station' ? `tram-${code}-${i}` : `bang-tin-${code}`;
      out.push(
        new SimStation(
          {
            name,
            kind,
            displayName: kind === 'station' ? `Cụm loa ${i} – ${c.name}` : `Bảng tin điện tử – ${c.name}`,
            server: new URL(server.url),
            mqtt: new URL(server.mqttUrl),
            dataDir: join(dataDir, 'sim', name),
            token,
            rootKeys: [rootPem],
            healthIntervalS: 30,
            profile,
            logLevel: process.env.LOG_LEVEL ?? 'warn',
            // one station of Trung Yên has a faulty amplifier, so the dashboard has an alert to show
            ampFault: kind === 'station' && c.unit === '08/02509' && i === 3,
            ...(kind === 'noticeboard'
              ? { display: demoDisplay(`UBND ${c.name.replace(/^(Xã|Thị trấn)/, (w) => w.toLowerCase())}`) }
              : {}),
          },
          logger,
        ),
      );
    };
    for (let i = 1; i <= c.stations; i++) add('station', i);
    for (let i = 1; i <= c.noticeboards; i++) add('noticeboard', i);
  }
  return out;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const o = parsed;
  // ffmpeg and espeak-ng make the demo's bulletins, ffprobe measures them: say so in one line.
  const missing = missingTools('start');
  if (missing.length > 0) {
    process.stderr.write(`demo: thiếu phần mềm hệ thống (${missingToolsMessage(missing)})\n`);
    return 1;
  }
  const log = (m: string) => process.stdout.write(`[demo] ${m}\n`);
  // an empty dir gets a seeding marker first; an interrupted seed (marker, no state) is redone
  if (prepareDemoDir(o.dataDir) === 'redo')
    log('lần chạy trước bị dừng khi đang tạo dữ liệu demo: xoá phần dở dang và tạo lại từ đầu…');
  const root = loadOrCreateDemoRoot(o.dataDir);
  if (root.created) log(`đã sinh khoá gốc DEMO tại ${root.dir} (CHỈ DÙNG ĐỂ DEMO, không dùng cho tỉnh thật)`);
  let server: FleetServer;
  try {
    server = await startFleetServer({
      config: {
        dataDir: o.dataDir,
        httpPort: o.port,
        mqttPort: o.mqttPort,
        host: '127.0.0.1',
        trustRoots: [rawPublicKey(root.keys.publicKey).toString('base64')],
        // a small district: keep every health report so the device charts fill in within minutes
        healthHistoryEveryS: 0,
      },
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
      plugins: standardPlugins(),
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      process.stderr.write(
        `demo: cổng đang bận (${(e as Error).message}). Chọn cổng khác: PORT=8081 MQTT_PORT=1884 npm start\n`,
      );
      return 1;
    }
    throw e;
  }
  const statePath = join(o.dataDir, 'demo-state.json');
  let state = readState(statePath);
  try {
    if (!state) {
      if (!server.bootstrap) {
        process.stderr.write(
          `demo: ${o.dataDir} đã có dữ liệu máy chủ nhưng không có demo-state.json; hãy dùng một thư mục trống (DATA_DIR=...)\n`,
        );
        await server.stop();
        return 1;
      }
      log('lần chạy đầu: tạo dữ liệu demo…');
      const bootstrap = server.bootstrap;
      const { result, adminOneTimePassword } = await asBootstrapAdmin(server, bootstrap, (admin) =>
        seedDemo(server, admin, root.keys, log),
      );
      state = { ...result, admin: { username: bootstrap.username, oneTimePassword: adminOneTimePassword } };
      writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      finishSeeding(o.dataDir);
    }
  } catch (e) {
    process.stderr.write(`demo: ${isLoaError(e) ? `${e.code}: ${e.message}` : String(e)}\n`);
    await server.stop();
    return 1;
  }

  const stations = demoStations(server, state, root.publicPemPath, o.dataDir);
  const fleet = new SimFleet(
    stations,
    { powerCutsPerHour: 0.2, powerCutSeconds: 20, outagesPerHour: 0, outageSeconds: 30, jitterMs: 2000 },
    seededRandom(8),
    pino({ level: 'warn' }, pino.destination(2)),
  );
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log('đang dừng…');
      await fleet.stop();
      await server.stop();
      log('đã dừng.');
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  log(`khởi động ${stations.length} thiết bị mô phỏng (agent thật, phần cứng mô phỏng)…`);
  await fleet.start();
  const connectedBy = Date.now() + 60_000;
  while (fleet.summary().connected < stations.length && Date.now() < connectedBy)
    await new Promise((r) => setTimeout(r, 500));
  await placeDemoDevices(server);
  await writeDemoBoundaries(o.dataDir);
  try {
    if (!state.programmeAt) {
      log('soạn, ký (biên tập + phê duyệt) và phát hành chương trình hằng ngày 05:30 và 17:00…');
      await publishProgramme(server, state);
      state.programmeAt = new Date().toISOString();
      writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    }
    const soonAt = new Date(Date.now() + o.soonMinutes * 60_000);
    await publishSoon(server, state, soonAt);
    log(`đã phát hành thông báo thử, phát lúc ${hhmm(soonAt)} (giờ Việt Nam)`);
  } catch (e) {
    process.stderr.write(`demo: ${isLoaError(e) ? `${e.code}: ${e.message}` : String(e)}\n`);
    await stop();
    return 1;
  }

  const admin = await server.deps.store.users.byUsername(state.admin?.username ?? 'admin');
  const lines = [
    '',
    '══════════ Loa demo — CHỈ DÙNG ĐỂ DEMO ══════════',
    `Bảng điều khiển:  ${server.url}/`,
    admin?.mustChangePassword && state.admin
      ? `Quản trị:         ${state.admin.username} / ${state.admin.oneTimePassword}  (mật khẩu dùng một lần, đổi khi đăng nhập)`
      : `Quản trị:         ${state.admin?.username ?? 'admin'} (mật khẩu bạn đã đặt)`,
    ...state.users.map((u) => `${u.role.padEnd(17)} ${u.username} / ${u.password}`),
    `Tỉnh demo:        Tuyên Quang (08), ${DEMO_COMMUNES.map((c) => c.name).join(', ')}`,
    `Thiết bị:         ${fleet.summary().running}/${stations.length} đang chạy (12 cụm loa, 2 bảng tin) qua mạng 4G mô phỏng`,
    `Chương trình:     05:30 và 17:00 hằng ngày; thông báo thử sắp phát (xem trang Tổng quan)`,
    `Khoá gốc demo:    ${root.dir}`,
    `MQTT:             ${server.mqttUrl}`,
    'Nhấn Ctrl-C để dừng.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const ticker = setInterval(() => {
    const s = fleet.summary();
    log(
      `thiết bị: ${s.running} chạy, ${s.connected} kết nối, ${s.powerCut} mất điện (đã mất điện ${s.powerCuts} lần)`,
    );
  }, 60_000);
  ticker.unref();
  await new Promise<never>(() => undefined);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
