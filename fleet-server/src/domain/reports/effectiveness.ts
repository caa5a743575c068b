/**
 * The effectiveness report of a unit over a period (pure, time injected as `nowMs`): planned vs
 * played (loudspeakers) and vs displayed (noticeboards) from signed proofs, essential content
 * (priority and emergency items) reached vs targeted with the stations that missed them, airtime
 * by category and language, uptime from presence intervals, dead air and faults. Rows are grouped
 * by `groupOf` (the unit itself, or its child units when a report rolls them up).
 *
 * The figures are added up day by day (`EffectivenessBuilder`): a report over a year reads one day
 * of proofs and presence at a time, from raw folds or from stored rollups alike.
 */
import type { BundleRecord, DeviceRecord } from '../model.js';
import {
  type AirtimeRow,
  type DailyRow,
  type EffectivenessDayInput,
  type EffectivenessInput,
  type EffectivenessReport,
  type EssentialItem,
  type FaultRow,
  REPORT_DEFAULTS,
  type UnitFigures,
} from './effectiveness-types.js';
import type { DeviceDayProofs } from './fold.js';
import { alertName, categoryName, languageName, OUTPUT_NAMES_VI, PRIORITY_NAMES_VI } from './labels.js';
import { periodName, vnDay } from './period.js';
import { type Output, outputOfDevice, targetedDevices } from './plan.js';
import { addPlanned, type PlannedSink, type ScheduledTarget, scheduledTargets } from './planned-figures.js';
import type { PartSum, PresencePartSum } from './rollup.js';
import { type PresenceFold, UptimeAccumulator } from './uptime.js';

export * from './effectiveness-types.js';

const rate = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function emptyFigures(unit: string, unitName: string): UnitFigures {
  return {
    unit,
    unitName,
    stations: 0,
    noticeboards: 0,
    audio: { planned: 0, done: 0, rate: null },
    display: { planned: 0, done: 0, rate: null },
    essential: { targeted: 0, reached: 0, share: null },
    uptime: { knownHours: 0, onlineHours: 0, uptime: null, outages: 0, longestOutageMinutes: 0 },
    completedPlays: 0,
    failedPlays: 0,
    interruptedPlays: 0,
    faults: 0,
    briefAlerts: 0,
    deadAirMinutes: 0,
  };
}

type Row = UnitFigures;
type AirAcc = Map<string, { key: string; name: string; ms: number; plays: number }>;

/** Adds up an effectiveness report one Vietnamese day at a time (in order), then `finish()`. */
export class EffectivenessBuilder {
  readonly #inp: EffectivenessDayInput;
  readonly #faultMinMs: number;
  readonly #missedMax: number;
  readonly #groups = new Map<string, string>();
  readonly #rows = new Map<string, Row>();
  readonly #byId: Map<string, DeviceRecord>;
  readonly #active: DeviceRecord[];
  readonly #activeById: Map<string, DeviceRecord>;
  /** The row of each device in scope, and of each one whose presence totals count (active, from the start). */
  readonly #rowOf = new Map<string, string>();
  readonly #presenceRowOf = new Map<string, string>();
  readonly #endMs: number;
  readonly #published: BundleRecord[];
  readonly #scheduled: ScheduledTarget[];
  readonly #plannedSink: PlannedSink;
  readonly #daily = new Map<string, DailyRow>();
  readonly #essentialItems: EssentialItem[] = [];
  readonly #heardEmergency = new Map<string, Set<string>>();
  /** Airtime in whole milliseconds (minutes once finished). */
  readonly #cat: AirAcc = new Map();
  readonly #lang: AirAcc = new Map();
  readonly #uptime: UptimeAccumulator;

