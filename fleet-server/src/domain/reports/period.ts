/**
 * Report periods on the Vietnamese calendar (UTC+07:00, no daylight saving): day keys, quarters,
 * years, and the UTC days the stored streams are cut into. Pure arithmetic on the offset.
 */
import { LoaError } from '@loa/protocol';

export const VN_OFFSET_MS = 7 * 3600_000;
export const DAY_MS = 86_400_000;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Vietnamese calendar day of an instant, "2026-11-26". */
export function vnDay(ms: number): string {
  return new Date(ms + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** Milliseconds of 00:00 +07:00 on a day key (NaN for a malformed key). */
export function vnDayStart(day: string): number {
  if (!DAY_RE.test(day)) return Number.NaN;
  return Date.parse(`${day}T00:00:00+07:00`);
}

/** The UTC day (segment file day) of an instant. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface Period {
  /** First and last Vietnamese day, inclusive. */
  from: string;
  to: string;
  /** [startMs, endMs) */
  startMs: number;
  endMs: number;
  /** Every day key of the period, in order. */
  days: string[];
}

/** A period from day keys; fails with REPORT_PERIOD_INVALID (reversed, malformed, or over `maxDays`). */
export function periodOf(from: string, to: string, maxDays = 366): Period {
  const a = vnDayStart(from);
  const b = vnDayStart(to);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < a || vnDay(a) !== from || vnDay(b) !== to)
    throw new LoaError('REPORT_PERIOD_INVALID', `khoảng ngày không hợp lệ: ${from} – ${to}`, {
      details: { from, to },
    });
  const n = Math.round((b - a) / DAY_MS) + 1;
  if (n > maxDays)
    throw new LoaError('REPORT_PERIOD_TOO_LONG', `khoảng ngày dài quá ${maxDays} ngày`, {
      details: { from, to, maxDays },
    });
  const days = Array.from({ length: n }, (_, i) => vnDay(a + i * DAY_MS));
  return { from, to, startMs: a, endMs: b + DAY_MS, days };
}

/** "2026-Q4" → Oct 1 – Dec 31; "2026" → the year; "2026-11" → the month. */
export function namedPeriod(name: string): Period {
  const q = /^(\d{4})-Q([1-4])$/.exec(name);
  if (q) {
    const y = Number(q[1]);
    const m = (Number(q[2]) - 1) * 3;
    const last = new Date(Date.UTC(y, m + 3, 0)).toISOString().slice(0, 10);
    return periodOf(`${y}-${String(m + 1).padStart(2, '0')}-01`, last);
  }
  const y = /^(\d{4})$/.exec(name);
  if (y) return periodOf(`${y[1]}-01-01`, `${y[1]}-12-31`);
  const mo = /^(\d{4})-(\d{2})$/.exec(name);
  if (mo) {
    const last = new Date(Date.UTC(Number(mo[1]), Number(mo[2]), 0)).toISOString().slice(0, 10);
    return periodOf(`${mo[1]}-${mo[2]}-01`, last);
  }
  throw new LoaError(
    'REPORT_PERIOD_INVALID',
    `kỳ báo cáo không hợp lệ: ${name} (ví dụ 2026-Q4, 2026, 2026-11)`,
    {
      details: { period: name },
    },
  );
}

/** Vietnamese name of a period: "Quý IV năm 2026", "Năm 2026", "Từ 01/10/2026 đến 07/10/2026". */
export function periodName(p: Pick<Period, 'from' | 'to'>): string {
  const [fy, fm, fd] = p.from.split('-').map(Number) as [number, number, number];
  const [ty, tm] = p.to.split('-').map(Number) as [number, number];
  const lastOf = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
  const toD = Number(p.to.slice(8, 10));
  if (fy === ty && fd === 1 && toD === lastOf(ty, tm)) {
    if (fm === 1 && tm === 12) return `Năm ${fy}`;
    if ((fm - 1) % 3 === 0 && tm === fm + 2) return `Quý ${['I', 'II', 'III', 'IV'][(fm - 1) / 3]} năm ${fy}`;
    if (fm === tm) return `Tháng ${fm} năm ${fy}`;
  }
  return `Từ ${formatDayVi(p.from)} đến ${formatDayVi(p.to)}`;
}

/** "26/11/2026" from "2026-11-26". */
export function formatDayVi(day: string): string {
  const m = DAY_RE.exec(day);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : day;
}

/** "20/11/2026 05:30" on the Vietnamese clock, from an ISO instant. */
export function formatInstantVi(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const t = new Date(ms + VN_OFFSET_MS).toISOString();
  return `${t.slice(8, 10)}/${t.slice(5, 7)}/${t.slice(0, 4)} ${t.slice(11, 16)}`;
}

/** "Quý IV năm 2026" → "quý IV năm 2026" (inside a sentence). */
export const lowerFirst = (s: string): string => s.charAt(0).toLocaleLowerCase('vi-VN') + s.slice(1);

/** UTC days that a [startMs, endMs) window touches. */
export function utcDaysOf(startMs: number, endMs: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${utcDay(startMs)}T00:00:00Z`); t < endMs; t += DAY_MS) out.push(utcDay(t));
  return out;
}
