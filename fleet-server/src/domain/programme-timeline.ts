/**
 * A commune's programme for one day as its stations will play it (pure): the upper-level items it
 * carries, its own items, the items its choices opt out of (and which choice), and the items its
 * quiet hours hold, each on its output: the loudspeakers (audio, stream, FM) or the noticeboards'
 * screens (text, image, video), which run side by side as two lanes on a station. It reads the
 * same rule the stations apply (`optedOutBy` in protocol) on the same signed manifests, so what the
 * dashboard shows is what a station decides, on either lane; the station's own config (local quiet
 * hours, a late start, a board's default display time) can still change more. Given one station,
 * only the bundles that target it and the lane it has are drawn.
 */
import {
  type Choices,
  type DeviceIdentity,
  type Item,
  isLiveItem,
  isUpperLevel,
  type Manifest,
  optedOutBy,
  type QuietHours,
  targetMatches,
  unitCovers,
} from '@loa/protocol';
import type { DeviceKind } from './model.js';
import { inQuietHours, slotsForDay } from './reports/plan.js';

/** An item with no length of its own is planned for this long (the station's default too). */
export const DEFAULT_ITEM_MS = 60_000;

export type TimelineState = 'plays' | 'opted-out' | 'quiet';

/** Where an item comes out: the loudspeakers or a noticeboard's screen (the station's two lanes). */
export type TimelineOutput = 'audio' | 'display';

/** The station's rule (agent `laneOf`): audio, stream and FM are heard, text, image and video shown. */
export function outputOf(item: Pick<Item, 'kind'>): TimelineOutput {
  return item.kind === 'audio' || isLiveItem(item) ? 'audio' : 'display';
}

/** The output a kind of device has: a noticeboard shows, a loudspeaker station plays. */
export function outputOfDeviceKind(kind: DeviceKind): TimelineOutput {
  return kind === 'noticeboard' ? 'display' : 'audio';
}

/** One station the day is drawn for: its bundles are those whose targets name it. */
export interface TimelineStation {
  id: string;
  kind: DeviceKind;
  groups: string[];
}

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
  /** Loudspeakers or screen. */
  output: TimelineOutput;
  /**
   * The item's length is in its manifest (`durationMs`): `end` is when it ends (for a screen item,
   * when it leaves the screen). False: the station measures it (a recording without a length, a
   * live relay) or uses its own default display time, and `end` only assumes DEFAULT_ITEM_MS.
   */
  lengthKnown: boolean;
  /** An item before it in the same slot and lane has no known length: `start` is an estimate. */
  startEstimated: boolean;
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
  /** The station the day is drawn for (absent: every station of the unit). */
  station?: TimelineStation;
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
  /** One station of the unit: only what targets it, on the output it has. */
  station?: TimelineStation;
}): ProgrammeTimeline {
  const { unit, day, choices, station } = opts;
  const dayStart = Date.parse(`${day}T00:00:00Z`) - VN_OFFSET_MS;
  const dayEnd = dayStart + 86_400_000;
  const quiet = choices.flatMap((c) => c.quietHours.map((q) => ({ ...q, unit: c.unit })));
  const identity: DeviceIdentity | undefined = station
    ? { unit, deviceId: station.id, groups: station.groups }
    : undefined;
  const only = station ? outputOfDeviceKind(station.kind) : undefined;
  const rows: TimelineRow[] = [];
  for (const m of opts.manifests) {
    if (!reachesUnit(m, unit)) continue;
    if (identity && !m.targets.some((t) => targetMatches(t, identity))) continue;
    const upper = isUpperLevel(m, unit);
    const from =
      m.targets.find((t) => unitCovers(t.unit, unit) || unitCovers(unit, t.unit))?.unit ?? m.targets[0]?.unit;
    const items = new Map(m.items.map((i) => [i.id, i] as const));
    // every slot of the day, quiet ones included: the timeline explains them instead of hiding them
    for (const slot of slotsForDay({ ...m, quietHours: [] }, dayStart)) {
      const entry = m.schedule?.find((e) => e.id === slot.entryId);
      const count = entry?.repeat?.count ?? 1;
      const gap = (entry?.repeat?.gapSeconds ?? 0) * 1000;
      // the two lanes of a station run side by side: each has its own running time in the slot
      const lanes: Record<TimelineOutput, { t: number; estimated: boolean; started: boolean }> = {
        audio: { t: slot.at, estimated: false, started: false },
        display: { t: slot.at, estimated: false, started: false },
      };
      for (let rep = 0; rep < count; rep++) {
        for (const lane of Object.values(lanes)) lane.started = false;
        for (const id of slot.itemIds) {
          const it = items.get(id);
          if (!it) continue;
          const output = outputOf(it);
          if (only && output !== only) continue;
          const lane = lanes[output];
          // a repetition starts after the gap, in each lane that has items
          if (rep > 0 && !lane.started) lane.t += gap;
          lane.started = true;
          const t = lane.t;
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
            output,
            lengthKnown: it.durationMs !== undefined,
            startEstimated: lane.estimated,
            priority: it.priority,
            source: upper ? 'upper' : 'own',
            from: from ?? unit,
            state: by ? 'opted-out' : isQuiet ? 'quiet' : 'plays',
          };
          if (by) row.optedOutBy = { unit: by.unit, version: by.version };
          rows.push(row);
          // an opted-out item takes no air time: the next item of the slot moves up, as on a station
          if (!by) {
            lane.t += len;
            if (it.durationMs === undefined) lane.estimated = true;
          }
        }
      }
    }
  }
  rows.sort(
    (a, b) => a.start - b.start || a.channel.localeCompare(b.channel) || a.itemId.localeCompare(b.itemId),
  );
  return { unit, day, dayStart, dayEnd, rows, quiet, ...(station ? { station } : {}) };
}
