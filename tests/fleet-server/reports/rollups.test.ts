/**
 * The effectiveness report from the stored rollups gives the same figures as the report folded
 * from the raw streams, on the same data written through the real file store: generated proofs
 * (missed, failed, display, late ones received days after) and presence (outages, restarts, a
 * crash), the hand-checked uptime day of uptime.test.ts, a device that moves to another commune,
 * and an emergency. Then the rollups are damaged and deleted, and rebuilt from the raw streams.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, PresenceEntry, UnitRecord } from '../../../fleet-server/src/domain/model.js';
import type { EffectivenessReport } from '../../../fleet-server/src/domain/reports/effectiveness.js';
import { type Period, periodOf } from '../../../fleet-server/src/domain/reports/period.js';
import { SUM_PART } from '../../../fleet-server/src/domain/reports/rollup.js';
import { ReportService } from '../../../fleet-server/src/services/report-service.js';
import { createFileStore } from '../../../fleet-server/src/store/file-store.js';
import type { Store } from '../../../fleet-server/src/store/ports.js';
import { BUNDLE, Chains, device, MANIFEST, T0, writeProofs } from './fixture.js';

const H = 3600_000;
const DAY = 24 * H;
/** The hand-checked day of uptime.test.ts (UTC 24 November 2026). */
const D1 = Date.parse('2026-11-24T00:00:00Z');
const at = (hms: string) => `2026-11-24T${hms}Z`;
const ev = (t: string, event: PresenceEntry['event'], deviceId?: string): PresenceEntry => ({
  at: at(t),
  event,
  ...(deviceId ? { deviceId } : {}),
});
const HAND_CHECKED: PresenceEntry[] = [
  ev('00:00:00', 'server-start'),
  ev('00:00:30', 'connect', 'A'),
  ev('00:01:00', 'connect', 'B'),
  ev('02:00:00', 'disconnect', 'A'),
  ev('02:00:20', 'connect', 'A'),
  ev('06:00:00', 'disconnect', 'B'),
  ev('10:00:00', 'connect', 'B'),
  ev('12:00:00', 'server-stop'),
  ev('13:00:00', 'server-start'),
  ev('13:00:10', 'connect', 'A'),
  ev('13:05:00', 'connect', 'B'),
  ev('20:00:00', 'server-alive'),
  ev('22:00:00', 'server-start'),
  ev('22:00:05', 'connect', 'A'),
  ev('22:00:05', 'connect', 'B'),
];

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

const vnDay = (ms: number) => new Date(ms + 7 * H).toISOString().slice(0, 10);
const unit = (path: string, name: string, parent: string | null): UnitRecord => ({
  path,
  code: path.split('/').pop() as string,
  name,
  level: parent ? 'commune' : 'province',
  parent,
  createdAt: T0,
  updatedAt: T0,
});

const EMERGENCY: BundleRecord = {
  ...BUNDLE,
  id: 'bao-v1',
  channel: 'bao',
  emergency: true,
  publishedAt: '2026-11-27T09:00:00+07:00',
  manifest: {
    ...MANIFEST,
    id: 'bao-v1',
    channel: 'bao',
    items: [
      {
        ...(MANIFEST.items[0] as (typeof MANIFEST.items)[0]),
        id: 'e',
        priority: 'emergency',
        category: 'disaster',
      },
    ],
    schedule: [],
  },
};

