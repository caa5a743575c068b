/**
 * Volume rules: the station volume (0..100) at an instant, from per-time-window rules, overridden
 * by a schedule entry's own volume. Pure.
 */
import { DAY_MS, localMidnight, minutesOfDay, offsetMinutes } from './scheduler/local-time.js';
import type { StationPolicy } from './scheduler/types.js';

export const DEFAULT_VOLUME = 80;

function clamp(v: number): number {
  return Math.round(Math.min(100, Math.max(0, v)));
}

/** The policy's volume at instant t: the last matching window wins, else the default volume. */
export function policyVolumeAt(policy: StationPolicy, t: number): number {
  const off = offsetMinutes(policy.utcOffset);
  const minute = Math.floor(((((t + off * 60_000) % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
  let v = policy.volume ?? DEFAULT_VOLUME;
  for (const w of policy.volumeWindows ?? []) {
    const s = minutesOfDay(w.start);
    const e = minutesOfDay(w.end);
    const inside = s < e ? minute >= s && minute < e : s === e ? true : minute >= s || minute < e;
    if (inside) v = w.volume;
  }
  return clamp(v);
}

/**
 * The first instant after t at which a volume window starts or ends (the policy volume may
 * change there), or undefined without windows. The player wakes then to follow it on air.
 */
export function nextVolumeChange(policy: StationPolicy, t: number): number | undefined {
  const off = offsetMinutes(policy.utcOffset);
  const midnight = localMidnight(t, off);
  let next: number | undefined;
  for (const w of policy.volumeWindows ?? []) {
    for (const hhmm of [w.start, w.end]) {
      let at = midnight + minutesOfDay(hhmm) * 60_000;
      if (at <= t) at += DAY_MS;
      if (next === undefined || at < next) next = at;
    }
  }
  return next;
}

/**
 * The volume a slot plays at: the entry's volume when it has one (the signed content wins),
 * else the station policy at the slot's start; a manual override (command "volume") replaces
 * the policy part. Emergencies never play below `emergencyFloor` (default 60).
 */
export function slotVolume(opts: {
  policy: StationPolicy;
  at: number;
  entryVolume?: number;
  override?: number;
  emergency?: boolean;
  emergencyFloor?: number;
}): number {
  const base = opts.entryVolume ?? opts.override ?? policyVolumeAt(opts.policy, opts.at);
  return clamp(opts.emergency ? Math.max(base, opts.emergencyFloor ?? 60) : base);
}
