/**
 * The effectiveness report of a unit over a period (pure, time injected as `nowMs`): planned vs
 * played (loudspeakers) and vs displayed (noticeboards) from signed proofs, essential content
 * (priority and emergency items) reached vs targeted with the stations that missed them, airtime
 * by category and language, uptime from presence intervals, dead air and faults. Rows are grouped
 * by `groupOf` (the unit itself, or its child units when a report rolls them up).
 */
import type { DeviceRecord } from '../model.js';
import {
  type AirtimeRow,
  type DailyRow,
  type EffectivenessInput,
  type EffectivenessReport,
  type EssentialItem,
  type FaultRow,
  REPORT_DEFAULTS,
  type UnitFigures,
} from './effectiveness-types.js';
import type { DeviceDayProofs } from './fold.js';
import { alertName, categoryName, languageName, OUTPUT_NAMES_VI, PRIORITY_NAMES_VI } from './labels.js';
import { periodName, vnDay, vnDayStart } from './period.js';
import { itemsByOutput, type Output, outputOfDevice, slotKey, slotsForDay, targetedDevices } from './plan.js';
import { uptimeOf } from './uptime.js';

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

export function computeEffectiveness(inp: EffectivenessInput): EffectivenessReport {
  const { period, nowMs } = inp;
  const faultMinMs = inp.faultMinMs ?? REPORT_DEFAULTS.faultMinMs;
  const missedMax = inp.missedListMax ?? REPORT_DEFAULTS.missedListMax;
  const name = (u: string) => inp.units.get(u)?.name ?? u;
  // the row of a device's unit, computed once per unit (unit paths are compared segment by segment)
  const groups = new Map<string, string>();
  const groupOf = (u: string): string => {
    let g = groups.get(u);
    if (g === undefined) {
      g = inp.groupOf ? inp.groupOf(u) : u;
      groups.set(u, g);
    }
    return g;
  };
  const rows = new Map<string, UnitFigures>();
  const row = (deviceUnit: string) => {
    const g = groupOf(deviceUnit);
    let r = rows.get(g);
    if (!r) {
      r = emptyFigures(g, name(g));
      rows.set(g, r);
    }
    return r;
  };
  const byId = new Map(inp.devices.map((d) => [d.id, d]));
  const active = inp.devices.filter((d) => d.status === 'active');
  for (const d of active) {
    const r = row(d.unit);
    if (d.kind === 'noticeboard') r.noticeboards++;
    else r.stations++;
  }
  const endMs = Math.min(period.endMs, nowMs);

  // ---------------------------------------------------------------- planned vs played, essential
  const daily = new Map<string, DailyRow>();
  const essentialItems: EssentialItem[] = [];
  const published = inp.bundles.filter((b) => b.state === 'published');
  const scheduled = published
    .filter((b) => !b.emergency)
    .map((b) => ({ b, devs: targetedDevices(b, active) }))
    .filter((x) => x.devs.length > 0);
  const foldsByDay = (day: string) => {
    const out: Record<string, DeviceDayProofs>[] = [];
    for (const f of inp.proofs) {
      const d = f.days[day];
      if (d) out.push(d);
    }
    return out;
  };
  const playedOn = (parts: Record<string, DeviceDayProofs>[], id: string, k: string, output: Output) =>
    parts.some((p) => {
      const x = p[id];
      return x ? (output === 'display' ? x.displayed : x.played).includes(k) : false;
    });
  for (const day of period.days) {
    const dayStart = vnDayStart(day);
    if (dayStart >= nowMs) break;
    const parts = foldsByDay(day);
    for (const { b, devs } of scheduled) {
      for (const slot of slotsForDay(b.manifest, dayStart)) {
        if (slot.at > nowMs) continue; // not due yet
        const outputs = itemsByOutput(b.manifest, slot.itemIds);
        const k = slotKey(slot.bundleId, slot.entryId, slot.at);
        // essential per output: a priority bulletin on the horns, a normal notice on the screens
        const prioOf = (o: Output) => {
          let p: 'normal' | 'priority' | 'emergency' = 'normal';
          for (const id of outputs.get(o) ?? []) {
            const it = b.manifest.items.find((i) => i.id === id);
            if (it?.priority === 'emergency') p = 'emergency';
            else if (it?.priority === 'priority' && p === 'normal') p = 'priority';
          }
          return p;
        };
        const essentialBy = { audio: prioOf('audio'), display: prioOf('display') };
        const essential = essentialBy.audio !== 'normal' || essentialBy.display !== 'normal';
        let targeted = 0;
        let reached = 0;
        const missed: EssentialItem['missed'] = [];
        for (const d of devs) {
          const output = outputOfDevice(d.kind);
          if (!outputs.has(output)) continue; // a text bulletin is not planned on a loudspeaker
          const r = row(d.unit);
          const ok = playedOn(parts, d.id, k, output);
          const fig = output === 'audio' ? r.audio : r.display;
          fig.planned++;
          if (ok) fig.done++;
          if (inp.daily !== false) {
            const g = groupOf(d.unit);
            const dk = `${day}|${g}|${output}`;
            let dr = daily.get(dk);
            if (!dr) {
              dr = {
                day,
                unit: g,
                unitName: name(g),
                output,
                outputName: OUTPUT_NAMES_VI[output],
                planned: 0,
                done: 0,
              };
              daily.set(dk, dr);
            }
            dr.planned++;
            if (ok) dr.done++;
          }
          if (essentialBy[output] !== 'normal') {
            targeted++;
            r.essential.targeted++;
            if (ok) {
              reached++;
              r.essential.reached++;
            } else if (missed.length < missedMax) missed.push({ deviceId: d.id, name: d.name, unit: d.unit });
          }
        }
        if (essential && targeted > 0) {
          const priority =
            essentialBy.audio === 'emergency' || essentialBy.display === 'emergency'
              ? 'emergency'
              : 'priority';
          const first = b.manifest.items.find((i) => slot.itemIds.includes(i.id) && i.priority !== 'normal');
          essentialItems.push({
            bundleId: b.id,
            entryId: slot.entryId,
            title: first?.title ?? b.manifest.channel,
            priority,
            priorityName: PRIORITY_NAMES_VI[priority],
            at: new Date(slot.at).toISOString(),
            targeted,
            reached,
            missedCount: targeted - reached,
            missed,
          });
        }
      }
    }
  }
  // emergencies: every targeted station must have started it
  const heardEmergency = new Map<string, Set<string>>();
  const inScopeDay = (fn: (d: DeviceRecord, x: DeviceDayProofs) => void) => {
    for (const day of period.days) {
      const parts = foldsByDay(day);
      if (parts.length === 0) continue;
      for (const d of inp.devices)
        for (const p of parts) {
          const x = p[d.id];
          if (x) fn(d, x);
        }
    }
  };
  inScopeDay((d, x) => {
    for (const b of x.emergency) {
      let s = heardEmergency.get(b);
      if (!s) {
        s = new Set();
        heardEmergency.set(b, s);
      }
      s.add(d.id);
    }
  });
  for (const b of published.filter((x) => x.emergency)) {
    const at = Date.parse(b.publishedAt ?? b.createdAt);
    if (at < period.startMs || at >= period.endMs) continue;
    const heard = heardEmergency.get(b.id) ?? new Set<string>();
    const devs = targetedDevices(b, active).filter((d) => outputOfDevice(d.kind) === 'audio');
    const missed: EssentialItem['missed'] = [];
    let reached = 0;
    for (const d of devs) {
      const r = row(d.unit);
      r.essential.targeted++;
      if (heard.has(d.id)) {
        reached++;
        r.essential.reached++;
      } else if (missed.length < missedMax) missed.push({ deviceId: d.id, name: d.name, unit: d.unit });
    }
    if (devs.length > 0)
      essentialItems.push({
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

  // ---------------------------------------------------------------- airtime and plays
  const cat = new Map<string, AirtimeRow>();
  const lang = new Map<string, AirtimeRow>();
  const add = (m: Map<string, AirtimeRow>, key: string, nm: string, ms: number, n: number) => {
    const r = m.get(key) ?? { key, name: nm, minutes: 0, plays: 0 };
    r.minutes += ms / 60_000;
    r.plays += n;
    m.set(key, r);
  };
  inScopeDay((d, x) => {
    const r = row(d.unit);
    r.completedPlays += x.completed;
    r.failedPlays += x.failed;
    r.interruptedPlays += x.interrupted;
    for (const [k, [ms, n]] of Object.entries(x.air)) {
      const [c = '', l = ''] = k.split('|');
      add(cat, c, categoryName(c || undefined), ms, n);
      add(lang, l, languageName(l || undefined), ms, n);
    }
  });

  // ---------------------------------------------------------------- uptime
  const since = (d: DeviceRecord) => Date.parse(d.approvedAt ?? d.enrolledAt);
  for (const u of uptimeOf(
    inp.presence,
    active.map((d) => ({ id: d.id, since: since(d) })),
    period.startMs,
    endMs,
  )) {
    const d = byId.get(u.deviceId) as DeviceRecord;
    const r = row(d.unit).uptime;
    r.knownHours += u.knownMs / 3600_000;
    r.onlineHours += u.onlineMs / 3600_000;
    r.outages += u.outages;
    r.longestOutageMinutes = Math.max(r.longestOutageMinutes, u.longestOutageMs / 60_000);
  }

  // ---------------------------------------------------------------- faults and dead air
  const faults = new Map<string, FaultRow>();
  for (const a of inp.alerts) {
    const d = byId.get(a.deviceId);
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
    const r = row(d.unit);
    if (closed - opened >= faultMinMs) {
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
  const units = [...rows.values()].sort((a, b) => a.unit.localeCompare(b.unit));
  const totals = emptyFigures(inp.unit, name(inp.unit));
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
  const airSort = (m: Map<string, AirtimeRow>) =>
    [...m.values()].map((r) => ({ ...r, minutes: round(r.minutes) })).sort((a, b) => b.minutes - a.minutes);
  return {
    unit: inp.unit,
    unitName: name(inp.unit),
    period: { from: period.from, to: period.to, name: periodName(period) },
    generatedAt: new Date(nowMs).toISOString(),
    totals,
    units,
    daily: [...daily.values()].sort(
      (a, b) =>
        a.day.localeCompare(b.day) || a.unit.localeCompare(b.unit) || a.output.localeCompare(b.output),
    ),
    essential: {
      targeted: totals.essential.targeted,
      reached: totals.essential.reached,
      share: totals.essential.share,
      items: essentialItems.sort((a, b) => a.at.localeCompare(b.at)),
    },
    airtime: { byCategory: airSort(cat), byLanguage: airSort(lang) },
    faults: [...faults.values()]
      .map((f) => ({ ...f, openMinutes: round(f.openMinutes) }))
      .sort((a, b) => b.faults - a.faults || b.brief - a.brief),
    feedback: inp.feedback ?? null,
    training: inp.training ?? null,
  };
}

/** The day of an instant, re-exported for callers that group by day. */
export { vnDay };
