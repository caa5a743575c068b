/**
 * The programme timeline page's view model (pure): a commune's day as rows with times, names and
 * why an item will not play, bands for a 24-hour bar, and the choices form (which upper-level
 * slots the commune carries, its quiet hours) read from and written to the choices API.
 */
import type { OptOut } from '@loa/protocol';
import type { ProgrammeTimeline, TimelineRow } from '../../../domain/programme-timeline.js';
import { formatTime } from '../time.js';

export interface TimelineRowView {
  row: TimelineRow;
  time: string;
  /** The name of the unit the item comes from (province, the commune). */
  fromName: string;
  /** The name of the unit whose choice refused it. */
  refusedBy?: string;
}

export interface Band {
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
  times: string[];
  refused: boolean;
}

export interface TimelineView {
  rows: TimelineRowView[];
  bands: Band[];
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

export function slotKey(channel: string, entryId: string): string {
  return `${channel}|${entryId}`;
}

export function timelineView(
  tl: ProgrammeTimeline,
  names: ReadonlyMap<string, string>,
  current: { optOut: OptOut[]; quietHours: { start: string; end: string }[] } | undefined,
): TimelineView {
  const name = (u: string) => names.get(u) ?? u;
  const rows = tl.rows.map((row) => {
    const v: TimelineRowView = {
      row,
      time: `${formatTime(row.start)}–${formatTime(row.end)}`,
      fromName: name(row.from),
    };
    if (row.optedOutBy) v.refusedBy = name(row.optedOutBy.unit);
    return v;
  });
  const bands: Band[] = [];
  for (const q of tl.quiet)
    for (const b of quietBands(q))
      bands.push({
        left: (b.from / 1440) * 100,
        width: ((b.to - b.from) / 1440) * 100,
        state: 'quiet-window',
        label: `${q.start}–${q.end}`,
      });
  for (const r of rows) {
    const left = pct(r.row.start, tl);
    bands.push({
      left,
      width: Math.max(0.4, pct(r.row.end, tl) - left),
      state: r.row.state,
      label: `${r.time} ${r.row.title}`,
    });
  }
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
      times: [],
      refused: refused(r.channel, r.entryId),
    };
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
            times: [],
            refused: true,
          });
      }
  return {
    rows,
    bands,
    slots: [...slots.values()].sort((a, b) => (a.times[0] ?? '99').localeCompare(b.times[0] ?? '99')),
    kept: optOut.filter((o) => !(o.channel && o.entries && !o.categories)),
    quiet: current?.quietHours ?? [],
    counts: {
      plays: tl.rows.filter((r) => r.state === 'plays').length,
      optedOut: tl.rows.filter((r) => r.state === 'opted-out').length,
      quiet: tl.rows.filter((r) => r.state === 'quiet').length,
    },
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