describe('report rollups', () => {
  let dir: string;
  let store: Store;
  const clock = { t: Date.parse('2026-11-19T00:00:00Z'), now: () => clock.t };
  const FIRST = '2026-11-20';
  const LAST = '2026-12-09';
  // the stream ends on the 10th at 09:00 Vietnamese time: the 10th is still open (raw lines after the watermark)
  const NOW = Date.parse('2026-12-10T09:00:00+07:00');

  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'loa-rollups-'));
    store = createFileStore({
      dataDir: dir,
      now: clock.now,
      retentionDays: 3650,
      registryFlushMs: 5,
      healthFsyncMs: 5,
    });
    await store.start();
    await store.units.putMany([
      unit('08', 'Tỉnh Tuyên Quang', null),
      unit('08/02500', 'Xã Tân Trào', '08'),
      unit('08/02503', 'Xã Minh Thanh', '08'),
      unit('08/02506', 'Xã Trung Yên', '08'),
    ]);
    const ids = ['st1', 'st2', 'st3', 'nb1', 'st4', 'st5', 'A', 'B', 'C'];
    const units = [
      '08/02500',
      '08/02500',
      '08/02503',
      '08/02500',
      '08/02503',
      '08/02506',
      '08/02500',
      '08/02503',
      '08/02506',
    ];
    for (let i = 0; i < ids.length; i++)
      await store.devices.insert(
        device(ids[i] as string, units[i] as string, ids[i] === 'nb1' ? 'noticeboard' : 'station'),
      );
    await store.bundles.insert(BUNDLE);
    await store.bundles.insert(EMERGENCY);

    const rand = rng(7);
    const chains = new Chains();
    // presence, in time order, with the hand-checked day in its place
    const presence: PresenceEntry[] = [
      { at: new Date(Date.parse(`${FIRST}T00:00:00+07:00`) - H).toISOString(), event: 'server-start' },
    ];
    for (const id of ids)
      if (id !== 'A' && id !== 'B' && id !== 'C')
        presence.push({
          at: new Date(Date.parse(`${FIRST}T00:00:00+07:00`) - H + 30_000).toISOString(),
          event: 'connect',
          deviceId: id,
        });
    for (let t = Date.parse(`${FIRST}T00:00:00+07:00`); t < NOW; t += DAY) {
      if (t + DAY <= D1 || t >= D1 + DAY) {
        for (let h = 0; h < 24; h += 6)
          presence.push({ at: new Date(t + h * H).toISOString(), event: 'server-alive' });
        for (const id of ['st1', 'st2', 'st3', 'st4'])
          if (rand() < 0.3) {
            const a = t + Math.floor(rand() * 20 * H);
            const len = rand() < 0.5 ? 40_000 : 3 * H;
            presence.push({ at: new Date(a).toISOString(), event: 'disconnect', deviceId: id });
            presence.push({ at: new Date(a + len).toISOString(), event: 'connect', deviceId: id });
          }
      }
    }
    presence.push(...HAND_CHECKED);
    // everything is written in time order, the clock at each write (the store files lines by the day written)
    const writes: { t: number; run: () => Promise<void> }[] = presence.map((e) => ({
      t: Date.parse(e.at),
      run: () => store.presence.append(e),
    }));
    // proofs of each day, received that morning; some missed, failed, or sent days late
    for (let t = Date.parse(`${FIRST}T00:00:00+07:00`); t < NOW; t += DAY) {
      const day = vnDay(t);
      const batch: ReturnType<Chains['proof']>[] = [];
      for (const id of ['st1', 'st2', 'st3', 'nb1', 'st4', 'A', 'B']) {
        const r = rand();
        if (r < 0.1) continue;
        const p =
          id === 'nb1'
            ? chains.proof(id, day, {
                kind: 'display',
                itemId: 'n',
                priority: 'normal',
                endedAt: undefined,
                outcome: 'started',
                loudnessLufs: undefined,
              })
            : chains.proof(id, day, r > 0.85 ? { outcome: 'failed', endedAt: undefined } : {});
        if (id === 'st3' && rand() < 0.3) {
          const late = t + (2 + Math.floor(rand() * 4)) * DAY + 9 * H;
          writes.push({ t: late, run: () => writeProofs(store, [p], new Date(late).toISOString()) });
        } else batch.push(p);
      }
      writes.push({ t: t + 6 * H, run: () => writeProofs(store, batch, new Date(t + 6 * H).toISOString()) });
    }
    // the emergency of the 27th, heard by st1 only
    const heard = chains.proof('st1', '2026-11-27', {
      bundleId: 'bao-v1',
      itemId: 'e',
      entryId: undefined,
      priority: 'emergency',
      scheduledAt: undefined,
      startedAt: '2026-11-27T09:00:05+07:00',
      endedAt: '2026-11-27T09:02:05+07:00',
      at: '2026-11-27T09:02:05+07:00',
    });
    const heardAt = Date.parse('2026-11-27T02:03:00.000Z');
    writes.push({ t: heardAt, run: () => writeProofs(store, [heard], new Date(heardAt).toISOString()) });
    writes.sort((a, b) => a.t - b.t);
    for (const w of writes.filter((x) => x.t < NOW)) {
      clock.t = Math.max(clock.t, w.t);
      await w.run();
    }
    clock.t = NOW;
    await store.flush();
  });

  afterAll(async () => {
    await store?.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const periods: [string, Period][] = [
    ['the whole span', periodOf(FIRST, LAST)],
    ['a week', periodOf('2026-11-23', '2026-11-29')],
    ['the hand-checked days', periodOf('2026-11-24', '2026-11-25')],
    ['up to today (open windows)', periodOf('2026-12-01', '2026-12-10')],
  ];
  const reports = async (svc: ReportService, p: Period) => ({
    province: await svc.effectiveness({ unit: '08', period: p, groupBy: 'children' }),
    commune: await svc.effectiveness({ unit: '08/02500', period: p }),
    long: await svc.effectiveness({ unit: '08', period: p, daily: false }),
  });

  it('gives the same figures from rollups as from the raw streams, for the province and a commune', async () => {
    const raw = new ReportService({ store, clock, source: 'raw' });
    const rolled = new ReportService({ store, clock });
    for (const [, p] of periods) {
      const a = await reports(raw, p);
      const b = await reports(rolled, p);
      expect(b).toEqual(a);
    }
    // the rollups were built up to yesterday's window and day; today came from the raw lines
    expect(rolled.rollups.proofsThrough).toBe('2026-12-09');
    expect(rolled.rollups.presenceThrough).toBe('2026-12-09');
    // each commune's day was added from its totals, none device by device
    expect(rolled.partTotalsUsed).toBeGreaterThan(50);
    expect(rolled.partDevicesRead).toBe(0);
    // something was there to compare: planned, played, failures, late proofs, the emergency, uptime
    const whole = await rolled.effectiveness({ unit: '08', period: periods[0]?.[1] as Period });
    expect(whole.totals.audio.planned).toBeGreaterThan(100);
    expect(whole.totals.audio.done).toBeLessThan(whole.totals.audio.planned);
    expect(whole.totals.failedPlays).toBeGreaterThan(0);
    expect(whole.totals.display.done).toBeGreaterThan(0);
    expect(whole.essential.items.find((i) => i.bundleId === 'bao-v1')?.reached).toBe(1);
    expect(whole.airtime.byCategory.map((r) => r.key)).toEqual(['agriculture', 'disaster']);
  });

  it('keeps the hand-checked uptime: A is offline 20 s only, across restarts, a crash and the day boundary', async () => {
    const svc = new ReportService({ store, clock });
    const r = await svc.effectiveness({ unit: '08/02500', period: periodOf('2026-11-24', '2026-11-25') });
    // the period runs to 17:00 UTC on the 25th: A's day of uptime.test.ts, then 17 h more, connected
    // observed: 12 h + 7 h + (22:00 → 17:00 next day) 19 h, less 45 s of reconnect grace; online: 20 s less
    const A = r.units.find((u) => u.unit === '08/02500') as EffectivenessReport['units'][0];
    expect(A).toBeDefined();
    // A shares its commune with st1, st2 and nb1: A's own figures are what the unit adds on top of theirs
    const others = await new ReportService({ store, clock, source: 'raw' }).effectiveness({
      unit: '08/02500',
      period: periodOf('2026-11-24', '2026-11-25'),
    });
    expect(r.units).toEqual(others.units);
    const oneDevice = new ReportService({ store, clock });
    await store.devices.update('st1', { status: 'decommissioned' });
    await store.devices.update('st2', { status: 'decommissioned' });
    await store.devices.update('nb1', { status: 'decommissioned' });
    try {
      const onlyA = await oneDevice.effectiveness({
        unit: '08/02500',
        period: periodOf('2026-11-24', '2026-11-25'),
      });
      expect(onlyA.totals.uptime.knownHours).toBe(Math.round((136_755 / 3600) * 100) / 100);
      expect(onlyA.totals.uptime.onlineHours).toBe(Math.round((136_735 / 3600) * 100) / 100);
      expect(onlyA.totals.uptime.uptime).toBeCloseTo(136_735 / 136_755, 12);
      expect(onlyA.totals.uptime.outages).toBe(1);
      expect(onlyA.totals.uptime.longestOutageMinutes).toBe(Math.round((20 / 60) * 100) / 100);
    } finally {
      for (const id of ['st1', 'st2', 'nb1']) await store.devices.update(id, { status: 'active' });
    }
  });

  it('counts a moved device where it is now, from the rollups as from the raw streams', async () => {
    const p = periodOf(FIRST, LAST);
    const before = await new ReportService({ store, clock }).effectiveness({ unit: '08/02500', period: p });
    await store.devices.update('st3', { unit: '08/02500' });
    try {
      const raw = await reports(new ReportService({ store, clock, source: 'raw' }), p);
      const svc = new ReportService({ store, clock });
      const rolled = await reports(svc, p);
      expect(rolled).toEqual(raw);
      // the totals of st3's first commune no longer hold for one row: its devices were read instead
      expect(svc.partDevicesRead).toBeGreaterThan(0);
      expect(svc.partTotalsUsed).toBeGreaterThan(0);
      // st3's proofs were rolled up with its first commune; they now count in Tân Trào
      expect(rolled.commune.totals.completedPlays).toBeGreaterThan(before.totals.completedPlays);
      expect(rolled.commune.totals.stations).toBe(before.totals.stations + 1);
    } finally {
      await store.devices.update('st3', { unit: '08/02503' });
    }
  });

  it('reads device by device, over the whole period, the commune of a device approved during it (its uptime clamped)', async () => {
    // st4 was connected from the start; approved on the 25th, it is observed from then on only, so
    // its online time over the span exceeds its observed time and is clamped
    const device4 = await store.devices.get('st4');
    await store.devices.update('st4', { approvedAt: '2026-11-25T12:00:00+07:00' });
    try {
      for (const [, p] of periods.slice(0, 2)) {
        const raw = await reports(new ReportService({ store, clock, source: 'raw' }), p);
        const svc = new ReportService({ store, clock });
        const rolled = await reports(svc, p);
        expect(rolled).toEqual(raw);
        // st4's commune device by device, the others from their totals
        expect(svc.presenceDevicesRead).toBeGreaterThan(0);
        expect(svc.presenceTotalsUsed).toBeGreaterThan(0);
        // the device figures and the totals agree without st4's approval in the period
        const fromDevices = await reports(new ReportService({ store, clock, partTotals: false }), p);
        expect(rolled).toEqual(fromDevices);
      }
      const minh = (
        await new ReportService({ store, clock }).effectiveness({
          unit: '08',
          period: periods[0]?.[1] as Period,
          groupBy: 'children',
        })
      ).units.find((u) => u.unit === '08/02503');
      expect(minh?.uptime.uptime).toBeLessThanOrEqual(1);
    } finally {
      await store.devices.update('st4', { approvedAt: device4?.approvedAt ?? T0 });
    }
  });

  it('refolds a damaged rollup from the raw lines, and rebuilds them all when they are gone', async () => {
    const raw = await reports(new ReportService({ store, clock, source: 'raw' }), periods[0]?.[1] as Period);
    // flip bytes inside a proof day (a commune's part and the day's totals) and a presence day
    for (const [f, part] of [
      ['proofs/2026-11-24.roll', '08/02500'],
      ['proofs/2026-11-24.roll', SUM_PART],
      ['presence/2026-11-26.roll', null],
    ] as const) {
      const path = join(dir, 'rollups', f);
      const buf = await fsp.readFile(path);
      const nl = buf.indexOf(10);
      const head = JSON.parse(buf.subarray(0, nl).toString()) as { parts: Record<string, [number]> };
      const i = nl + 1 + (part ? (head.parts[part]?.[0] as number) : 0) + 20;
      buf[i] = (buf[i] as number) ^ 0x20;
      await fsp.writeFile(path, buf);
    }
    const damaged: string[] = [];
    const svc = new ReportService({
      store,
      clock,
      onRollupDamage: (d) => damaged.push(`${d.kind}/${d.key}`),
    });
    expect(await reports(svc, periods[0]?.[1] as Period)).toEqual(raw);
    expect(damaged).toEqual(expect.arrayContaining(['proofs/2026-11-24', 'presence/2026-11-26']));
    expect(svc.rollups.damagedRebuilt).toBeGreaterThanOrEqual(2);
    // repaired in place: a new service reads them without refolding
    const again = new ReportService({ store, clock });
    expect(await reports(again, periods[0]?.[1] as Period)).toEqual(raw);
    expect(again.rollups.damagedRebuilt).toBe(0);
    // gone (a store restored without them): rebuilt from the raw streams on the next report
    await fsp.rm(join(dir, 'rollups'), { recursive: true });
    const fresh = new ReportService({ store, clock });
    expect(await reports(fresh, periods[0]?.[1] as Period)).toEqual(raw);
    expect((await store.rollups.keys('proofs')).length).toBeGreaterThan(15);
  });

  it('gives the same figures from rollups written before the day totals (totals from the parts)', async () => {
    const p = periodOf(FIRST, LAST);
    const raw = await reports(new ReportService({ store, clock, source: 'raw' }), p);
    await new ReportService({ store, clock }).catchUpRollups();
    for (const day of await store.rollups.keys('proofs')) {
      const r = await store.rollups.read('proofs', day);
      expect(r.parts[SUM_PART]).toBeDefined();
      const { [SUM_PART]: _sum, ...parts } = r.parts;
      await store.rollups.write('proofs', day, parts);
    }
    const svc = new ReportService({ store, clock });
    expect(await reports(svc, p)).toEqual(raw);
    expect(svc.partTotalsUsed).toBeGreaterThan(0);
    expect(svc.rollups.damagedRebuilt).toBe(0);
  });

  it('merges the next day as it closes, and a second report is read from memory', async () => {
    const svc = new ReportService({ store, clock });
    await svc.catchUpRollups();
    const p = periodOf('2026-12-01', '2026-12-10');
    const before = await svc.effectiveness({ unit: '08', period: p });
    const reads = svc.rollups.reads;
    expect(await svc.effectiveness({ unit: '08', period: p })).toEqual(before);
    expect(svc.rollups.cacheHits).toBeGreaterThanOrEqual(svc.rollups.reads - reads);
    // a day later the 10th is closed: the catch-up merges it, and the figures stay those of the raw streams
    clock.t = NOW + DAY;
    try {
      const built = await svc.catchUpRollups();
      expect(built.proofWindows).toBe(1);
      expect(built.presenceDays).toBe(1);
      expect(svc.rollups.proofsThrough).toBe('2026-12-10');
      const raw = await new ReportService({ store, clock, source: 'raw' }).effectiveness({
        unit: '08',
        period: p,
      });
      expect(await svc.effectiveness({ unit: '08', period: p })).toEqual(raw);
    } finally {
      clock.t = NOW;
    }
  });

  it('keeps the rollups in the background: built a minute after start, then again once a day has closed', async () => {
    await fsp.rm(join(dir, 'rollups'), { recursive: true, force: true });
    const pending: { fn: () => void; ms: number }[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        pending.push({ fn, ms });
        return pending.length;
      },
      clearTimeout: () => {},
    };
    const svc = new ReportService({ store, clock });
    const errors: unknown[] = [];
    svc.rollups.startKeeping({ timers, everyMs: 600_000, onError: (e) => errors.push(e) });
    expect(pending.map((p) => p.ms)).toEqual([60_000]);
    pending.shift()?.fn();
    await expect.poll(() => pending.length, { timeout: 30_000 }).toBe(1);
    expect(svc.rollups.proofsThrough).toBe('2026-12-09');
    expect(pending[0]?.ms).toBe(600_000);
    // the same day: nothing to do; the next day: the 10th is merged
    pending.shift()?.fn();
    await expect.poll(() => pending.length, { timeout: 30_000 }).toBe(1);
    clock.t = NOW + DAY;
    try {
      pending.shift()?.fn();
      await expect.poll(() => svc.rollups.proofsThrough, { timeout: 30_000 }).toBe('2026-12-10');
      await expect.poll(() => pending.length, { timeout: 30_000 }).toBe(1);
    } finally {
      clock.t = NOW;
      await svc.rollups.stopKeeping();
    }
    expect(errors).toEqual([]);
  });
});
