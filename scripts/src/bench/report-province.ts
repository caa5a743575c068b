/**
 * A generated province for the report benchmark, in the real file store's formats: the registry
 * (units, devices, the bundle) through the store, and the proof and presence streams as the
 * segment files a year of running leaves (one NDJSON file per UTC day, the lines the segment log
 * writes: `JSON.stringify` of each entry), written directly so that a year of 10,000 devices takes
 * minutes: communes of stations and noticeboards, a daily programme (a priority bulletin at 05:30
 * and news at 17:00 for the loudspeakers, a notice for the screens), proofs (2 per device and day,
 * some missed or failed), and presence (server start/alive marks each minute, a restart a month,
 * station outages short and long).
 *
 * Proof lines have the shape and size of real signed proofs: one real Ed25519 signature is made
 * per device and reused (the report reads proofs ingest already verified; it never re-verifies).
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  type BundleRecord,
  createFileStore,
  type DeviceRecord,
  type PresenceEntry,
  type ProofEntry,
  REPORT_SERVICE_DEFAULTS,
  ReportService,
  type Store,
  type UnitRecord,
} from '@loa/fleet-server';
import { addSignature, generateKeyPair, type Manifest, type Proof, type ProofBody } from '@loa/protocol';

export interface ProvinceSize {
  communes: number;
  devicesPerCommune: number;
  days: number;
}

const DAY = 86_400_000;
/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vnDay = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);

export interface GeneratedProvince {
  store: Store;
  clock: { t: number; now(): number };
  firstDay: string;
  lastDay: string;
  communes: string[];
  devices: number;
  proofs: number;
  presence: number;
  bytes: number;
}

/** The generated province's store: a retention long enough that nothing generated is pruned. */
function provinceStore(dataDir: string, now: () => number) {
  return createFileStore({ dataDir, now, retentionDays: 3650, registryFlushMs: 200, healthFsyncMs: 1000 });
}

