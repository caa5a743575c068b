/**
 * Dashboard benchmark (not a test). Run:
 *   node --conditions=@loa/source --import tsx scripts/bench/dashboard.ts [--devices 10000] [--runs 15]
 *
 * 1. Fleet page with N devices rendered server-side from its view model (hono/jsx), median ms,
 *    beside a baseline measured in the same run: JSON.stringify of the same view model.
 * 2. The same page served by a real fleet server (store with N devices and their latest health,
 *    session login, GET /ui/fleet over 127.0.0.1), median ms, beside GET /api/v1/devices?limit=1000.
 * 3. Live-update batching: N devices reporting every 30 s for 60 simulated seconds into the
 *    LiveHub; messages, entries and bytes a page receives per second, beside the unbatched
 *    baseline (one message per report), and the render cost of one batch.
 * Goal from issue 5: the fleet page with 10,000 devices renders in ≤ 300 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildFleet,
  type DeviceRecord,
  dashboardPlugin,
  FLEET_PAGE_SIZE,
  type FleetInputs,
  FleetPage,
  fleetLiveView,
  fleetRow,
  type HealthEntry,
  LiveHub,
  type PresenceInfo,
  rowUpdates,
  startFleetServer,
  translator,
  type UiCtx,
  type UnitRecord,
} from '@loa/fleet-server';
import { generateKeyPair, keyId, rawPublicKey, type Timers } from '@loa/protocol';
import { pino } from 'pino';

const { values } = parseArgs({
  options: { devices: { type: 'string', default: '10000' }, runs: { type: 'string', default: '15' } },
});
const N = Number(values.devices);
const RUNS = Number(values.runs);
const NOW = Date.parse('2026-11-26T03:00:00Z');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function timeIt(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(ms(t0));
  }
  return median(out);
}

function fixture(n: number) {
  const at = new Date(NOW).toISOString();
  const units: UnitRecord[] = [
    {
      path: '08',
      code: '08',
      name: 'Tuyên Quang',
      level: 'province',
      parent: null,
      demo: true,
      createdAt: at,
      updatedAt: at,
    },
  ];
  const communes = Math.max(1, Math.round(n / 50));
  for (let i = 0; i < communes; i++) {
    const code = String(20000 + i).padStart(5, '0');
    units.push({
      path: `08/${code}`,
      code,
      name: `Xã Thử Nghiệm ${i + 1}`,
      level: 'commune',
      parent: '08',
      demo: true,
      createdAt: at,
      updatedAt: at,
    });
  }
  const devices: DeviceRecord[] = [];
  const health = new Map<string, HealthEntry>();
  const presence = new Map<string, PresenceInfo>();
  for (let i = 0; i < n; i++) {
    const unit = (units[1 + (i % communes)] as UnitRecord).path;
    const id = `st-${String(i).padStart(6, '0')}`;
    const k = `${i}`.padStart(64, '0');
    devices.push({
      id,
      unit,
      kind: i % 20 === 0 ? 'noticeboard' : 'station',
      name: `Cụm loa số ${i + 1}`,
      status: 'active',
      publicKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      keyId: k,
      mqttPasswordHash: 'x',
      groups: [],
      hardware: { model: 'pi4' },
      location: { lat: 21.5 + (i % 100) / 200, lon: 105.1 + Math.floor(i / 100) / 400 },
      enrolledAt: at,
      updatedAt: at,
    });
    health.set(id, {
      deviceId: id,
      receivedAt: new Date(NOW - (i % 300) * 1000).toISOString(),
      health: {
        at,
        seq: 1,
        agentVersion: '0.1.0',
        uptimeS: 3600,
        inputs: { mains: true, door: 'closed', ampFault: false },
        relays: { amplifier: i % 7 === 0 },
        onAir: i % 7 === 0 ? { itemId: 'ban-tin-sang', kind: 'audio', since: at } : null,
        volume: 80,
        bundles: [{ channel: 'main', id: 'main-v3', version: 3 }],
        clock: { trusted: true, source: 'ntp' },
      },
    });
    presence.set(id, {
      deviceId: id,
      connected: i % 10 !== 0,
      since: NOW - 60_000,
      presence: { state: i % 10 !== 0 ? 'online' : 'offline', boot: 1, conn: 1, at },
    });
  }
  return { units, devices, health, presence };
}

function ctxFor(): UiCtx {
  return {
    lang: 'vi',
    t: translator('vi'),
    user: { id: 'u', username: 'admin', displayName: 'Quản trị', role: 'administrator', scope: ['*'] },
    csrf: 'x',
    path: '/ui/fleet',
    now: NOW,
  };
}

async function renderBench(f: ReturnType<typeof fixture>) {
  const inputs: FleetInputs = {
    devices: f.devices,
    units: new Map(f.units.map((u) => [u.path, u])),
    presence: (id) => f.presence.get(id),
    health: (id) => f.health.get(id),
    openAlerts: new Map(),
  };
  const ctx = ctxFor();
  const size = { all: 0, page: 0 };
  // The page as served by default: counters and map for all N devices, the first 500 rows.
  const page = await timeIt(RUNS, async () => {
    const vm = buildFleet(inputs, {}, { page: 1, size: FLEET_PAGE_SIZE });
    size.page = Buffer.byteLength(
      String(await FleetPage({ ctx, vm, tileUrl: '', liveUrl: '/ui/live/fleet' })),
    );
  });
  // Every one of the N rows in one page (?size=10000).
  const all = await timeIt(RUNS, async () => {
    const vm = buildFleet(inputs, {}, { page: 1, size: N });
    size.all = Buffer.byteLength(
      String(await FleetPage({ ctx, vm, tileUrl: '', liveUrl: '/ui/live/fleet' })),
    );
  });
  const vm = buildFleet(inputs, {}, { page: 1, size: N });
  const buildOnly = await timeIt(RUNS, () => buildFleet(inputs, {}, { page: 1, size: N }));
  const json = await timeIt(RUNS, () => JSON.stringify(vm));
  return { inputs, ctx, page, all, buildOnly, json, size, jsonBytes: Buffer.byteLength(JSON.stringify(vm)) };
}

async function serverBench(f: ReturnType<typeof fixture>) {
  const dir = await mkdtemp(join(tmpdir(), 'loa-bench-ui-'));
  const server = await startFleetServer({
    config: { httpPort: 0, mqttPort: 0, dataDir: dir, host: '127.0.0.1' },
    logger: pino({ level: 'silent' }),
    plugins: [dashboardPlugin()],
  });
  try {
    const { store } = server.deps;
    await store.units.putMany(f.units);
    for (const d of f.devices) {
      const kp = generateKeyPair();
      await store.devices.insert({
        ...d,
        publicKey: rawPublicKey(kp.publicKey).toString('base64'),
        keyId: keyId(kp.publicKey),
      });
    }
    for (const h of f.health.values()) await store.health.append(h);
    await store.flush();
    const boot = server.bootstrap;
    if (!boot) throw new Error('no bootstrap admin');
    const login = async (password: string) => {
      const r = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: boot.username, password }),
      });
      const cookie = (r.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
      return { cookie, csrf: ((await r.json()) as { csrf?: string }).csrf ?? '' };
    };
    let s = await login(boot.password);
    await fetch(`${server.url}/api/v1/auth/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf },
      body: JSON.stringify({ currentPassword: boot.password, newPassword: 'Bench-mark-2026!' }),
    });
    s = await login('Bench-mark-2026!');
    const bytes = { page: 0, all: 0 };
    const get = async (path: string, key: 'page' | 'all') => {
      const r = await fetch(`${server.url}${path}`, { headers: { cookie: s.cookie } });
      if (r.status !== 200) throw new Error(`GET ${path} ${r.status}`);
      bytes[key] = (await r.arrayBuffer()).byteLength;
    };
    const page = await timeIt(RUNS, () => get('/ui/fleet', 'page'));
    const all = await timeIt(RUNS, () => get(`/ui/fleet?size=${N}`, 'all'));
    const map = await timeIt(RUNS, async () => {
      const r = await fetch(`${server.url}/ui/fleet/map.json`, { headers: { cookie: s.cookie } });
      await r.arrayBuffer();
    });
    const api = await timeIt(RUNS, async () => {
      const r = await fetch(`${server.url}/api/v1/devices?limit=1000`, { headers: { cookie: s.cookie } });
      if (r.status !== 200) throw new Error(`GET /api/v1/devices ${r.status}`);
      await r.arrayBuffer();
    });
    // The real fleet live view (store + presence + alerts), one batch of 333 dirty devices.
    const admin = await server.deps.store.users.byUsername(boot.username);
    if (!admin) throw new Error('no admin');
    const user = { ...server.deps.auth.toAuthUser(admin, 'session'), scope: ['*'] };
    const ui = { deps: server.deps, api: server.app.fetch, hub: new LiveHub(), tileUrl: '' };
    const shown = new Set(f.devices.slice(0, FLEET_PAGE_SIZE).map((d) => d.id));
    const view = fleetLiveView(ui, user, ctxFor(), shown);
    const dirty = {
      devices: new Set(f.devices.filter((_, i) => i % 30 === 0).map((d) => d.id)),
      topics: new Set<string>(),
    };
    const liveRender = await timeIt(RUNS, () => view.render(dirty));
    const liveRenderCold = await timeIt(RUNS, () => fleetLiveView(ui, user, ctxFor(), shown).render(dirty));
    return { page, all, map, bytes, api, liveRender, liveRenderCold };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function liveBench(inputs: FleetInputs, ctx: UiCtx) {
  let tick: (() => void) | undefined;
  const timers: Timers = {
    setTimeout: (fn) => {
      tick = fn;
      return 1;
    },
    clearTimeout: () => {
      tick = undefined;
    },
  };
  const hub = new LiveHub({ timers });
  hub.start();
  const byId = new Map(inputs.devices.map((d) => [d.id, d]));
  const renderMs: number[] = [];
  hub.connect(
    {
      wantsDevice: () => true,
      wantsTopic: () => false,
      render: (dirty) => {
        const t0 = process.hrtime.bigint();
        const set = {};
        for (const id of dirty.devices) {
          const d = byId.get(id);
          if (d) Object.assign(set, rowUpdates(ctx, fleetRow(d, inputs)));
        }
        renderMs.push(ms(t0));
        return set;
      },
    },
    () => {},
  );
  // Each device reports every 30 s at its own phase; health carries presence changes too.
  const seconds = 60;
  let reports = 0;
  for (let s = 0; s < seconds; s++) {
    for (let i = s % 30; i < inputs.devices.length; i += 30) {
      hub.markDevice((inputs.devices[i] as DeviceRecord).id);
      reports++;
    }
    tick?.();
    await hub.flush();
  }
  hub.stop();
  const st = hub.stats();
  return {
    reportsPerSecond: reports / seconds,
    messagesPerSecond: st.messages / seconds,
    entriesPerMessage: st.entries / Math.max(1, st.messages),
    bytesPerSecond: st.bytes / seconds,
    renderMsPerBatch: median(renderMs),
    unbatchedMessagesPerSecond: reports / seconds,
  };
}

const f = fixture(N);
const r = await renderBench(f);
const srv = await serverBench(f);
const live = await liveBench(r.inputs, r.ctx);
const out = {
  devices: N,
  runs: RUNS,
  node: process.version,
  loadavg1: r1(loadavg()[0] ?? 0),
  fleetPage: {
    defaultPageMedianMs: r1(r.page),
    defaultPageRows: Math.min(N, FLEET_PAGE_SIZE),
    defaultPageBytes: r.size.page,
    allRowsMedianMs: r1(r.all),
    allRowsBytes: r.size.all,
    buildViewModelMedianMs: r1(r.buildOnly),
    baselineJsonStringifyMedianMs: r1(r.json),
    jsonBytes: r.jsonBytes,
    goalMs: 300,
  },
  fleetPageOverHttp: {
    getUiFleetMedianMs: r1(srv.page),
    getUiFleetBytes: srv.bytes.page,
    getUiFleetAllRowsMedianMs: r1(srv.all),
    getUiFleetAllRowsBytes: srv.bytes.all,
    getMapJsonMedianMs: r1(srv.map),
    baselineGetApiDevices1000MedianMs: r1(srv.api),
    liveFleetViewRenderPerBatchMedianMs: r1(srv.liveRender),
    liveFleetViewRenderColdMedianMs: r1(srv.liveRenderCold),
  },
  liveUpdates: {
    reportsPerSecond: r1(live.reportsPerSecond),
    unbatchedMessagesPerSecond: r1(live.unbatchedMessagesPerSecond),
    batchedMessagesPerSecond: r1(live.messagesPerSecond),
    devicesPerMessage: r1(live.entriesPerMessage / 4),
    bytesPerSecond: Math.round(live.bytesPerSecond),
    renderMsPerBatch: r1(live.renderMsPerBatch),
  },
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
process.exit(0);
