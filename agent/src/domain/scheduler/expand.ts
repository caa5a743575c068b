/**
 * Expands the bundles' schedule rules into jobs: one job per occurrence and output lane, each a
 * sequence of steps (items × the signed repeat count, with the gap between repetitions).
 */
import { type Item, isLiveItem, type Manifest, optedOutBy, type ScheduleEntry } from '@loa/protocol';
import { localDays, minutesOfDay, offsetMinutes, weekdayOf } from './local-time.js';
import type { PlanBundle, PriorityClass, ScheduleInput, SlotOutput, ToneSpec } from './types.js';

export const DEFAULTS = {
  defaultItemMs: 60_000,
  defaultStreamMs: 30 * 60_000,
  maxLateMs: 15 * 60_000,
  warmupMs: 2000,
};

export interface Step {
  itemKey: string;
  item: Item;
  itemIndex: number;
  rep: number;
  /** Wait this long after the previous step (the repeat gap). */
  gapBeforeMs: number;
  durationMs: number;
  file?: string;
  sha?: string;
  tone?: ToneSpec;
}

export interface Job {
  key: string;
  lane: SlotOutput;
  cls: PriorityClass;
  due: number;
  validFrom: number;
  validUntil: number;
  steps: Step[];
  bundleId?: string;
  channel?: string;
  bundleVersion?: number;
  entryId: string;
  volume?: number;
  zones?: string[];
  repeatCount: number;
  /** See {@link AdhocItem.local}. */
  local?: boolean;
}

export const RANK: Record<PriorityClass, number> = { emergency: 4, live: 3, priority: 2, normal: 1, fill: 0 };

export function laneOf(item: Item): SlotOutput {
  return item.kind === 'audio' || isLiveItem(item) ? 'audio' : 'display';
}

export function classOf(items: readonly Item[], fill: boolean): PriorityClass {
  if (items.some((i) => i.priority === 'emergency')) return 'emergency';
  if (fill) return 'fill';
  if (items.some(isLiveItem)) return 'live';
  if (items.some((i) => i.priority === 'priority')) return 'priority';
  return 'normal';
}

export function itemDuration(item: Item, input: ScheduleInput): number {
  if (item.durationMs !== undefined) return item.durationMs;
  if (isLiveItem(item)) return input.policy.defaultStreamMs ?? DEFAULTS.defaultStreamMs;
  const probed = item.blob ? input.durationsMs?.get(item.blob.sha256) : undefined;
  return Math.max(1, probed ?? input.policy.defaultItemMs ?? DEFAULTS.defaultItemMs);
}

/** Due instants of an entry's rule inside [from, to]. */
function dueTimes(b: PlanBundle, e: ScheduleEntry, lower: number, from: number, to: number): number[] {
  const rule = e.rule;
  switch (rule.type) {
    case 'immediate':
      return [Math.max(b.activatedAt, lower)];
    case 'once':
      return [Date.parse(rule.at)];
    case 'daily':
    case 'weekly': {
      const off = offsetMinutes(b.manifest.utcOffset);
      const out: number[] = [];
      for (const day of localDays(from, to, off)) {
        if (rule.type === 'weekly' && !rule.days.includes(weekdayOf(day, off))) continue;
        for (const hhmm of [...new Set(rule.times)].sort()) out.push(day + minutesOfDay(hhmm) * 60_000);
      }
      return out.filter((t) => t >= from && t <= to);
    }
  }
}

/**
 * The bundle's schedule. A bundle without one whose items include emergencies (an emergency
 * built for a USB stick, `loa bundle build --priority emergency` with no --schedule) plays its
 * emergency items once, at once, as an emergency received online does.
 */
function entriesOf(m: Manifest): readonly ScheduleEntry[] {
  if (m.schedule && m.schedule.length > 0) return m.schedule;
  const urgent = m.items.filter((i) => i.priority === 'emergency');
  if (urgent.length === 0) return [];
  return [{ id: 'emergency', items: urgent.map((i) => i.id), rule: { type: 'immediate' } }];
}

function blobFile(b: PlanBundle, sha: string): string {
  return `${b.blobDir.replace(/\/+$/, '')}/${sha}`;
}

/** An item a commune's choices keep off this station (see `optedOutBy` in protocol). */
export interface OptedOutStep {
  itemKey: string;
  item: Item;
  bundleId: string;
  entryId: string;
  due: number;
  cls: PriorityClass;
}

/**
 * All jobs of the active bundles due in [from, to], sorted by key. Items that the commune's
 * choices opt out of are left out of the jobs and listed in `optedOut` when it is given.
 */
