/**
 * A programme's schedule as people say it (pure): "Hằng ngày lúc 05:30 và 17:00", "Thứ Hai, Thứ
 * Tư lúc 06:00", "Một lần lúc 07:30 Thứ Ba 08/12/2026", repeats and gaps; and its next occurrences
 * after now (for the approval page and the programme list).
 */
import type { Manifest, ScheduleEntry } from '@loa/protocol';
import type { MsgKey, T } from '../i18n/index.js';
import { formatDateTime, vnDay, vnDayStart } from '../time.js';
import { slotsForDay } from './programme.js';

const DAY_ORDER = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function joinWords(t: T, xs: string[]): string {
  if (xs.length <= 1) return xs.join('');
  return `${xs.slice(0, -1).join(', ')} ${t('words.and')} ${xs.at(-1)}`;
}

/** When an entry plays, in words. */
export function describeEntry(t: T, e: ScheduleEntry): string {
  const r = e.rule;
  let when: string;
  switch (r.type) {
    case 'daily':
      when = t('words.daily', { times: joinWords(t, [...r.times].sort()) });
      break;
    case 'weekly': {
      const days = DAY_ORDER.filter((d) => r.days.includes(d)).map((d) => t(`prog.day.${d}` as MsgKey));
      when = t('words.weekly', { days: joinWords(t, days), times: joinWords(t, [...r.times].sort()) });
      break;
    }
    case 'once':
      when = t('words.once', { at: formatDateTime(r.at) });
      break;
    case 'immediate':
      when = t('prog.rule.immediate');
      break;
  }
  const n = e.repeat?.count ?? 1;
  if (n > 1) when += `, ${t('words.repeat', { n, gap: e.repeat?.gapSeconds ?? 0 })}`;
  return when;
}

/** The next `limit` occurrences (ms) of the manifest's schedule after `nowMs`, within `days` days. */
export function nextOccurrences(m: Manifest, nowMs: number, limit = 3, days = 14): number[] {
  const out: number[] = [];
  let day = vnDay(nowMs);
  for (let i = 0; i <= days && out.length < limit; i++) {
    const start = vnDayStart(day);
    for (const s of slotsForDay(m, start)) if (s.at > nowMs && out.length < limit) out.push(s.at);
    day = vnDay(start + 86_400_000 + 3600_000);
  }
  return [...new Set(out)].sort((a, b) => a - b).slice(0, limit);
}
