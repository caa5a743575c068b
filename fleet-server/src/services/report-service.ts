/**
 * Reports over the stored streams: folds the proofs and presence of each closed window (a UTC day
 * of the stream) once and keeps the folds, so a report reads the raw stream of today only. The
 * figures themselves are the pure functions of domain/reports/. Feedback figures come from an
 * optional source (the citizens' feedback feature plugs in here).
 */

import type { Clock } from '@loa/protocol';
import { anyUnitCovers, LoaError, unitCovers } from '@loa/protocol';
import { withDefaults } from '../defaults.js';
import type { DeviceRecord, PresenceEntry, ProofEntry, UnitRecord } from '../domain/model.js';
import {
  computeEffectiveness,
  EffectivenessBuilder,
  type EffectivenessInput,
  type EffectivenessReport,
  type FeedbackFigures,
} from '../domain/reports/effectiveness.js';
import { foldBytes, itemIndex, type ProofFold } from '../domain/reports/fold.js';
import { computeKpis, type Kpi } from '../domain/reports/kpi.js';
import { DAY_MS, type Period, utcDay, utcDaysOf, vnDay, vnDayStart } from '../domain/reports/period.js';
import { type PlayFilter, type PlayLine, playLines } from '../domain/reports/plays.js';
import type { PartSum, PresencePartSum } from '../domain/reports/rollup.js';
import {
  emptyPresenceState,
  foldPresence,
  type PresenceFold,
  type PresenceState,
  presenceFoldBytes,
} from '../domain/reports/uptime.js';
import { type TrainingFigures, trainingFigures } from '../domain/staff.js';
import type { Store } from '../store/ports.js';
import { LruCache } from './lru-cache.js';
import { ReportRollups, type RollupBuildStats } from './report-rollups.js';

/** Where feedback figures come from (registered by the feedback feature when it is composed). */
export type FeedbackSource = (q: {
  unit: string;
  startMs: number;
  endMs: number;
}) => Promise<FeedbackFigures | null>;

export const REPORT_SERVICE_DEFAULTS = {
  /**
   * Bound of the folds kept (estimated heap bytes, proofs and presence together; least recently
   * used go first, never those the running report uses). The report benchmark prints what a
   * generated province's folds take: a report over more windows than fit refolds the rest.
   */
  cacheMaxBytes: 256 * 1024 * 1024,
};

export interface ReportServiceOptions {
  store: Store;
  clock: Clock;
  feedback?: FeedbackSource;
  cacheMaxBytes?: number;
  /**
   * Where the effectiveness report reads proofs and presence: the stored rollups (default; raw lines
   * only after their watermark), or folds of the raw streams ('raw': what the rollups are checked
   * against, and the benchmark's baseline).
   */
  source?: 'rollups' | 'raw';
  /**
   * Whether a report adds a rollup part's day from its totals where it can (default), or always
   * from its devices' figures (the benchmark's baseline).
   */
  partTotals?: boolean;
  onRollupDamage?: (what: { kind: string; key: string; parts: string[] }) => void;
}

const ALL = Number.MAX_SAFE_INTEGER;
/** The share of the devices above which a report reads the days' presence totals. */
const PRESENCE_TOTALS_SHARE = 0.25;
type PresenceDay = { fold: PresenceFold; state: PresenceState };
/** Proofs read per step while listing plays. */
const PLAYS_BATCH = 2000;

export class ReportService {
  readonly #o: ReportServiceOptions;
  /**
   * Folds of closed windows, in one cache bounded by their estimated size: proof folds of UTC days
   * (`p:<day>`) and presence folds of Vietnamese days with the state at each day's end (`s:<day>`).
   */
  readonly #folds: LruCache<string, ProofFold | PresenceDay>;
  #feedback: FeedbackSource | undefined;
  /** Windows folded from the raw stream (for benchmarks and /metrics). */
  windowsScanned = 0;
  /** Rollup parts of a day added from their totals, and those read device by device. */
  partTotalsUsed = 0;
  partDevicesRead = 0;
  /** The same for presence: parts of a day added from their totals, and read device by device. */
  presenceTotalsUsed = 0;
  presenceDevicesRead = 0;
  /** The stored rollups the effectiveness report reads. */
  readonly rollups: ReportRollups;

