/**
 * Dates as operators read them: Asia/Ho_Chi_Minh, a fixed UTC+07:00 with no daylight saving.
 * Pure arithmetic on the offset (no dependence on the host's time zone or ICU data).
 */
export const VN_OFFSET_MS = 7 * 3600_000;
export const VN_OFFSET = '+07:00';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function toMs(at: string | number | Date): number {
  if (typeof at === 'number') return at;
  if (at instanceof Date) return at.getTime();
  return Date.parse(at);
}

/** The parts of an instant on the Vietnamese wall clock. */
export function vnParts(at: string | number | Date): {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
} {
  const t = new Date(toMs(at) + VN_OFFSET_MS);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

/** "26/11/2026 05:30" (Vietnamese order, 24 h), or "—" for a missing or invalid instant. */
export function formatDateTime(at: string | number | Date | undefined | null, seconds = false): string {
  if (at === undefined || at === null) return '—';
  const ms = toMs(at);
  if (!Number.isFinite(ms)) return '—';
  const p = vnParts(ms);
  const time = `${pad(p.h)}:${pad(p.mi)}${seconds ? `:${pad(p.s)}` : ''}`;
  return `${pad(p.d)}/${pad(p.mo)}/${p.y} ${time}`;
}

/** "05:30" on the Vietnamese clock. */
export function formatTime(at: string | number | Date | undefined | null): string {
  if (at === undefined || at === null) return '—';
  const ms = toMs(at);
  if (!Number.isFinite(ms)) return '—';
  const p = vnParts(ms);
  return `${pad(p.h)}:${pad(p.mi)}`;
}

/** The Vietnamese calendar day of an instant, "2026-11-26". */
export function vnDay(at: string | number | Date): string {
  const p = vnParts(at);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`;
}

/** "26/11/2026" from a day key "2026-11-26". */
export function formatDay(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : day;
}

/** Milliseconds of 00:00 +07:00 on a day key. */
export function vnDayStart(day: string): number {
  return Date.parse(`${day}T00:00:00${VN_OFFSET}`);
}

/** ISO instant with the +07:00 offset, e.g. "2026-11-26T05:30:00+07:00". */
export function toVnIso(at: string | number | Date): string {
  const p = vnParts(at);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${VN_OFFSET}`;
}

/** Value for an <input type="datetime-local"> on the Vietnamese clock. */
export function toLocalInput(at: string | number | Date): string {
  return toVnIso(at).slice(0, 16);
}

/** Parses an <input type="datetime-local"> value as Vietnamese wall-clock time; null when invalid. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null;
  const iso = `${value}:00${VN_OFFSET}`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || toLocalInput(ms) !== value) return null;
  return iso;
}

/** "3 phút" style relative age in whole units, language-neutral numbers; caller adds words. */
export function ageParts(fromMs: number, nowMs: number): { unit: 's' | 'm' | 'h' | 'd'; n: number } {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  if (s < 60) return { unit: 's', n: s };
  if (s < 3600) return { unit: 'm', n: Math.floor(s / 60) };
  if (s < 86_400) return { unit: 'h', n: Math.floor(s / 3600) };
  return { unit: 'd', n: Math.floor(s / 86_400) };
}
