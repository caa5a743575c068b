/**
 * A commune's (or one station's) programme for a week (pure): for each of its seven local days
 * (Monday to Sunday, Vietnam time), per output (loudspeakers, noticeboards), how many items will
 * play, how many are held and why (quiet hours, a unit's choices), the first start and last end,
 * and the total air time. Each day is the day plan itself (`programmeTimeline`, injected), counted;
 * nothing here decides what plays.
 */
import type { Clock } from '@loa/protocol';
import type { ProgrammeTimeline, TimelineOutput, TimelineStation } from './programme-timeline.js';

const VN_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** One output's day in numbers. */
export interface WeekOutputDay {
  plays: number;
  /** Items that will not play: the sum of `held.quiet` and the opted-out counts. */
  heldTotal: number;
  held: {
    /** Held by quiet hours. */
    quiet: number;
    /** Refused by a unit's choices, per unit (the commune or a unit above). */
    optedOut: { unit: string; n: number }[];
  };
  /** Start of the first item that plays and end of the last (ms since epoch). */
  first?: number;
  last?: number;
  /** Sum of the playing items' lengths (an unknown length counts as the day plan's default). */
  airtimeMs: number;
  /** Some playing item has no length in its manifest: the air time is an estimate. */
  airtimeEstimated: boolean;
}

export interface ProgrammeWeekDay {
  /** Local day, YYYY-MM-DD. */
  day: string;
  outputs: Record<TimelineOutput, WeekOutputDay>;
}

export interface ProgrammeWeek {
  unit: string;
  /** The Monday the week starts on (local, YYYY-MM-DD). */
  week: string;
  days: ProgrammeWeekDay[];
  station?: TimelineStation;
  /** Quiet windows of the first day (the same choices apply all week). */
  quiet: ProgrammeTimeline['quiet'];
}

/** True for a real calendar day written YYYY-MM-DD. */
export function isDay(day: string): boolean {
  if (!DAY_RE.test(day)) return false;
  const t = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === day;
}

/** `day` moved by `n` calendar days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The Vietnamese calendar day of an instant (it changes at 17:00 UTC). */
export function vnDayOf(ms: number): string {
  return new Date(ms + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** The Monday of the week a local day belongs to. */
export function mondayOf(day: string): string {
  const dow = new Date(Date.parse(`${day}T00:00:00Z`)).getUTCDay(); // 0 = Sunday
  return addDays(day, -((dow + 6) % 7));
}

function outputDay(tl: ProgrammeTimeline, output: TimelineOutput): WeekOutputDay {
  const rows = tl.rows.filter((r) => r.output === output);
  const plays = rows.filter((r) => r.state === 'plays');
  const optedOut = new Map<string, number>();
  for (const r of rows)
    if (r.state === 'opted-out') {
      const u = r.optedOutBy?.unit ?? tl.unit;
      optedOut.set(u, (optedOut.get(u) ?? 0) + 1);
    }
  const quiet = rows.filter((r) => r.state === 'quiet').length;
  const out: WeekOutputDay = {
    plays: plays.length,
    heldTotal: rows.length - plays.length,
    held: { quiet, optedOut: [...optedOut].map(([unit, n]) => ({ unit, n })) },
    airtimeMs: plays.reduce((s, r) => s + (r.end - r.start), 0),
    airtimeEstimated: plays.some((r) => !r.lengthKnown || r.startEstimated),
  };
  if (plays.length) {
    out.first = Math.min(...plays.map((r) => r.start));
    out.last = Math.max(...plays.map((r) => r.end));
  }
  return out;
}

/**
 * The week holding `week` (any day of it; absent: the current local week by `clock`), each day from
 * `dayPlan`, the day computation for that local day.
 */
export function programmeWeek(opts: {
  unit: string;
  week?: string;
  clock: Clock;
  dayPlan: (day: string) => ProgrammeTimeline;
}): ProgrammeWeek {
  const monday = mondayOf(opts.week ?? vnDayOf(opts.clock.now()));
  const plans = Array.from({ length: 7 }, (_, i) => opts.dayPlan(addDays(monday, i)));
  const first = plans[0] as ProgrammeTimeline;
  return {
    unit: first.unit ?? opts.unit,
    week: monday,
    days: plans.map((tl) => ({
      day: tl.day,
      outputs: { audio: outputDay(tl, 'audio'), display: outputDay(tl, 'display') },
    })),
    quiet: first.quiet,
    ...(first.station ? { station: first.station } : {}),
  };
}
