/**
 * The programme timeline page's view model (pure): a commune's (or one station's) day as two lanes,
 * the loudspeakers and the noticeboards, each with rows (times, length, names, why an item will
 * not play) and bands for a 24-hour bar; and the choices form (which upper-level slots the
 * commune carries, its quiet hours) read from and written to the choices API.
 */
import type { OptOut } from '@loa/protocol';
import type { ProgrammeTimeline, TimelineOutput, TimelineRow } from '../../../domain/programme-timeline.js';
import { formatTime } from '../time.js';

/** Which lanes the page shows. */
export type LaneFilter = 'all' | TimelineOutput;

/** A length in words' parts: hours, minutes, seconds (zeros left out by the page). */
export interface LengthParts {
  h: number;
  min: number;
  s: number;
}

export interface TimelineRowView {
  row: TimelineRow;
  /**
   * The start, and the end when the length is known ("05:30:00–05:30:14", "06:00–06:05": seconds
   * only where a time is not on the minute); the start alone when it is not.
   */
  time: string;
  /** The item's length (known lengths only). */
  length?: LengthParts;
  /** The name of the unit the item comes from (province, the commune). */
  fromName: string;
  /** The name of the unit whose choice refused it. */
  refusedBy?: string;
}

export interface Band {
  output?: TimelineOutput;
  left: number;
  width: number;
  state: TimelineRow['state'] | 'quiet-window';
  label: string;
}

/** An upper-level slot the commune may refuse: one schedule entry of one channel. */
export interface SlotChoice {
  key: string;
  channel: string;
  entryId: string;
  programme: string;
  /** The titles of the slot's items on that day. */
  titles: string[];
  /** Where its items come out: refusing the slot keeps them off the loudspeakers, the boards or both. */
  outputs: TimelineOutput[];
  times: string[];
  refused: boolean;
}

export interface LaneView {
  output: TimelineOutput;
  rows: TimelineRowView[];
  /** The lane's items and the unit's quiet windows, for its 24-hour bar. */
  bands: Band[];
  counts: { plays: number; optedOut: number; quiet: number };
}

export interface TimelineView {
  rows: TimelineRowView[];
  bands: Band[];
  /** The lanes the filter keeps (loudspeakers first), each even when empty. */
  lanes: LaneView[];
  slots: SlotChoice[];
  /** Opt-outs the form does not show (channel-wide or by category), kept as they are. */
  kept: OptOut[];
  quiet: { start: string; end: string }[];
  counts: { plays: number; optedOut: number; quiet: number };
}

