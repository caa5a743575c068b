/**
 * The week view of the programme page (pure): per output (loudspeakers, noticeboards), one row per
 * day of the week with the counts of the day plan, why items are held, the first and last times
 * and the air time, ready for the page's words.
 */
import type { TimelineOutput } from '../../../domain/programme-timeline.js';
import { addDays, type ProgrammeWeek } from '../../../domain/programme-week.js';
import { formatDay, formatTime } from '../time.js';
import { type LaneFilter, type LengthParts, lengthParts } from './timeline.js';

export type HeldReason = { kind: 'quiet'; n: number } | { kind: 'opted-out'; n: number; name: string };

export interface WeekDayRow {
  day: string;
  /** 0 = Monday … 6 = Sunday. */
  weekday: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  /** "07/12/2026". */
  date: string;
  plays: number;
  held: number;
  reasons: HeldReason[];
  /** "05:30" (absent: nothing plays). */
  first?: string;
  last?: string;
  airtime?: LengthParts;
  airtimeEstimated: boolean;
}

export interface WeekLane {
  output: TimelineOutput;
  days: WeekDayRow[];
  totals: { plays: number; held: number; airtime?: LengthParts; airtimeEstimated: boolean };
}

export interface WeekView {
  week: string;
  /** The Sunday the week ends on. */
  end: string;
  prev: string;
  next: string;
  lanes: WeekLane[];
}

export function weekView(
  w: ProgrammeWeek,
  names: ReadonlyMap<string, string>,
  filter: LaneFilter = 'all',
): WeekView {
  const name = (u: string) => names.get(u) ?? u;
  const station = w.station ? (w.station.kind === 'noticeboard' ? 'display' : 'audio') : undefined;
  const outputs: TimelineOutput[] = station ? [station] : filter === 'all' ? ['audio', 'display'] : [filter];
  const lanes = outputs.map((output): WeekLane => {
    const days = w.days.map((d, weekday): WeekDayRow => {
      const o = d.outputs[output];
      const reasons: HeldReason[] = [];
      if (o.held.quiet) reasons.push({ kind: 'quiet', n: o.held.quiet });
      for (const x of o.held.optedOut) reasons.push({ kind: 'opted-out', n: x.n, name: name(x.unit) });
      const row: WeekDayRow = {
        day: d.day,
        weekday: (weekday % 7) as WeekDayRow['weekday'],
        date: formatDay(d.day),
        plays: o.plays,
        held: o.heldTotal,
        reasons,
        airtimeEstimated: o.airtimeEstimated,
      };
      if (o.first !== undefined) row.first = formatTime(o.first);
      if (o.last !== undefined) row.last = formatTime(o.last);
      if (o.plays) row.airtime = lengthParts(o.airtimeMs);
      return row;
    });
    const airtimeMs = w.days.reduce((s, d) => s + d.outputs[output].airtimeMs, 0);
    const plays = days.reduce((s, d) => s + d.plays, 0);
    return {
      output,
      days,
      totals: {
        plays,
        held: days.reduce((s, d) => s + d.held, 0),
        ...(plays ? { airtime: lengthParts(airtimeMs) } : {}),
        airtimeEstimated: days.some((d) => d.airtimeEstimated),
      },
    };
  });
  return {
    week: w.week,
    end: addDays(w.week, 6),
    prev: addDays(w.week, -7),
    next: addDays(w.week, 7),
    lanes,
  };
}