export async function generateProvince(
  dataDir: string,
  size: ProvinceSize,
  log: (m: string) => void,
): Promise<GeneratedProvince> {
  const start = Date.parse('2026-01-01T00:00:00+07:00');
  const clock = { t: start - 3600_000, now: () => clock.t };
  // the store's own segment files are those of the day after the generated span (the streams' past days are written below)
  const end = start + size.days * DAY + 9 * 3600_000;
  // the streams are appended to: over files left by another size or an interrupted run, every
  // line would be there twice
  const present = await fsp.readdir(dataDir).catch(() => []);
  if (present.length > 0)
    throw new Error(
      `${dataDir} is not empty and holds no province of this size (another size, or a generation that did not finish): remove it or choose an empty directory`,
    );
  const store = provinceStore(dataDir, clock.now);
  const iso = new Date(clock.t).toISOString();
  clock.t = end;
  await store.start();
  const units: UnitRecord[] = [
    {
      path: '08',
      code: '08',
      name: 'Tỉnh Tuyên Quang',
      level: 'province',
      parent: null,
      createdAt: iso,
      updatedAt: iso,
    },
  ];
  const communes: string[] = [];
  for (let c = 0; c < size.communes; c++) {
    const code = String(10_000 + c * 3).padStart(5, '0');
    communes.push(`08/${code}`);
    units.push({
      path: `08/${code}`,
      code,
      name: `Xã Số ${c + 1}`,
      level: 'commune',
      parent: '08',
      createdAt: iso,
      updatedAt: iso,
    });
  }
  await store.units.putMany(units);
  const devices: DeviceRecord[] = [];
  for (const u of communes)
    for (let i = 0; i < size.devicesPerCommune; i++) {
      const board = i % 10 === 9;
      const id = `${board ? 'bt' : 'st'}-${u.slice(3)}-${String(i).padStart(3, '0')}`;
      devices.push({
        id,
        unit: u,
        kind: board ? 'noticeboard' : 'station',
        name: `${board ? 'Bảng tin' : 'Cụm loa'} ${i + 1}`,
        status: 'active',
        publicKey: 'k',
        keyId: `k-${id}`,
        mqttPasswordHash: 'h',
        groups: [],
        hardware: {},
        enrolledAt: iso,
        approvedAt: iso,
        updatedAt: iso,
      });
    }
  for (const d of devices) await store.devices.put(d);
  await store.flush();
  const manifest: Manifest = {
    type: 'loa-bundle',
    format: 1,
    id: 'tinh-v1',
    channel: 'tinh',
    version: 1,
    created: new Date(start - DAY).toISOString(),
    expires: new Date(start + 400 * DAY).toISOString(),
    targets: [{ unit: '08' }],
    items: [
      {
        id: 'sang',
        title: 'Bản tin sáng',
        kind: 'audio',
        priority: 'priority',
        lang: 'vi',
        category: 'news',
        durationMs: 900_000,
        blob: { sha256: 'a'.repeat(64), size: 1, mediaType: 'audio/ogg' },
      },
      {
        id: 'chieu',
        title: 'Bản tin nông nghiệp',
        kind: 'audio',
        priority: 'normal',
        lang: 'vi',
        category: 'agriculture',
        durationMs: 600_000,
        blob: { sha256: 'b'.repeat(64), size: 1, mediaType: 'audio/ogg' },
      },
      {
        id: 'tb',
        title: 'Thông báo',
        kind: 'text',
        priority: 'normal',
        lang: 'vi',
        category: 'announcement',
        text: 'Thông báo của UBND',
      },
    ],
    schedule: [
      { id: 's1', items: ['sang', 'tb'], rule: { type: 'daily', times: ['05:30'] } },
      { id: 's2', items: ['chieu', 'tb'], rule: { type: 'daily', times: ['17:00'] } },
    ],
    signatures: [],
  };
  const bundle: BundleRecord = {
    id: 'tinh-v1',
    channel: 'tinh',
    version: 1,
    state: 'published',
    manifest,
    units: ['08'],
    createdBy: 'bench',
    createdAt: iso,
    updatedAt: iso,
    publishedAt: iso,
  };
  await store.bundles.put(bundle);

  // one real signature per device, reused (same bytes as a signed proof)
  const sigs = new Map<string, Proof['signatures']>();
  const body0 = (deviceId: string): ProofBody => ({
    type: 'loa-proof',
    format: 1,
    eventId: randomUUID(),
    deviceId,
    seq: 1,
    prev: '0'.repeat(64),
    relays: { amplifier: true },
    clockTrusted: true,
    at: iso,
    outcome: 'completed',
  });
  for (const d of devices) {
    const k = generateKeyPair();
    sigs.set(d.id, (addSignature(body0(d.id), k.privateKey) as Proof).signatures);
  }
  const seq = new Map<string, number>();
  const rand = rng(42);
  let proofs = 0;
  let presence = 0;
  let bytes = 0;
  // lines of a stream per UTC day, appended to that day's segment file as the day is left
  const out = (stream: string) => {
    let day = '';
    let lines: string[] = [];
    const flush = async () => {
      if (lines.length === 0) return;
      const text = lines.join('');
      bytes += Buffer.byteLength(text);
      await fsp.appendFile(join(dataDir, stream, `${day}.ndjson`), text);
      lines = [];
    };
    return {
      async add(atIso: string, entry: unknown) {
        const d = atIso.slice(0, 10);
        if (d !== day) {
          await flush();
          day = d;
        }
        lines.push(`${JSON.stringify(entry)}\n`);
        if (lines.length >= 20_000) await flush();
      },
      flush,
    };
  };
  const proofOut = out('proofs');
  const presenceOut = out('presence');
  let carried: PresenceEntry[] = [];
  const pres = async (entries: readonly PresenceEntry[]) => {
    for (const e of entries) await presenceOut.add(e.at, e);
    presence += entries.length;
  };
  await pres([{ at: new Date(start - 3600_000).toISOString(), event: 'server-start' }]);
  await pres(
    devices.map((d) => ({
      at: new Date(start - 3590_000).toISOString(),
      event: 'connect' as const,
      deviceId: d.id,
    })),
  );
  for (let day = 0; day < size.days; day++) {
    const d0 = start + day * DAY;
    // presence of the day: outages (≈ 1 station in 40 a day; most short, some hours long), alive marks, a monthly restart
    const events: PresenceEntry[] = [];
    for (let m = 0; m < 1440; m++)
      events.push({ at: new Date(d0 + m * 60_000).toISOString(), event: 'server-alive' });
    for (const d of devices) {
      if (rand() < 0.025) {
        const t = d0 + Math.floor(rand() * DAY * 0.9);
        const len = rand() < 0.7 ? 30_000 + rand() * 300_000 : 3600_000 + rand() * 8 * 3600_000;
        events.push({ at: new Date(t).toISOString(), event: 'disconnect', deviceId: d.id });
        events.push({ at: new Date(t + len).toISOString(), event: 'connect', deviceId: d.id });
      }
    }
    if (day % 30 === 15) {
      const t = d0 + 2 * 3600_000;
      events.push({ at: new Date(t).toISOString(), event: 'server-stop' });
      events.push({ at: new Date(t + 120_000).toISOString(), event: 'server-start' });
      for (const d of devices)
        events.push({ at: new Date(t + 125_000).toISOString(), event: 'connect', deviceId: d.id });
    }
    const all = [...carried, ...events].sort((a, b) => a.at.localeCompare(b.at));
    const endIso = new Date(d0 + DAY).toISOString();
    carried = all.filter((e) => e.at >= endIso);
    const today = all.filter((e) => e.at < endIso);
    // proofs: each slot on each device, received right after it; everything written in time order
    let written = 0;
    for (const [slot, item, hh] of [
      ['s1', 'sang', '05:30'],
      ['s2', 'chieu', '17:00'],
    ] as const) {
      const at = Date.parse(`${vnDay(d0)}T${hh}:00+07:00`);
      const received = new Date(at + 901_000).toISOString();
      const before = today.filter((e) => e.at < received);
      await pres(before.slice(written));
      written = before.length;
      for (const d of devices) {
        const r = rand();
        if (r < 0.03) continue; // missed
        const board = d.kind === 'noticeboard';
        const n = (seq.get(d.id) ?? 0) + 1;
        seq.set(d.id, n);
        const failed = r > 0.995;
        const proof: Proof = {
          type: 'loa-proof',
          format: 1,
          eventId: randomUUID(),
          deviceId: d.id,
          seq: n,
          prev: 'c'.repeat(64),
          ...(board ? { kind: 'display' as const } : {}),
          bundleId: 'tinh-v1',
          channel: 'tinh',
          bundleVersion: 1,
          itemId: board ? 'tb' : item,
          entryId: slot,
          contentSha256: 'a'.repeat(64),
          priority: board || item === 'chieu' ? 'normal' : 'priority',
          scheduledAt: new Date(at).toISOString(),
          startedAt: new Date(at + 1200).toISOString(),
          ...(board ? {} : { endedAt: new Date(at + (item === 'sang' ? 900_000 : 600_000)).toISOString() }),
          outcome: failed ? 'failed' : board ? 'started' : 'completed',
          ...(board ? {} : { loudnessLufs: -16 - rand(), peakDbfs: -1.5 }),
          relays: { amplifier: !board },
          clockTrusted: true,
          at: new Date(at + 900_000).toISOString(),
          signatures: sigs.get(d.id) as Proof['signatures'],
        };
        const entry: ProofEntry = { deviceId: d.id, receivedAt: received, hash: 'd'.repeat(64), proof };
        await proofOut.add(received, entry);
        proofs++;
      }
    }
    await pres(today.slice(written));
    if (day % 30 === 29) log(`generated ${day + 1} days, ${proofs} proofs, ${presence} presence events`);
  }
  await proofOut.flush();
  await presenceOut.flush();
  clock.t = end;
  const made = {
    firstDay: vnDay(start),
    lastDay: vnDay(start + (size.days - 1) * DAY),
    communes,
    devices: devices.length,
    proofs,
    presence,
    bytes,
  };
  await store.flush();
  await fsp.writeFile(join(dataDir, GENERATED_FILE), JSON.stringify({ size, endMs: end, ...made }));
  return { store, clock, ...made };
}