export function expandBundles(
  input: ScheduleInput,
  from: number,
  to: number,
  optedOut?: OptedOutStep[],
): Job[] {
  const choices = input.choices ?? [];
  const jobs: Job[] = [];
  const bundles = [...input.bundles].sort(
    (a, b) =>
      a.manifest.channel.localeCompare(b.manifest.channel) ||
      a.manifest.id.localeCompare(b.manifest.id) ||
      a.manifest.version - b.manifest.version,
  );
  for (const b of bundles) {
    const m = b.manifest;
    const items = new Map(m.items.map((i) => [i.id, i] as const));
    const bundleFrom = Date.parse(m.notBefore ?? m.created);
    const bundleUntil = Date.parse(m.expires);
    for (const e of entriesOf(m)) {
      const validFrom = Math.max(bundleFrom, e.validFrom ? Date.parse(e.validFrom) : bundleFrom);
      const validUntil = Math.min(bundleUntil, e.validUntil ? Date.parse(e.validUntil) : bundleUntil);
      if (validFrom >= validUntil) continue;
      const entryItems = e.items.map((id) => items.get(id)).filter((i): i is Item => i !== undefined);
      const count = e.repeat?.count ?? 1;
      const gap = (e.repeat?.gapSeconds ?? 0) * 1000;
      // An occurrence is still in progress for as long as its repetitions and gaps last: one
      // due before `from` by less than that may have repetitions left to play.
      const span = count * entryItems.reduce((n, i) => n + itemDuration(i, input), 0) + (count - 1) * gap;
      const entryFrom = from - span;
      for (const due of dueTimes(b, e, validFrom, entryFrom, to)) {
        if (due < validFrom || due >= validUntil || due < entryFrom || due > to) continue;
        // Keyed by channel, not bundle version: a new version of the programme that keeps an
        // entry neither replays nor cuts an occurrence already played or on air.
        const key = `${m.channel}/${e.id}/${new Date(due).toISOString()}`;
        for (const lane of ['audio', 'display'] as const) {
          const laneItems = entryItems.filter((i) => laneOf(i) === lane);
          if (laneItems.length === 0) continue;
          const steps: Step[] = [];
          const cls = classOf(laneItems, e.fill === true);
          for (let rep = 0; rep < count; rep++) {
            e.items.forEach((id, idx) => {
              const item = items.get(id);
              if (!item || laneOf(item) !== lane) return;
              if (choices.length > 0 && optedOutBy(choices, m, e.id, item)) {
                optedOut?.push({
                  itemKey: `${key}/r${rep}/i${idx}`,
                  item,
                  bundleId: m.id,
                  entryId: e.id,
                  due,
                  cls,
                });
                return;
              }
              const first = steps.length === 0 || steps.at(-1)?.rep !== rep;
              const step: Step = {
                itemKey: `${key}/r${rep}/i${idx}`,
                item,
                itemIndex: idx,
                rep,
                gapBeforeMs: rep > 0 && first ? gap : 0,
                durationMs: itemDuration(item, input),
              };
              if (item.blob) {
                step.sha = item.blob.sha256;
                step.file = blobFile(b, item.blob.sha256);
              }
              steps.push(step);
            });
          }
          if (steps.length === 0) continue;
          const job: Job = {
            key,
            lane,
            cls,
            due,
            validFrom,
            validUntil,
            steps,
            bundleId: m.id,
            channel: m.channel,
            bundleVersion: m.version,
            entryId: e.id,
            repeatCount: count,
          };
          if (e.volume !== undefined) job.volume = e.volume;
          if (e.zones) job.zones = [...e.zones];
          jobs.push(job);
        }
      }
    }
  }
  for (const a of input.adhoc ?? []) {
    const step: Step = {
      itemKey: a.key,
      item: a.item,
      itemIndex: 0,
      rep: 0,
      gapBeforeMs: 0,
      durationMs: itemDuration(a.item, input),
    };
    if (a.file) step.file = a.file;
    if (a.item.blob) step.sha = a.item.blob.sha256;
    if (a.tone) step.tone = a.tone;
    const job: Job = {
      key: a.key,
      lane: laneOf(a.item),
      cls: a.priorityClass,
      due: a.due,
      validFrom: Number.NEGATIVE_INFINITY,
      validUntil: Number.POSITIVE_INFINITY,
      steps: [step],
      entryId: a.entryId,
      repeatCount: 1,
    };
    if (a.bundleId !== undefined) job.bundleId = a.bundleId;
    if (a.channel !== undefined) job.channel = a.channel;
    if (a.bundleVersion !== undefined) job.bundleVersion = a.bundleVersion;
    if (a.volume !== undefined) job.volume = a.volume;
    if (a.zones) job.zones = [...a.zones];
    if (a.local) job.local = true;
    jobs.push(job);
  }
  return jobs.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.lane < y.lane ? -1 : 1));
}