  constructor(o: ReportServiceOptions) {
    this.#o = o;
    this.#feedback = o.feedback;
    const cacheMaxBytes = withDefaults(REPORT_SERVICE_DEFAULTS, o).cacheMaxBytes;
    this.#folds = new LruCache(cacheMaxBytes, (v) => ('proofs' in v ? foldBytes(v) : presenceFoldBytes(v)));
    this.rollups = new ReportRollups({
      store: o.store,
      clock: o.clock,
      cacheMaxBytes: Number.isFinite(cacheMaxBytes) ? cacheMaxBytes : Number.MAX_SAFE_INTEGER,
      ...(o.onRollupDamage ? { onDamage: o.onRollupDamage } : {}),
    });
  }

  /** Brings the rollups up to the last closed day (the reports plugin runs it after each midnight). */
  catchUpRollups(): Promise<RollupBuildStats> {
    return this.rollups.catchUp();
  }

  /** What the fold caches hold (estimated bytes) and how many folds they dropped. */
  cacheStats(): { entries: number; bytes: number; evictions: number; refused: number } {
    const c = this.#folds;
    return { entries: c.size, bytes: c.bytes, evictions: c.evictions, refused: c.refused };
  }

  /** The citizens' feedback feature registers its figures here. */
  setFeedbackSource(src: FeedbackSource | undefined): void {
    this.#feedback = src;
  }

  /** Forgets cached folds and rollup parts (to measure a cold run). */
  clearCache(): void {
    this.#folds.clear();
    this.rollups.cache.clear();
  }

