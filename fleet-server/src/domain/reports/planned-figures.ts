/**
 * Planned vs played (loudspeakers) and vs displayed (noticeboards) per row and day, and the
 * essential items reached (pure): a slot is planned on every device it targets at once, per row
 * (how many devices each row has is counted once per report); only the devices that played it are
 * looked up, from rollup totals' lists (a device is in one of them at most) and from device figures
 * (a device may be in several windows' figures: counted once).
 */
import type { BundleRecord, DeviceRecord } from '../model.js';
import type { DailyRow, EssentialItem, UnitFigures } from './effectiveness-types.js';
import type { DeviceDayProofs } from './fold.js';
import { PRIORITY_NAMES_VI } from './labels.js';
import { vnDayStart } from './period.js';
import {
  itemsByOutput,
  OUTPUTS,
  type Output,
  outputOfDevice,
  slotKey,
  slotsForDay,
  targetedDevices,
} from './plan.js';
import type { PartSum } from './rollup.js';

/**
 * A published programme and the devices it targets; per output, each targeted device's row and how
 * many of them each row has.
 */
export interface ScheduledTarget {
  b: BundleRecord;
  devs: DeviceRecord[];
  by: Record<Output, { member: Map<string, string>; rows: Map<string, number> }>;
}

/** Where the figures go: the rows, the daily rows (null: none kept), the essential items. */
export interface PlannedSink {
  nowMs: number;
  missedMax: number;
  row(group: string): UnitFigures;
  daily: ((day: string, group: string, output: Output) => DailyRow) | null;
  essential(item: EssentialItem): void;
}

/** The programmes (not emergencies) that target some of these devices, with their rows. */
export function scheduledTargets(
  bundles: readonly BundleRecord[],
  active: readonly DeviceRecord[],
  groupOf: (unit: string) => string,
): ScheduledTarget[] {
  return bundles
    .map((b) => {
      const devs = targetedDevices(b, active);
      const by = {
        audio: { member: new Map<string, string>(), rows: new Map<string, number>() },
        display: { member: new Map<string, string>(), rows: new Map<string, number>() },
      };
      for (const d of devs) {
        const t = by[outputOfDevice(d.kind)];
        const g = groupOf(d.unit);
        t.member.set(d.id, g);
        t.rows.set(g, (t.rows.get(g) ?? 0) + 1);
      }
      return { b, devs, by };
    })
    .filter((x) => x.devs.length > 0);
}

/**
 * Planned slots of the day per row and output, and those done: the devices that played (displayed)
 * a slot are looked up among those it targets, from the totals' lists (a device is in one of them
 * at most) and from the device figures (a device may be in several: counted once).
 */
export function addPlanned(
  sink: PlannedSink,
  scheduled: readonly ScheduledTarget[],
  day: string,
  parts: readonly Record<string, DeviceDayProofs>[],
  sums: readonly PartSum[],
): void {
  const { nowMs } = sink;
  const dayStart = vnDayStart(day);
  if (dayStart >= nowMs) return;
  // per output and slot key, the devices of the device figures that played (displayed) it
  const fromParts = { audio: new Map<string, Set<string>>(), display: new Map<string, Set<string>>() };
  const note = (m: Map<string, Set<string>>, k: string, id: string) => {
    let set = m.get(k);
    if (!set) {
      set = new Set();
      m.set(k, set);
    }
    set.add(id);
  };
  for (const p of parts)
    for (const id in p) {
      const x = p[id] as DeviceDayProofs;
      for (const k of x.played) note(fromParts.audio, k, id);
      for (const k of x.displayed) note(fromParts.display, k, id);
    }
  const listOf = (o: Output) => (o === 'audio' ? 'pl' : 'dp');
  /** The devices that played (displayed) a slot, each once. */
  const each = (k: string, o: Output, fn: (id: string) => void) => {
    const more = fromParts[o].get(k);
    for (const s of sums) {
      const idx = s[listOf(o)][k];
      if (!idx) continue;
      for (const n of idx) {
        const id = s.ids[n] as string;
        if (!more?.has(id)) fn(id);
      }
    }
    if (more) for (const id of more) fn(id);
  };
  for (const { b, devs, by } of scheduled) {
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
      for (const output of OUTPUTS) {
        // a text bulletin is not planned on a loudspeaker
        if (!outputs.has(output)) continue;
        const t = by[output];
        if (t.member.size === 0) continue;
        const done = new Map<string, number>();
        each(k, output, (id) => {
          const g = t.member.get(id);
          if (g !== undefined) done.set(g, (done.get(g) ?? 0) + 1);
        });
        for (const [g, n] of t.rows) {
          const r = sink.row(g);
          const ok = done.get(g) ?? 0;
          const fig = output === 'audio' ? r.audio : r.display;
          fig.planned += n;
          fig.done += ok;
          const dr = sink.daily?.(day, g, output);
          if (dr) {
            dr.planned += n;
            dr.done += ok;
          }
          if (essentialBy[output] !== 'normal') {
            targeted += n;
            reached += ok;
            r.essential.targeted += n;
            r.essential.reached += ok;
          }
        }
      }
      if (essential && targeted > 0) {
        const missed: EssentialItem['missed'] = [];
        if (reached < targeted && sink.missedMax > 0) {
          // the stations that missed it, in the order of the targeted devices
          const played = { audio: new Set<string>(), display: new Set<string>() };
          for (const o of OUTPUTS)
            if (outputs.has(o) && essentialBy[o] !== 'normal') each(k, o, (id) => played[o].add(id));
          for (const d of devs) {
            const o = outputOfDevice(d.kind);
            if (!outputs.has(o) || essentialBy[o] === 'normal' || played[o].has(d.id)) continue;
            missed.push({ deviceId: d.id, name: d.name, unit: d.unit });
            if (missed.length >= sink.missedMax) break;
          }
        }
        const priority =
          essentialBy.audio === 'emergency' || essentialBy.display === 'emergency' ? 'emergency' : 'priority';
        const first = b.manifest.items.find((i) => slot.itemIds.includes(i.id) && i.priority !== 'normal');
        sink.essential({
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