const pct = (ms: number, tl: ProgrammeTimeline) =>
  Math.max(0, Math.min(100, ((ms - tl.dayStart) / (tl.dayEnd - tl.dayStart)) * 100));

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Quiet windows as bands of the day (a window over midnight gives two). */
function quietBands(q: { start: string; end: string }): { from: number; to: number }[] {
  const s = minutes(q.start);
  const e = minutes(q.end);
  if (s === e) return [];
  return s < e
    ? [{ from: s, to: e }]
    : [
        { from: 0, to: e },
        { from: s, to: 1440 },
      ];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local (Vietnam) "HH:MM", or "HH:MM:SS" when `seconds`. */
function clock(ms: number, seconds: boolean): string {
  if (!seconds) return formatTime(ms);
  const s = Math.floor(((((ms + 7 * 3600_000) % 86_400_000) + 86_400_000) % 86_400_000) / 1000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** A row's time: its start and real end; seconds shown where either is not on the minute. */
export function rowTime(row: Pick<TimelineRow, 'start' | 'end' | 'lengthKnown'>): string {
  if (!row.lengthKnown) return clock(row.start, row.start % 60_000 !== 0);
  const seconds = row.start % 60_000 !== 0 || row.end % 60_000 !== 0;
  return `${clock(row.start, seconds)}–${clock(row.end, seconds)}`;
}

/** A length in hours, minutes and seconds (rounded to the second, at least one second). */
export function lengthParts(ms: number): LengthParts {
  const s = Math.max(1, Math.round(ms / 1000));
  return { h: Math.floor(s / 3600), min: Math.floor(s / 60) % 60, s: s % 60 };
}

function counts(rows: readonly TimelineRowView[]): LaneView['counts'] {
  return {
    plays: rows.filter((r) => r.row.state === 'plays').length,
    optedOut: rows.filter((r) => r.row.state === 'opted-out').length,
    quiet: rows.filter((r) => r.row.state === 'quiet').length,
  };
}

export function slotKey(channel: string, entryId: string): string {
  return `${channel}|${entryId}`;
}

export function timelineView(
  tl: ProgrammeTimeline,
  names: ReadonlyMap<string, string>,
  current: { optOut: OptOut[]; quietHours: { start: string; end: string }[] } | undefined,
  filter: LaneFilter = 'all',
): TimelineView {
  const name = (u: string) => names.get(u) ?? u;
  const rows = tl.rows.map((row) => {
    const v: TimelineRowView = { row, time: rowTime(row), fromName: name(row.from) };
    if (row.lengthKnown) v.length = lengthParts(row.end - row.start);
    if (row.optedOutBy) v.refusedBy = name(row.optedOutBy.unit);
    return v;
  });
  const quietWindows: Band[] = [];
  for (const q of tl.quiet)
    for (const b of quietBands(q))
      quietWindows.push({
        left: (b.from / 1440) * 100,
        width: ((b.to - b.from) / 1440) * 100,
        state: 'quiet-window',
        label: `${q.start}–${q.end}`,
      });
  const bands: Band[] = [...quietWindows];
  for (const r of rows) {
    const left = pct(r.row.start, tl);
    bands.push({
      output: r.row.output,
      left,
      width: Math.max(0.4, pct(r.row.end, tl) - left),
      state: r.row.state,
      label: `${r.time} ${r.row.title}`,
    });
  }
  // one station has one output; otherwise the filter's, loudspeakers first
  const station = tl.station ? (tl.station.kind === 'noticeboard' ? 'display' : 'audio') : undefined;
  const outputs: TimelineOutput[] = station ? [station] : filter === 'all' ? ['audio', 'display'] : [filter];
  const lanes = outputs.map((output): LaneView => {
    const laneRows = rows.filter((r) => r.row.output === output);
    return {
      output,
      rows: laneRows,
      bands: [...quietWindows, ...bands.filter((b) => b.output === output)],
      counts: counts(laneRows),
    };
  });
  const optOut = current?.optOut ?? [];
  const refused = (channel: string, entryId: string) =>
    optOut.some((o) => o.channel === channel && !o.categories && (o.entries?.includes(entryId) ?? false));
  const slots = new Map<string, SlotChoice>();
  for (const r of tl.rows) {
    if (r.source !== 'upper' || r.priority !== 'normal') continue;
    const key = slotKey(r.channel, r.entryId);
    const s = slots.get(key) ?? {
      key,
      channel: r.channel,
      entryId: r.entryId,
      programme: r.programme,
      titles: [],
      outputs: [],
      times: [],
      refused: refused(r.channel, r.entryId),
    };
    if (!s.outputs.includes(r.output)) s.outputs = [...s.outputs, r.output].sort();
    const at = formatTime(r.start);
    if (!s.times.includes(at)) s.times.push(at);
    if (!s.titles.includes(r.title)) s.titles.push(r.title);
    slots.set(key, s);
  }
  // a refused slot stays in the form on a day it does not occur, so it can be taken back
  for (const o of optOut)
    if (o.channel && o.entries && !o.categories)
      for (const e of o.entries) {
        const key = slotKey(o.channel, e);
        if (!slots.has(key))
          slots.set(key, {
            key,
            channel: o.channel,
            entryId: e,
            programme: o.channel,
            titles: [],
            outputs: [],
            times: [],
            refused: true,
          });
      }
  return {
    rows,
    bands,
    lanes,
    slots: [...slots.values()].sort((a, b) => (a.times[0] ?? '99').localeCompare(b.times[0] ?? '99')),
    kept: optOut.filter((o) => !(o.channel && o.entries && !o.categories)),
    quiet: current?.quietHours ?? [],
    counts: counts(rows),
  };
}

/**
 * The choices the form asks for: the refused slots (channel|entry keys) grouped per channel, the
 * opt-outs kept as they were, and the quiet windows whose both ends are filled.
 */
export function choicesFromForm(
  refusedKeys: readonly string[],
  kept: readonly OptOut[],
  quiet: readonly { start: string; end: string }[],
): { optOut: OptOut[]; quietHours: { start: string; end: string }[] } {
  const byChannel = new Map<string, string[]>();
  for (const k of refusedKeys) {
    const [channel, entry] = k.split('|');
    if (!channel || !entry) continue;
    const list = byChannel.get(channel) ?? [];
    if (!list.includes(entry)) list.push(entry);
    byChannel.set(channel, list);
  }
  return {
    optOut: [...[...byChannel].map(([channel, entries]) => ({ channel, entries })), ...kept],
    quietHours: quiet.filter((q) => q.start !== '' && q.end !== ''),
  };
}