/** What the generator leaves in its directory besides the store's files, to open it again. */
const GENERATED_FILE = 'generated-province.json';

/**
 * A province generated before into `dataDir` with this size, opened again (null when the directory
 * holds no province of that size): a large province is generated once and measured many times.
 */
export async function openProvince(dataDir: string, size: ProvinceSize): Promise<GeneratedProvince | null> {
  const text = await fsp.readFile(join(dataDir, GENERATED_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  const g = JSON.parse(text) as Omit<GeneratedProvince, 'store' | 'clock'> & {
    size: ProvinceSize;
    endMs: number;
  };
  if (
    g.size.communes !== size.communes ||
    g.size.devicesPerCommune !== size.devicesPerCommune ||
    g.size.days !== size.days
  )
    return null;
  const clock = { t: g.endMs, now: () => clock.t };
  const store = provinceStore(dataDir, clock.now);
  await store.start();
  const { size: _size, endMs: _end, ...rest } = g;
  return { store, clock, ...rest };
}

/**
 * The baseline: read and parse every proof and presence line of the period, nothing else (one query
 * per UTC day, the days of the segment files: each line is read once).
 */
export async function rawScan(
  store: Store,
  firstDay: string,
  lastDay: string,
): Promise<{ lines: number; ms: number }> {
  const t = performance.now();
  let lines = 0;
  // the Vietnamese days run from 17:00 UTC the day before
  const a = Date.parse(`${firstDay}T00:00:00Z`) - DAY;
  const b = Date.parse(`${lastDay}T00:00:00Z`) + DAY;
  for (let d = a; d < b; d += DAY) {
    const q = {
      from: new Date(d).toISOString(),
      to: new Date(d + DAY - 1).toISOString(),
      limit: Number.MAX_SAFE_INTEGER,
    };
    lines += (await store.proofs.query(q)).length + (await store.presence.query(q)).length;
  }
  return { lines, ms: performance.now() - t };
}

export { ReportService };

export interface ReportFigures {
  rawScanMs: number;
  rawLines: number;
  /** Rollups built from the raw streams up to the day before the last (from scratch), then the last day as it closed. */
  rollupScratchMs: number;
  rollupIngestDayMs: number;
  rollupBytes: number;
  rollupFiles: number;
  /** Medians over the repeats: first call on a new report service (nothing in memory), then the same call again. */
  communeQuarterFirstMs: number;
  communeQuarterCachedMs: number;
  provinceYearFirstMs: number;
  provinceYearCachedMs: number;
  /** The province report's first call reading every device's figures (no part totals). */
  provinceYearDevicesMs: number;
  /** CPU time of the benchmark's process (user + system, all its threads) of the same steps. */
  cpu: {
    rawScanMs: number;
    rollupScratchMs: number;
    provinceYearFirstMs: number;
    provinceYearDevicesMs: number;
  };
  /** The 1-minute load average seen between the steps (lowest, highest). */
  loadRange: [number, number];
  repeats: { commune: number; province: number };
  /** The same commune-quarter report from the raw streams (before the rollups), cold; only where run. */
  communeQuarterRawSourceMs: number | null;
  heapMb: number;
  check: { planned: number; played: number; uptime: number | null };
  /** The province report from the raw streams on its fold cache unbounded (baseline) and bounded; only where run. */
  cache: { unbounded: CacheRun; bounded: CacheRun; boundBytes: number } | null;
  /** Plays of the province over the quarter, page after page: with the cursor, and as before (from the period's start). */
  plays: { pages: number; pageLines: number; lines: number; cursorMs: number; fromStartMs: number } | null;
}

export interface CacheRun {
  /** Heap retained by the service after a cold and a warm province report (after a full GC). */
  heapMb: number;
  /** What the cache says it holds (its own estimate). */
  estimatedMb: number;
  entries: number;
  evictions: number;
  refused: number;
  coldMs: number;
  warmMs: number;
}

/** A full garbage collection (the flag is set at run time: no --expose-gc needed on the command line). */
function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2;
};

async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      const r = await dirBytes(path);
      bytes += r.bytes;
      files += r.files;
    } else {
      bytes += (await fsp.stat(path)).size;
      files++;
    }
  }
  return { bytes, files };
}