  constructor(inp: EffectivenessDayInput) {
    this.#inp = inp;
    this.#faultMinMs = inp.faultMinMs ?? REPORT_DEFAULTS.faultMinMs;
    this.#missedMax = inp.missedListMax ?? REPORT_DEFAULTS.missedListMax;
    this.#byId = new Map(inp.devices.map((d) => [d.id, d]));
    this.#active = inp.devices.filter((d) => d.status === 'active');
    this.#activeById = new Map(this.#active.map((d) => [d.id, d]));
    for (const d of this.#active) {
      const r = this.#row(d.unit);
      if (d.kind === 'noticeboard') r.noticeboards++;
      else r.stations++;
    }
    this.#endMs = Math.min(inp.period.endMs, inp.nowMs);
    this.#published = inp.bundles.filter((b) => b.state === 'published');
    this.#scheduled = scheduledTargets(
      this.#published.filter((b) => !b.emergency),
      this.#active,
      (u) => this.#groupOf(u),
    );
    this.#plannedSink = {
      nowMs: inp.nowMs,
      missedMax: this.#missedMax,
      row: (g) => this.#rows.get(g) as Row,
      daily: inp.daily === false ? null : (day, g, output) => this.#dailyRow(day, g, output),
      essential: (item) => this.#essentialItems.push(item),
    };
    const since = (d: DeviceRecord) => Date.parse(d.approvedAt ?? d.enrolledAt);
    this.#uptime = new UptimeAccumulator(
      this.#active.map((d) => ({ id: d.id, since: since(d) })),
      inp.period.startMs,
      this.#endMs,
    );
    for (const d of inp.devices) this.#rowOf.set(d.id, this.#groupOf(d.unit));
    for (const d of this.#active)
      if (!this.#uptime.countsLate(d.id)) this.#presenceRowOf.set(d.id, this.#groupOf(d.unit));
  }

  #name(u: string): string {
    return this.#inp.units.get(u)?.name ?? u;
  }

  /** The row of a device's unit, computed once per unit (unit paths are compared segment by segment). */
  #groupOf(u: string): string {
    let g = this.#groups.get(u);
    if (g === undefined) {
      g = this.#inp.groupOf ? this.#inp.groupOf(u) : u;
      this.#groups.set(u, g);
    }
    return g;
  }

  #row(deviceUnit: string): Row {
    const g = this.#groupOf(deviceUnit);
    let r = this.#rows.get(g);
    if (!r) {
      r = emptyFigures(g, this.#name(g));
      this.#rows.set(g, r);
    }
    return r;
  }

  /**
   * One day of the period: the device days of its proofs (one map per source: folds of windows,
   * stored rollups) and its presence fold (days after now have none).
   */
  addDay(day: string, parts: readonly Record<string, DeviceDayProofs>[], presence?: PresenceFold): void {
    this.addProofs(day, parts);
    if (presence) this.addPresence(presence);
  }

  /**
   * The proofs about one day (days in order): device figures, and the totals of rollup parts the
   * report can use as they are (`sumUsable`; a device is in one of them or in the device figures).
   */
  addProofs(
    day: string,
    parts: readonly Record<string, DeviceDayProofs>[],
    sums: readonly PartSum[] = [],
  ): void {
    addPlanned(this.#plannedSink, this.#scheduled, day, parts, sums);
    this.#inScope(parts);
    this.#inSums(sums);
  }

  /**
   * Whether a part's totals give this report's figures: every device of the part is in scope and
   * counted in the same row (else its device figures are needed).
   */
  sumUsable(s: PartSum): boolean {
    return this.#oneRow(s.ids, this.#rowOf);
  }

  /** Whether every one of these devices has a row in `rows`, the same one. */
  #oneRow(ids: readonly string[], rows: ReadonlyMap<string, string>): boolean {
    let row: string | undefined;
    for (const id of ids) {
      const g = rows.get(id);
      if (g === undefined) return false;
      if (row === undefined) row = g;
      else if (g !== row) return false;
    }
    return true;
  }

  /**
   * A presence fold (any order; the part inside the period counts), and the presence totals of rollup
   * parts the report can use as they are (`presenceSumUsable`; their devices are not in the fold).
   */
  addPresence(f: PresenceFold, sums: readonly PresencePartSum[] = []): void {
    this.#uptime.add(f);
    for (const s of sums) {
      const first = s.ids[0];
      if (first === undefined) continue;
      this.#uptime.addTotals(this.#groupOf((this.#byId.get(first) as DeviceRecord).unit), {
        graceMs: s.g,
        onlineMs: s.on,
        outages: s.o,
        outageMs: s.om,
        longestOutageMs: s.lo,
      });
    }
  }

  /**
   * Whether a part's presence totals of a whole day inside the period give this report's figures:
   * every device of the part is counted (active, in scope) in the same row, from the period's start.
   * The caller also reads device by device, over the whole period, the parts of `presenceExact`.
   */
  presenceSumUsable(s: PresencePartSum): boolean {
    return this.#oneRow(s.ids, this.#presenceRowOf);
  }

  /**
   * The devices whose uptime may be clamped over the period, which must be read device by device on
   * every day: those counted from later than the period's start, those exceeding in the given folds
   * (days not rolled up), and those a rollup names (`clamped`).
   */
  presenceExact(folds: readonly PresenceFold[], clamped: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const d of this.#active) if (this.#uptime.countsLate(d.id)) out.add(d.id);
    for (const f of folds) for (const id of this.#uptime.exceeding(f)) out.add(id);
    for (const id of clamped) if (this.#activeById.has(id)) out.add(id);
    return out;
  }

  // ---------------------------------------------------------------- planned vs played, essential
  #dailyRow(day: string, g: string, output: Output): DailyRow {
    const dk = `${day}|${g}|${output}`;
    let dr = this.#daily.get(dk);
    if (!dr) {
      dr = {
        day,
        unit: g,
        unitName: this.#name(g),
        output,
        outputName: OUTPUT_NAMES_VI[output],
        planned: 0,
        done: 0,
      };
      this.#daily.set(dk, dr);
    }
    return dr;
  }

  // ---------------------------------------------------------------- emergencies heard, airtime and plays
  #air(k: string, ms: number, n: number): void {
    const add = (m: AirAcc, key: string, nm: () => string) => {
      let r = m.get(key);
      if (!r) {
        r = { key, name: nm(), ms: 0, plays: 0 };
        m.set(key, r);
      }
      r.ms += ms;
      r.plays += n;
    };
    const [c = '', l = ''] = k.split('|');
    add(this.#cat, c, () => categoryName(c || undefined));
    add(this.#lang, l, () => languageName(l || undefined));
  }

  #heard(bundleId: string, deviceId: string): void {
    let s = this.#heardEmergency.get(bundleId);
    if (!s) {
      s = new Set();
      this.#heardEmergency.set(bundleId, s);
    }
    s.add(deviceId);
  }

  #inScope(parts: readonly Record<string, DeviceDayProofs>[]): void {
    for (const p of parts)
      for (const id in p) {
        const d = this.#byId.get(id);
        if (!d) continue;
        const x = p[id] as DeviceDayProofs;
        for (const b of x.emergency) this.#heard(b, d.id);
        const r = this.#row(d.unit);
        r.completedPlays += x.completed;
        r.failedPlays += x.failed;
        r.interruptedPlays += x.interrupted;
        for (const [k, [ms, n]] of Object.entries(x.air)) this.#air(k, ms, n);
      }
  }

  /** The totals of parts whose devices are all in scope and in one row (`sumUsable`). */
  #inSums(sums: readonly PartSum[]): void {
    for (const s of sums) {
      const first = s.ids[0];
      if (first === undefined) continue;
      const r = this.#row((this.#byId.get(first) as DeviceRecord).unit);
      r.completedPlays += s.c;
      r.failedPlays += s.f;
      r.interruptedPlays += s.i;
      for (const [k, [ms, n]] of Object.entries(s.air)) this.#air(k, ms, n);
      for (const [b, idx] of Object.entries(s.em)) for (const n of idx) this.#heard(b, s.ids[n] as string);
    }
  }

  finish(): EffectivenessReport {
    const inp = this.#inp;
    const { period, nowMs } = inp;
    const endMs = this.#endMs;
    // emergencies: every targeted station must have started it
    for (const b of this.#published.filter((x) => x.emergency)) {
      const at = Date.parse(b.publishedAt ?? b.createdAt);
      if (at < period.startMs || at >= period.endMs) continue;
      const heard = this.#heardEmergency.get(b.id) ?? new Set<string>();
      const devs = targetedDevices(b, this.#active).filter((d) => outputOfDevice(d.kind) === 'audio');
      const missed: EssentialItem['missed'] = [];
      let reached = 0;
      for (const d of devs) {
        const r = this.#row(d.unit);
        r.essential.targeted++;
        if (heard.has(d.id)) {
          reached++;
          r.essential.reached++;
        } else if (missed.length < this.#missedMax)
          missed.push({ deviceId: d.id, name: d.name, unit: d.unit });
      }
      if (devs.length > 0)
        this.#essentialItems.push({
          bundleId: b.id,
          entryId: null,
          title: b.manifest.items[0]?.title ?? b.manifest.channel,
          priority: 'emergency',
          priorityName: PRIORITY_NAMES_VI.emergency,
          at: new Date(at).toISOString(),
          targeted: devs.length,
          reached,
          missedCount: devs.length - reached,
          missed,
        });
    }

    // ---------------------------------------------------------------- uptime
    // whole milliseconds per row (devices one by one and parts' totals add up alike), then hours
    const upMs = new Map<string, { known: number; online: number; outages: number; longest: number }>();
    const upOf = (g: string) => {
      let x = upMs.get(g);
      if (!x) {
        x = { known: 0, online: 0, outages: 0, longest: 0 };
        upMs.set(g, x);
      }
      return x;
    };
    for (const u of this.#uptime.result()) {
      const d = this.#byId.get(u.deviceId) as DeviceRecord;
      const x = upOf(this.#groupOf(d.unit));
      x.known += u.knownMs;
      x.online += u.onlineMs;
      x.outages += u.outages;
      x.longest = Math.max(x.longest, u.longestOutageMs);
    }
    for (const [g, x] of upMs) {
      const t = this.#uptime.groupTotals(g);
      if (t) {
        x.known -= t.graceMs;
        x.online += t.onlineMs;
        x.outages += t.outages;
        x.longest = Math.max(x.longest, t.longestOutageMs);
      }
      const r = (this.#rows.get(g) as Row).uptime;
      r.knownHours = x.known / 3600_000;
      r.onlineHours = x.online / 3600_000;
      r.outages = x.outages;
      r.longestOutageMinutes = x.longest / 60_000;
    }

    // ---------------------------------------------------------------- faults and dead air
    const faults = new Map<string, FaultRow>();
    for (const a of inp.alerts) {
      const d = this.#byId.get(a.deviceId);
      if (!d) continue;
      const opened = Date.parse(a.openedAt);
      const closed = a.resolvedAt ? Date.parse(a.resolvedAt) : nowMs;
      if (closed < period.startMs || opened >= endMs) continue;
      if (a.rule === 'offline') continue; // uptime measures connectivity from presence
      const open = Math.max(0, Math.min(closed, endMs) - Math.max(opened, period.startMs));
      const f = faults.get(a.rule) ?? {
        rule: a.rule,
        name: alertName(a.rule),
        faults: 0,
        brief: 0,
        openMinutes: 0,
      };
      const r = this.#row(d.unit);
      if (closed - opened >= this.#faultMinMs) {
        f.faults++;
        r.faults++;
      } else {
        f.brief++;
        r.briefAlerts++;
      }
      f.openMinutes += open / 60_000;
      if (a.rule === 'dead-air') r.deadAirMinutes += open / 60_000;
      faults.set(a.rule, f);
    }

    // ---------------------------------------------------------------- totals
    const units = [...this.#rows.values()].sort((a, b) => a.unit.localeCompare(b.unit));
    const totals = emptyFigures(inp.unit, this.#name(inp.unit));
    for (const r of units) {
      r.audio.rate = rate(r.audio.done, r.audio.planned);
      r.display.rate = rate(r.display.done, r.display.planned);
      r.essential.share = rate(r.essential.reached, r.essential.targeted);
      r.uptime.uptime = rate(r.uptime.onlineHours, r.uptime.knownHours);
      for (const k of [
        'stations',
        'noticeboards',
        'completedPlays',
        'failedPlays',
        'interruptedPlays',
        'faults',
        'briefAlerts',
        'deadAirMinutes',
      ] as const)
        totals[k] += r[k];
      for (const o of ['audio', 'display'] as const) {
        totals[o].planned += r[o].planned;
        totals[o].done += r[o].done;
      }
      totals.essential.targeted += r.essential.targeted;
      totals.essential.reached += r.essential.reached;
      totals.uptime.knownHours += r.uptime.knownHours;
      totals.uptime.onlineHours += r.uptime.onlineHours;
      totals.uptime.outages += r.uptime.outages;
      totals.uptime.longestOutageMinutes = Math.max(
        totals.uptime.longestOutageMinutes,
        r.uptime.longestOutageMinutes,
      );
    }
    totals.audio.rate = rate(totals.audio.done, totals.audio.planned);
    totals.display.rate = rate(totals.display.done, totals.display.planned);
    totals.essential.share = rate(totals.essential.reached, totals.essential.targeted);
    totals.uptime.uptime = rate(totals.uptime.onlineHours, totals.uptime.knownHours);
    const tidy = (r: UnitFigures) => {
      r.uptime.knownHours = round(r.uptime.knownHours);
      r.uptime.onlineHours = round(r.uptime.onlineHours);
      r.uptime.longestOutageMinutes = round(r.uptime.longestOutageMinutes);
      r.deadAirMinutes = round(r.deadAirMinutes);
    };
    units.forEach(tidy);
    tidy(totals);
    const airSort = (m: AirAcc): AirtimeRow[] =>
      [...m.values()]
        .map((r) => ({ key: r.key, name: r.name, minutes: round(r.ms / 60_000), plays: r.plays }))
        .sort((a, b) => b.minutes - a.minutes || a.key.localeCompare(b.key));
    return {
      unit: inp.unit,
      unitName: this.#name(inp.unit),
      period: { from: period.from, to: period.to, name: periodName(period) },
      generatedAt: new Date(nowMs).toISOString(),
      totals,
      units,
      daily: [...this.#daily.values()].sort(
        (a, b) =>
          a.day.localeCompare(b.day) || a.unit.localeCompare(b.unit) || a.output.localeCompare(b.output),
      ),
      essential: {
        targeted: totals.essential.targeted,
        reached: totals.essential.reached,
        share: totals.essential.share,
        items: this.#essentialItems.sort((a, b) => a.at.localeCompare(b.at)),
      },
      airtime: { byCategory: airSort(this.#cat), byLanguage: airSort(this.#lang) },
      faults: [...faults.values()]
        .map((f) => ({ ...f, openMinutes: round(f.openMinutes) }))
        .sort((a, b) => b.faults - a.faults || b.brief - a.brief),
      feedback: inp.feedback ?? null,
      training: inp.training ?? null,
    };
  }
}

/** The report from in-memory folds of the raw streams (every window's fold, every day's presence). */
export function computeEffectiveness(inp: EffectivenessInput): EffectivenessReport {
  const b = new EffectivenessBuilder(inp);
  for (const day of inp.period.days) {
    const parts: Record<string, DeviceDayProofs>[] = [];
    for (const f of inp.proofs) {
      const d = f.days[day];
      if (d) parts.push(d);
    }
    b.addProofs(day, parts);
  }
  for (const f of inp.presence) b.addPresence(f);
  return b.finish();
}

/** The day of an instant, re-exported for callers that group by day. */
export { vnDay };
