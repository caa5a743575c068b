/**
 * Local wall-clock arithmetic with a fixed UTC offset (Vietnam has no daylight saving time:
 * +07:00 all year). Pure functions on ms since the epoch.
 */
import type { Weekday } from '@loa/protocol';

export const DAY_MS = 86_400_000;
export const DEFAULT_UTC_OFFSET = '+07:00';

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "+07:00" → 420 (minutes east of UTC). */
export function offsetMinutes(offset: string | undefined): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset ?? DEFAULT_UTC_OFFSET);
  if (!m) throw new RangeError(`bad UTC offset ${offset}`);
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

/** "HH:MM" → minutes after midnight. */
export function minutesOfDay(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new RangeError(`bad time of day ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** UTC ms of the local midnight starting the local day that contains t. */
export function localMidnight(t: number, offsetMin: number): number {
  const off = offsetMin * 60_000;
  return Math.floor((t + off) / DAY_MS) * DAY_MS - off;
}

/** Weekday of the local day starting at `midnight` (a value from localMidnight). */
export function weekdayOf(midnight: number, offsetMin: number): Weekday {
  const d = new Date(midnight + offsetMin * 60_000).getUTCDay();
  return WEEKDAYS[d] ?? 'sun';
}

/** Local midnights of every local day overlapping [from, to]. */
export function localDays(from: number, to: number, offsetMin: number): number[] {
  const out: number[] = [];
  for (let d = localMidnight(from, offsetMin); d <= to; d += DAY_MS) out.push(d);
  return out;
}

export interface Interval {
  start: number;
  end: number;
}

/**
 * Daily windows "HH:MM"–"HH:MM" (end before start spans midnight; equal = whole day) as merged,
 * sorted UTC intervals covering [from, to].
 */
export function dailyWindows(
  windows: readonly { start: string; end: string }[],
  offsetMin: number,
  from: number,
  to: number,
): Interval[] {
  const raw: Interval[] = [];
  for (const day of localDays(from - DAY_MS, to, offsetMin)) {
    for (const w of windows) {
      const s = minutesOfDay(w.start) * 60_000;
      let e = minutesOfDay(w.end) * 60_000;
      if (e <= s) e += DAY_MS;
      raw.push({ start: day + s, end: day + e });
    }
  }
  return mergeIntervals(raw.filter((i) => i.end > from && i.start < to));
}

export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ ...i });
  }
  return out;
}

/** The interval containing t, if any. */
export function intervalAt(list: readonly Interval[], t: number): Interval | undefined {
  return list.find((i) => i.start <= t && t < i.end);
}

/** The first interval overlapping [start, end), if any. */
export function firstOverlap(list: readonly Interval[], start: number, end: number): Interval | undefined {
  return list.find((i) => i.start < end && i.end > start);
}