/** Times the reports on a generated province beside a raw scan of the same data. */
export async function measureReports(
  p: GeneratedProvince,
  dataDir: string,
  periodOf: (from: string, to: string) => import('@loa/fleet-server').Period,
  log: (m: string) => void,
  opts: {
    /** Also run the measurements of the raw-stream path's fold cache and plays paging. */
    extras: boolean;
    /** Also time the commune-quarter report from the raw streams (the path the rollups replace). */
    rawSource: boolean;
    repeats: { commune: number; province: number };
    cacheMaxBytes?: number;
  },
): Promise<ReportFigures> {
  // CPU time of this process beside wall time (on a shared machine the wall time is mostly queueing)
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const load = () => loadavg()[0] as number;
  const loads: number[] = [load()];
  const rawCpu0 = cpuNow();
  const raw = await rawScan(p.store, p.firstDay, p.lastDay);
  const rawCpuMs = cpuNow() - rawCpu0;
  loads.push(load());
  log(
    `raw scan: ${raw.lines} lines in ${Math.round(raw.ms)} ms (CPU ${Math.round(rawCpuMs)} ms, load ${loads.at(-1)?.toFixed(1)})`,
  );
  const time = async <T>(fn: () => Promise<T>) => {
    const t = performance.now();
    const c = cpuNow();
    const r = await fn();
    loads.push(load());
    return { r, ms: performance.now() - t, cpuMs: cpuNow() - c };
  };
  // rollups: from scratch up to the day before the last, then the last day as it closes (what a running server does each night)
  const end = p.clock.t;
  const builder = new ReportService({ store: p.store, clock: p.clock });
  p.clock.t = end - DAY;
  const scratch = await time(() => builder.rollups.rebuild());
  p.clock.t = end;
  const ingest = await time(() => builder.catchUpRollups());
  const rolled = await dirBytes(join(dataDir, 'rollups'));
  log(
    `rollups: from scratch ${Math.round(scratch.ms)} ms (CPU ${Math.round(scratch.cpuMs)} ms, load ${loads.at(-1)?.toFixed(1)}; ${scratch.r.proofWindows} windows, ${scratch.r.presenceDays} days), ` +
      `the last day as it closed ${Math.round(ingest.ms)} ms; ${rolled.files} files, ${Math.round(rolled.bytes / 1048576)} MiB`,
  );
  const whole = periodOf(p.firstDay, p.lastDay);
  const quarterEnd = new Date(Date.parse(`${p.firstDay}T00:00:00Z`) + 89 * DAY).toISOString().slice(0, 10);
  const quarter = periodOf(p.firstDay, quarterEnd < p.lastDay ? quarterEnd : p.lastDay);
  const commune = p.communes[0] as string;
  const cq = { unit: commune, period: quarter };
  const py = { unit: '08', period: whole, groupBy: 'children' as const, daily: false };
  // first calls: a new report service each time (nothing of the rollups in memory)
  const firstQ: number[] = [];
  let svcQ = new ReportService({ store: p.store, clock: p.clock });
  for (let i = 0; i < opts.repeats.commune; i++) {
    svcQ = new ReportService({ store: p.store, clock: p.clock });
    firstQ.push((await time(() => svcQ.effectiveness(cq))).ms);
  }
  const cachedQ: number[] = [];
  for (let i = 0; i < opts.repeats.commune; i++) cachedQ.push((await time(() => svcQ.effectiveness(cq))).ms);
  log(`commune-quarter: first ${Math.round(median(firstQ))} ms, cached ${Math.round(median(cachedQ))} ms`);
  const firstY: number[] = [];
  const firstYCpu: number[] = [];
  let svcY = new ReportService({ store: p.store, clock: p.clock });
  let year: Awaited<ReturnType<ReportService['effectiveness']>> | null = null;
  for (let i = 0; i < opts.repeats.province; i++) {
    svcY = new ReportService({ store: p.store, clock: p.clock });
    const r = await time(() => svcY.effectiveness(py));
    year = r.r;
    firstY.push(r.ms);
    firstYCpu.push(r.cpuMs);
  }
  const cachedY: number[] = [];
  for (let i = 0; i < opts.repeats.province; i++) cachedY.push((await time(() => svcY.effectiveness(py))).ms);
  log(
    `province-year: first ${Math.round(median(firstY))} ms (CPU ${Math.round(median(firstYCpu))} ms, load ${loads.at(-1)?.toFixed(1)}), cached ${Math.round(median(cachedY))} ms`,
  );
  // the same first call reading every device's figures of every day (the report before the part totals)
  const devicesY: number[] = [];
  const devicesYCpu: number[] = [];
  for (let i = 0; i < opts.repeats.province; i++) {
    const svc = new ReportService({ store: p.store, clock: p.clock, partTotals: false });
    const r = await time(() => svc.effectiveness(py));
    if (JSON.stringify(r.r) !== JSON.stringify(year))
      throw new Error('the province report from the part totals differs from the one from the devices');
    devicesY.push(r.ms);
    devicesYCpu.push(r.cpuMs);
  }
  log(
    `province-year from every device's figures: first ${Math.round(median(devicesY))} ms (CPU ${Math.round(median(devicesYCpu))} ms, load ${loads.at(-1)?.toFixed(1)}; same figures)`,
  );
  const heapMb = process.memoryUsage().heapUsed / 1048576;
  const y = year as NonNullable<typeof year>;
  const base = {
    rawScanMs: raw.ms,
    rawLines: raw.lines,
    rollupScratchMs: scratch.ms,
    rollupIngestDayMs: ingest.ms,
    rollupBytes: rolled.bytes,
    rollupFiles: rolled.files,
    communeQuarterFirstMs: median(firstQ),
    communeQuarterCachedMs: median(cachedQ),
    provinceYearFirstMs: median(firstY),
    provinceYearCachedMs: median(cachedY),
    provinceYearDevicesMs: median(devicesY),
    cpu: {
      rawScanMs: rawCpuMs,
      rollupScratchMs: scratch.cpuMs,
      provinceYearFirstMs: median(firstYCpu),
      provinceYearDevicesMs: median(devicesYCpu),
    },
    loadRange: [Math.min(...loads), Math.max(...loads)] as [number, number],
    repeats: opts.repeats,
    heapMb,
    check: { planned: y.totals.audio.planned, played: y.totals.audio.done, uptime: y.totals.uptime.uptime },
  };
  if (!opts.rawSource && !opts.extras)
    return { ...base, communeQuarterRawSourceMs: null, cache: null, plays: null };
  // the same commune-quarter from the raw streams (the report before the rollups), cold
  const rawSvc = new ReportService({ store: p.store, clock: p.clock, source: 'raw' });
  const rq = await time(() => rawSvc.effectiveness(cq));
  const fromRollups = await new ReportService({ store: p.store, clock: p.clock }).effectiveness(cq);
  if (JSON.stringify(rq.r) !== JSON.stringify(fromRollups))
    throw new Error('the commune report from the rollups differs from the one from the raw streams');
  log(`commune-quarter from the raw streams: ${Math.round(rq.ms)} ms (same figures)`);
  if (!opts.extras) return { ...base, communeQuarterRawSourceMs: rq.ms, cache: null, plays: null };
  return {
    ...base,
    communeQuarterRawSourceMs: rq.ms,
    ...(await legacyExtras(p, quarter, whole, log, opts.cacheMaxBytes)),
  };
}

