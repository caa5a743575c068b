/**
 * A commune's programme for one day as its stations will play it (pure): the upper-level items it
 * carries, its own items, the items its choices opt out of (and which choice), and the items its
 * quiet hours hold. It reads the same rule the stations apply (`optedOutBy` in protocol) on the
 * same signed manifests, so what the dashboard shows is what a station decides; the station's
 * own config (local quiet hours, a late start) can still hold more.
 */
import {
  type Choices,
  type Item,
  isUpperLevel,
  type Manifest,
  optedOutBy,
  type QuietHours,
  unitCovers,
} from '@loa/protocol';
import { inQuietHours, slotsForDay } from './reports/plan.js';

/** An item with no length of its own is planned for this long (the station's default too). */
export const DEFAULT_ITEM_MS = 60_000;

export type TimelineState = 'plays' | 'opted-out' | 'quiet';

export interface TimelineRow {
  /** ms since epoch */
  start: number;
  end: number;
  bundleId: string;
  channel: string;
  /** The bundle's description, for people (else the channel). */
  programme: string;
  entryId: string;
  itemId: string;
  title: string;
  kind: Item['kind'];
  priority: Item['priority'];
  /** From a unit above (province, district) or the commune's own (its unit or below). */
  source: 'upper' | 'own';
  /** The unit path the bundle addresses that reaches this commune. */
  from: string;
  state: TimelineState;
  /** opted-out: the unit whose choices (and which version) refused it. */
  optedOutBy?: { unit: string; version: number };
}

export interface ProgrammeTimeline {
  unit: string;
  /** Local day (YYYY-MM-DD, +07:00) and its bounds. */
  day: string;
  dayStart: number;
  dayEnd: number;
  rows: TimelineRow[];
  /** Quiet windows of the day from the choices of the commune and the units above (local HH:MM). */
  quiet: (QuietHours & { unit: string })[];
}

/** True when a bundle reaches the unit: a target above it, on it, or inside it. */
export function reachesUnit(m: Pick<Manifest, 'targets'>, unit: string): boolean {
  return m.targets.some((t) => unitCovers(t.unit, unit) || unitCovers(unit, t.unit));
}

const VN_OFFSET_MS = 7 * 3600_000;

export function programmeTimeline(opts: {
  unit: string;
  day: string;
  manifests: readonly Manifest[];
  choices: readonly Choices[];
}): ProgrammeTimeline {
  const { unit, day, choices } = opts;
  const dayStart = Date.parse(`${day}T00:00:00Z`) - VN_OFFSET_MS;
  const dayEnd = dayStart + 86_400_000;
  const quiet = choices.flatMap((c) => c.quietHours.map((q) => ({ ...q, unit: c.unit })));
  const rows: TimelineRow[] = [];
  for (const m of opts.manifests) {
    if (!reachesUnit(m, unit)) continue;
    const upper = isUpperLevel(m, unit);
    const from =
      m.targets.find((t) => unitCovers(t.unit, unit) || unitCovers(unit, t.unit))?.unit ?? m.targets[0]?.unit;
    const items = new Map(m.items.map((i) => [i.id, i] as const));
    // every slot of the day, quiet ones included: the timeline explains them instead of hiding them
    for (const slot of slotsForDay({ ...m, quietHours: [] }, dayStart)) {
      const entry = m.schedule?.find((e) => e.id === slot.entryId);
      const count = entry?.repeat?.count ?? 1;
      const gap = (entry?.repeat?.gapSeconds ?? 0) * 1000;
      let t = slot.at;
      for (let rep = 0; rep < count; rep++) {
        if (rep > 0) t += gap;
        for (const id of slot.itemIds) {
          const it = items.get(id);
          if (!it) continue;
          const len = it.durationMs ?? DEFAULT_ITEM_MS;
          const by = optedOutBy(choices, m, slot.entryId, it);
          const minute = Math.floor((((t + VN_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000) / 60_000;
          const isQuiet =
            it.priority !== 'emergency' &&
            (inQuietHours(Math.floor(minute), m.quietHours) || inQuietHours(Math.floor(minute), quiet));
          const row: TimelineRow = {
            start: t,
            end: t + len,
            bundleId: m.id,
            channel: m.channel,
            programme: m.description ?? m.channel,
            entryId: slot.entryId,
            itemId: it.id,
            title: it.title,
            kind: it.kind,
            priority: it.priority,
            source: upper ? 'upper' : 'own',
            from: from ?? unit,
            state: by ? 'opted-out' : isQuiet ? 'quiet' : 'plays',
          };
          if (by) row.optedOutBy = { unit: by.unit, version: by.version };
          rows.push(row);
          // an opted-out item takes no air time: the next item of the slot moves up, as on a station
          if (!by) t += len;
        }
      }
    }
  }
  rows.sort(
    (a, b) => a.start - b.start || a.channel.localeCompare(b.channel) || a.itemId.localeCompare(b.itemId),
  );
  return { unit, day, dayStart, dayEnd, rows, quiet };
}
