/**
 * Screen power on a schedule: the panel is on between `on` and `off` local times (a window may
 * cross midnight), always on during an emergency. Pure.
 */
import { minutesOfDay, offsetMinutes } from '../scheduler/local-time.js';

export interface ScreenHours {
  /** Local "HH:MM" the screen switches on. */
  on: string;
  /** Local "HH:MM" it switches off. */
  off: string;
}

export function screenShouldBeOn(
  hours: ScreenHours | undefined,
  now: number,
  utcOffset: string,
  emergency: boolean,
): boolean {
  if (emergency || !hours) return true;
  const local = Math.floor((now + offsetMinutes(utcOffset) * 60_000) / 60_000) % 1440;
  const on = minutesOfDay(hours.on);
  const off = minutesOfDay(hours.off);
  if (on === off) return true;
  return on < off ? local >= on && local < off : local >= on || local < off;
}