/** The fold cache of the raw-stream path and the plays pages (measured at the default size). */
async function legacyExtras(
  p: GeneratedProvince,
  quarter: import('@loa/fleet-server').Period,
  whole: import('@loa/fleet-server').Period,
  log: (m: string) => void,
  cacheMaxBytes: number | undefined,
): Promise<Pick<ReportFigures, 'cache' | 'plays'>> {
  const time = async <T>(fn: () => Promise<T>) => {
    const t = performance.now();
    const r = await fn();
    return { r, ms: performance.now() - t };
  };
  const svc = new ReportService({ store: p.store, clock: p.clock });
  // the fold cache: the same province report on a service with the cache unbounded, then bounded
  const gc = fullGc();
  const cacheRun = async (cacheMaxBytes: number): Promise<CacheRun> => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const one = new ReportService({ store: p.store, clock: p.clock, cacheMaxBytes, source: 'raw' });
    const q = { unit: '08', period: whole, groupBy: 'children' as const, daily: false };
    const cold = await time(() => one.effectiveness(q));
    const warm = await time(() => one.effectiveness(q));
    gc();
    const heap = (process.memoryUsage().heapUsed - before) / 1048576;
    const st = one.cacheStats();
    return {
      heapMb: heap,
      estimatedMb: st.bytes / 1048576,
      entries: st.entries,
      evictions: st.evictions,
      refused: st.refused,
      coldMs: cold.ms,
      warmMs: warm.ms,
    };
  };
  const unbounded = await cacheRun(Number.POSITIVE_INFINITY);
  log(
    `cache unbounded: ${Math.round(unbounded.heapMb)} MiB of heap (estimated ${Math.round(unbounded.estimatedMb)} MiB)`,
  );
  const boundBytes = cacheMaxBytes ?? REPORT_SERVICE_DEFAULTS.cacheMaxBytes;
  const bounded = await cacheRun(boundBytes);
  log(
    `cache bounded: ${Math.round(bounded.heapMb)} MiB of heap (estimated ${Math.round(bounded.estimatedMb)} MiB)`,
  );
  // plays, page after page: each page resumes at the cursor (now), or reads the proofs from the
  // period's start and keeps the page's slice (what every page cost before the cursor)
  const pages = 5;
  const pageLines = 1000;
  const walk = await time(async () => {
    let cursor: string | undefined;
    let lines = 0;
    for (let i = 0; i < pages; i++) {
      const r = await svc.plays({
        unit: '08',
        period: quarter,
        limit: pageLines,
        ...(cursor ? { cursor } : {}),
      });
      lines += r.lines.length;
      if (!r.next) break;
      cursor = r.next;
    }
    return lines;
  });
  const fromStart = await time(async () => {
    let lines = 0;
    for (let i = 0; i < pages; i++) {
      const all = await p.store.proofs.query({
        from: new Date(quarter.startMs).toISOString(),
        limit: Number.MAX_SAFE_INTEGER,
      });
      const about = all.filter((e) => {
        const t = Date.parse(e.proof.scheduledAt ?? e.proof.startedAt ?? e.proof.at);
        return t >= quarter.startMs && t < quarter.endMs;
      });
      lines += about.slice(i * pageLines, (i + 1) * pageLines).length;
    }
    return lines;
  });
  log(
    `plays, ${pages} pages of ${pageLines}: cursor ${Math.round(walk.ms)} ms, from the start ${Math.round(fromStart.ms)} ms`,
  );
  return {
    plays: { pages, pageLines, lines: walk.r, cursorMs: walk.ms, fromStartMs: fromStart.ms },
    cache: { unbounded, bounded, boundBytes },
  };
}
