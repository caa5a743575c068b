/**
 * The quick-start demo's province in this process, for dashboard tests that must see what an
 * operator sees on `npm start`: the fleet server (file store, embedded aedes, content services,
 * dashboard) seeded by the demo's own seeding code (units, editor/approver/operator with
 * server-held keys under the demo root, spoken bulletins transcoded by ffmpeg, enrolment tokens),
 * and a chosen few of the demo's devices as REAL agents over simulated hardware
 * (scripts/src/sim/station.ts), plus headless Chromium.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FleetServer, standardPlugins, startFleetServer } from '@loa/fleet-server';
import { rawPublicKey } from '@loa/protocol';
import { pino } from 'pino';
import { type Browser as Chromium, chromium, type Page } from 'playwright-core';
import { writeDemoBoundaries } from '../../../scripts/src/demo/boundaries.js';
import { loadOrCreateDemoRoot } from '../../../scripts/src/demo/keys.js';
import {
  DEMO_COMMUNES,
  type DemoState,
  placeDemoDevices,
  publishBundle,
  seedDemo,
} from '../../../scripts/src/demo/seed.js';
import { apiAsUser, asBootstrapAdmin } from '../../../scripts/src/sim/provision.js';
import { SimStation } from '../../../scripts/src/sim/station.js';

export interface DemoDevice {
  unit: string;
  kind: 'station' | 'noticeboard';
  index: number;
  /** A noticeboard's screen: the agent config's `display` section (absent: no screen). */
  display?: Record<string, unknown>;
}

export interface DemoProvince {
  server: FleetServer;
  state: DemoState;
  /** The first administrator and the one-time password to change at first login. */
  admin: { username: string; password: string };
  devices: SimStation[];
  chrome: Chromium;
  password(username: string): string;
  /** Draft → submit → approve → publish, as the demo's editor and approver. */
  publish(draft: unknown): Promise<string>;
  /** A programme of the demo's editor, submitted and waiting for approval. */
  publishDraftOnly(): Promise<string>;
  close(): Promise<void>;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function startDemoProvince(opts: {
  devices: DemoDevice[];
  /** Health report interval of the agents (the demo uses 30 s). */
  healthIntervalS?: number;
  liveIntervalMs?: number;
}): Promise<DemoProvince> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-demo-ui-'));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const root = loadOrCreateDemoRoot(dir);
  const server = await startFleetServer({
    config: {
      dataDir: join(dir, 'server'),
      httpPort: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      trustRoots: [rawPublicKey(root.keys.publicKey).toString('base64')],
      healthHistoryEveryS: 0,
      loginMaxAttempts: 50,
    },
    logger,
    // Composed as `npm start` composes it: the dashboard is handed the content services, whose
    // events (emergency progress among them) drive its live updates.
    plugins: standardPlugins({ dashboard: { liveIntervalMs: opts.liveIntervalMs ?? 300 } }),
  });
  const boot = server.bootstrap;
  if (!boot) throw new Error('no bootstrap administrator');
  const { result: state, adminOneTimePassword } = await asBootstrapAdmin(server, boot, (admin) =>
    seedDemo(server, admin, root.keys, () => undefined),
  );
  const devices: SimStation[] = [];
  for (const d of opts.devices) {
    const c = DEMO_COMMUNES.find((x) => x.unit === d.unit);
    const token = state.tokens.find((t) => t.unit === d.unit && t.kind === d.kind)?.token;
    if (!c || !token) throw new Error(`no demo token for ${d.kind} in ${d.unit}`);
    const code = d.unit.slice(3);
    const name = d.kind === 'station' ? `tram-${code}-${d.index}` : `bang-tin-${code}`;
    devices.push(
      new SimStation(
        {
          name,
          kind: d.kind,
          displayName:
            d.kind === 'station' ? `Cụm loa ${d.index} – ${c.name}` : `Bảng tin điện tử – ${c.name}`,
          server: new URL(server.url),
          mqtt: new URL(server.mqttUrl),
          dataDir: join(dir, 'sim', name),
          token,
          rootKeys: [root.publicPemPath],
          healthIntervalS: opts.healthIntervalS ?? 30,
          warmupMs: 300,
          logLevel: process.env.LOG_LEVEL ?? 'silent',
          ampFault: false,
          ...(d.display ? { display: d.display } : {}),
        },
        logger,
      ),
    );
  }
  for (const d of devices) await d.start();
  const until = Date.now() + 60_000;
  while (devices.some((d) => !d.runtime?.link()?.connected) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 200));
  await placeDemoDevices(server);
  await writeDemoBoundaries(join(dir, 'server'));
  const chrome = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    server,
    state,
    admin: { username: boot.username, password: adminOneTimePassword },
    devices,
    chrome,
    password(username) {
      const u = state.users.find((x) => x.username === username);
      if (!u) throw new Error(`no demo user ${username}`);
      return u.password;
    },
    async publish(draft) {
      return publishBundle(
        await apiAsUser(server, 'bientap', 1),
        await apiAsUser(server, 'pheduyet', 1),
        draft,
      );
    },
    async publishDraftOnly() {
      const editor = await apiAsUser(server, 'bientap', 1);
      const b = await editor.post<{ id: string }>('/bundles', {
        channel: 'tan-trao',
        description: 'Thông báo lịch tiêm phòng cúm gia cầm',
        targets: [{ unit: '08/02503' }],
        items: [
          { content: state.content['lich-tiem'], id: 'lich-tiem', title: 'Lịch tiêm chủng tháng này' },
          { content: state.content['ban-tin-chieu'], id: 'ban-tin-chieu', title: 'Bản tin chiều' },
        ],
        schedule: [
          { id: 'sang', items: ['ban-tin-chieu'], rule: { type: 'daily', times: ['06:15'] } },
          { id: 'bang-tin', items: ['lich-tiem'], rule: { type: 'daily', times: ['07:00'] } },
        ],
      });
      await editor.post(`/bundles/${b.id}/submit`, { sign: true });
      return b.id;
    },
    async close() {
      await chrome.close().catch(() => undefined);
      for (const d of devices) await d.stop().catch(() => undefined);
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the dashboard's form. */
export async function login(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/ui/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
}