  async #proofFold(day: string, today: string, items: ReturnType<typeof itemIndex>): Promise<ProofFold> {
    const cached = this.#folds.get(`p:${day}`) as ProofFold | undefined;
    if (cached) return cached;
    const fold = await this.rollups.foldWindow(day, items);
    this.windowsScanned++;
    if (day < today) this.#folds.set(`p:${day}`, fold);
    return fold;
  }

  /**
   * Presence folds of the Vietnamese days from startMs to endMs (so that a period's edges are
   * window edges), chained from the cached day before, else from the first stored event.
   */
  async #presenceFolds(startMs: number, endMs: number): Promise<PresenceFold[]> {
    const now = this.#o.clock.now();
    const today = vnDay(now);
    const days: string[] = [];
    for (let t = startMs; t < Math.min(endMs, now + 1); t += DAY_MS) days.push(vnDay(t));
    if (days.length === 0) return [];
    let state: PresenceState = emptyPresenceState();
    const before = this.#folds.get(`s:${vnDay(startMs - DAY_MS)}`) as PresenceDay | undefined;
    if (before) state = before.state;
    else {
      const earlier = await this.#o.store.presence.query({
        to: new Date(startMs - 1).toISOString(),
        limit: ALL,
      });
      if (earlier.length > 0) {
        const byDay = new Map<string, PresenceEntry[]>();
        for (const e of earlier) {
          const d = vnDay(Date.parse(e.at));
          const list = byDay.get(d);
          if (list) list.push(e);
          else byDay.set(d, [e]);
        }
        for (
          let t = vnDayStart(vnDay(Date.parse((earlier[0] as PresenceEntry).at)));
          t < startMs;
          t += DAY_MS
        ) {
          const d = vnDay(t);
          state = this.#foldPresenceDay(d, byDay.get(d) ?? [], state, today).state;
        }
      }
    }
    const out: PresenceFold[] = [];
    for (const d of days) {
      const cached = this.#folds.get(`s:${d}`) as PresenceDay | undefined;
      if (cached) {
        out.push(cached.fold);
        state = cached.state;
        continue;
      }
      const start = vnDayStart(d);
      const entries = await this.#o.store.presence.query({
        from: new Date(start).toISOString(),
        to: new Date(start + DAY_MS - 1).toISOString(),
        limit: ALL,
      });
      this.windowsScanned++;
      const r = this.#foldPresenceDay(d, entries, state, today);
      out.push(r.fold);
      state = r.state;
    }
    return out;
  }

  #foldPresenceDay(day: string, entries: PresenceEntry[], state: PresenceState, today: string) {
    const start = vnDayStart(day);
    const end = day === today ? Math.max(start, this.#o.clock.now()) : start + DAY_MS;
    const r = foldPresence(state, entries, start, end);
    if (day < today) this.#folds.set(`s:${day}`, r);
    return r;
  }

  /** Devices within `unit` (and the caller's scope, checked by the route) with their units. */
  async #scope(unit: string): Promise<{ devices: DeviceRecord[]; units: Map<string, UnitRecord> }> {
    const [devices, units] = await Promise.all([
      this.#o.store.devices.inUnits([unit]),
      this.#o.store.units.subtree(unit),
    ]);
    const all = new Map(units.map((u) => [u.path, u]));
    if (!all.has(unit)) {
      const self = await this.#o.store.units.get(unit);
      if (!self) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`, { details: { unit } });
      all.set(unit, self);
    }
    return { devices, units: all };
  }

  async effectiveness(q: {
    unit: string;
    period: Period;
    /** 'unit': one row per unit of a device; 'children': rolled up to the unit's children. */
    groupBy?: 'unit' | 'children';
    daily?: boolean;
  }): Promise<EffectivenessReport> {
    const now = this.#o.clock.now();
    const { devices, units } = await this.#scope(q.unit);
    // every bundle: a played item keeps its category and language when its bundle is withdrawn
    const bundles = await this.#o.store.bundles.list();
    const items = itemIndex(bundles);
    const ids = new Set(devices.map((d) => d.id));
    const alerts = await this.#o.store.alerts.list((a) => ids.has(a.deviceId));
    const children =
      q.groupBy === 'children'
        ? [...units.values()].filter((u) => u.parent === q.unit).map((u) => u.path)
        : [];
    const groupOf = (u: string) => children.find((c) => unitCovers(c, u)) ?? (u === q.unit ? q.unit : u);
    const feedback = this.#feedback
      ? await this.#feedback({ unit: q.unit, startMs: q.period.startMs, endMs: q.period.endMs })
      : null;
    const training = await this.training(q.unit, q.period);
    const input: Omit<EffectivenessInput, 'proofs' | 'presence'> = {
      training,
      unit: q.unit,
      period: q.period,
      units,
      devices,
      bundles,
      alerts,
      nowMs: now,
      groupOf,
      feedback,
      ...(q.daily === false ? { daily: false } : {}),
    };
    if (this.#o.source === 'raw') {
      // the windows this report reads keep each other in the cache
      this.#folds.newEpoch();
      const today = utcDay(now);
      // proofs are received after they are about: every window from the period's start to today
      const windows = utcDaysOf(q.period.startMs, Math.max(q.period.startMs + 1, now + 1));
      const proofs: ProofFold[] = [];
      for (const d of windows) proofs.push(await this.#proofFold(d, today, items));
      const presence = await this.#presenceFolds(q.period.startMs, q.period.endMs);
      return computeEffectiveness({ ...input, proofs, presence });
    }
    return this.#fromRollups(input, items, [...ids]);
  }

  /**
   * The report from the rollups of whole days, day by day (one day in memory at a time), and the raw
   * lines after the rollups' watermark (today's).
   */
  async #fromRollups(
    input: Omit<EffectivenessInput, 'proofs' | 'presence'>,
    items: ReturnType<typeof itemIndex>,
    deviceIds: string[],
  ): Promise<EffectivenessReport> {
    const r = this.rollups;
    await r.catchUp();
    r.beginReport();
    const { period, nowMs: now } = input;
    const builder = new EffectivenessBuilder(input);
    const parts = r.partsOf(deviceIds);
    // the windows after the watermark, from the raw stream (proofs are received after they are about)
    const open: ProofFold[] = [];
    const startWindow = utcDay(period.startMs);
    const after =
      r.proofsThrough === null ? startWindow : utcDay(Date.parse(`${r.proofsThrough}T00:00:00Z`) + DAY_MS);
    for (const w of utcDaysOf(period.startMs, Math.max(period.startMs + 1, now + 1)))
      if (w >= after) {
        open.push(await r.foldWindow(w, items));
        this.windowsScanned++;
      }
    const endMs = Math.min(period.endMs, now + 1);
    const rolledPresence = r.presenceThrough;
    const openPresence = new Map<string, PresenceFold>();
    for (const f of await r.openPresence(vnDay(period.startMs), period.endMs))
      openPresence.set(vnDay(f.startMs), f);
    // a part's totals where the report can use them as they are, else its devices' figures
    const totals = this.#o.partTotals !== false;
    const proofsOf = async (day: string) => {
      const sums = await r.proofSum(day);
      const use: PartSum[] = [];
      const devices: string[] = [];
      for (const p of parts) {
        const s = sums[p];
        if (!s) continue;
        if (totals && builder.sumUsable(s)) use.push(s);
        else devices.push(p);
      }
      this.partTotalsUsed += use.length;
      this.partDevicesRead += devices.length;
      return { sums: use, devices: await r.proofDay(day, devices) };
    };
    const rolled = (day: string) => rolledPresence !== null && day <= rolledPresence;
    // presence: a part's totals for a whole day, except the parts of devices whose uptime may be
    // clamped over the period, read device by device on every day (so the clamp is the same)
    // a day's presence totals hold every unit's device list: worth reading for a report over a
    // good share of the devices (a province, a large district), not for a commune's
    const presenceTotals = totals && r.shareOf(parts) >= PRESENCE_TOTALS_SHARE;
    let exactParts = new Set<string>();
    if (presenceTotals) {
      const clamped: string[] = [];
      const days = period.days.filter((day) => rolled(day) && vnDayStart(day) < endMs);
      for (const c of await Promise.all(days.map((day) => r.presenceClamp(day))))
        for (const p of parts) for (const id of c[p] ?? []) clamped.push(id);
      exactParts = new Set(r.partsOf(builder.presenceExact([...openPresence.values()], clamped)));
    }
    const presenceOf = async (
      day: string,
    ): Promise<{ fold: PresenceFold; sums: PresencePartSum[] } | undefined> => {
      if (vnDayStart(day) >= endMs) return undefined;
      if (!rolled(day)) {
        const fold = openPresence.get(day);
        return fold ? { fold, sums: [] } : undefined;
      }
      if (!presenceTotals) return { fold: await r.presenceDay(day, parts), sums: [] };
      const sums = await r.presenceSum(day);
      const use: PresencePartSum[] = [];
      const devices: string[] = [];
      for (const p of parts) {
        const s = sums[p];
        if (!s) continue;
        if (!exactParts.has(p) && builder.presenceSumUsable(s)) use.push(s);
        else devices.push(p);
      }
      this.presenceTotalsUsed += use.length;
      this.presenceDevicesRead += devices.length;
      return { fold: await r.presenceDay(day, devices), sums: use };
    };
    const load = (day: string) => Promise.all([proofsOf(day), presenceOf(day)]);
    // the next days are read while one is added up
    const ahead: ReturnType<typeof load>[] = [];
    const days = period.days;
    for (let i = 0; i < days.length; i++) {
      while (ahead.length < 3 && i + ahead.length < days.length)
        ahead.push(load(days[i + ahead.length] as string));
      const [proofs, presence] = await (ahead.shift() as ReturnType<typeof load>);
      const day = days[i] as string;
      const dayParts = [proofs.devices];
      for (const f of open) {
        const x = f.days[day];
        if (x) dayParts.push(x);
      }
      builder.addProofs(day, dayParts, proofs.sums);
      if (presence) builder.addPresence(presence.fold, presence.sums);
    }
    return builder.finish();
  }

  /** The plan's indicators for a report's unit and period (figure, target, source). */
  async kpis(report: EffectivenessReport): Promise<Kpi[]> {
    const { store } = this.#o;
    const units = await store.units.subtree(report.unit);
    const parents = new Set(units.map((u) => u.parent));
    return computeKpis({
      report,
      communes: units.filter((u) => !parents.has(u.path)),
      devices: await store.devices.inUnits([report.unit]),
      register: await store.register.list((e) => anyUnitCovers([report.unit], e.unit)),
    });
  }

  /**
   * Staff trained in `unit`'s subtree, measured on the period's last day (today while it runs);
   * null when the unit has no staff register.
   */
  async training(unit: string, period: Period): Promise<TrainingFigures | null> {
    const { store, clock } = this.#o;
    const inUnit = (r: { unit: string }) => unitCovers(unit, r.unit);
    const staff = await store.staff.list(inUnit);
    if (staff.length === 0) return null;
    const ids = new Set(staff.map((s) => s.id));
    const attendance = await store.trainingAttendance.list((a) => ids.has(a.staffId));
    const courseIds = new Set(attendance.map((a) => a.courseId));
    // courses held by the unit or above it count in the period; those its staff attended count as training
    const courses = await store.trainingCourses.list(
      (c) => courseIds.has(c.id) || unitCovers(c.unit, unit) || inUnit(c),
    );
    return trainingFigures({
      staff,
      courses,
      attendance,
      from: period.from,
      day: vnDay(Math.min(period.endMs - 1, clock.now())),
    });
  }

  /**
   * What played where and when, one line per proof about the period, in stored order. A page
   * starts where the previous one ended (`cursor`, the `next` of that page), so each page reads the
   * stream from there on, not from the period's start.
   */
  async plays(
    q: { unit: string; period: Period } & Omit<PlayFilter, 'startMs' | 'endMs' | 'deviceIds'> & {
        deviceId?: string;
        limit: number;
        cursor?: string;
      },
  ): Promise<{ lines: PlayLine[]; truncated: boolean; next: string | null }> {
    const { devices, units } = await this.#scope(q.unit);
    const deviceIds = new Set(devices.filter((d) => !q.deviceId || d.id === q.deviceId).map((d) => d.id));
    const bundles = await this.#o.store.bundles.list();
    const filter: PlayFilter = {
      startMs: q.period.startMs,
      endMs: q.period.endMs,
      deviceIds,
      ...(q.bundleId ? { bundleId: q.bundleId } : {}),
      ...(q.itemId ? { itemId: q.itemId } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.output ? { output: q.output } : {}),
    };
    const byId = new Map(devices.map((d) => [d.id, d]));
    const items = itemIndex(bundles);
    const lineOf = (e: ProofEntry) => playLines([e], filter, byId, units, items)[0];
    // proofs are received after what they are about: from the period's start to the end of the stream
    const base = {
      from: new Date(q.period.startMs).toISOString(),
      ...(q.deviceId ? { deviceId: q.deviceId } : {}),
      ...(q.bundleId ? { bundleId: q.bundleId } : {}),
    };
    const lines: PlayLine[] = [];
    let after = q.cursor;
    // where the page holding the last line kept began, and that line's index in it
    let full: { start: string | undefined; index: number } | undefined;
    for (;;) {
      const start = after;
      const page = await this.#o.store.proofs.page({
        ...base,
        ...(start !== undefined ? { after: start } : {}),
        limit: PLAYS_BATCH,
      });
      for (let i = 0; i < page.entries.length; i++) {
        const line = lineOf(page.entries[i] as ProofEntry);
        if (!line) continue;
        if (full) {
          // one more line follows the page: the next page resumes right after the last line kept
          const exact = await this.#o.store.proofs.page({
            ...base,
            ...(full.start !== undefined ? { after: full.start } : {}),
            limit: full.index + 1,
          });
          return { lines, truncated: true, next: exact.next };
        }
        lines.push(line);
        if (lines.length === q.limit) full = { start, index: i };
      }
      if (page.next === null) return { lines, truncated: false, next: null };
      after = page.next;
    }
  }
}
