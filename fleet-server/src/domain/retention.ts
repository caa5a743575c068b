/**
 * Retention on a clock it can trust (pure; the caller passes the times it knows). Retention deletes
 * history by the wall clock, so a forward jump (a reset RTC, a bad time source) would delete months
 * of proof and health history at once. The decision compares the clock with what the store already
 * knows: the last retention run (a marker written after each run) and the newest stored day.
 *
 * - The clock is doubted when it is more than `maxJumpMs` (default 7 days) past the last run
 *   (the marker; without one, the newest stored day). Records written on a jumped clock never
 *   vouch for it: the marker moves only when retention ran on a trusted clock.
 * - When doubted, the cutoff is computed from the last trusted time instead of `now`: nothing that
 *   was not already due at the last trusted moment is deleted. The caller logs the refusal, at
 *   every run, until the clock is back in range or an operator confirms it.
 * - An operator who knows the clock is right (the server was really off for months) confirms
 *   once (`confirmed`); retention then acts on `now` and writes a new marker.
 */

export interface RetentionInput {
  now: number;
  retentionDays: number;
  /** Last time retention ran on a trusted clock (ms), from the marker; undefined on first start. */
  lastRunAt?: number;
  /** Newest day that holds stored records ("YYYY-MM-DD"), if any. */
  newestDay?: string;
  /** Largest believable step of the clock between two runs (default 7 days). */
  maxJumpMs?: number;
  /** Operator confirmed the clock (RETENTION_TRUST_CLOCK). */
  confirmed?: boolean;
}

export type RetentionDecision =
  | { trusted: true; cutoffDay: string }
  | {
      trusted: false;
      /** Cutoff from the last trusted time (may delete nothing new). */
      cutoffDay: string;
      code: 'RETENTION_CLOCK_DOUBTED';
      reason: string;
      referenceAt: number;
    };

export const DEFAULT_MAX_CLOCK_JUMP_MS = 7 * 86_400_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function decideRetention(i: RetentionInput): RetentionDecision {
  const keepMs = i.retentionDays * 86_400_000;
  const trusted = { trusted: true as const, cutoffDay: dayOf(i.now - keepMs) };
  if (i.confirmed) return trusted;
  // the marker is the reference (records written on a jumped clock must not vouch for it); the
  // newest stored day only stands in when there is no marker yet
  const reference = i.lastRunAt ?? (i.newestDay ? Date.parse(`${i.newestDay}T23:59:59.999Z`) : undefined);
  if (reference === undefined || !Number.isFinite(reference)) return trusted;
  const maxJump = i.maxJumpMs ?? DEFAULT_MAX_CLOCK_JUMP_MS;
  if (i.now - reference <= maxJump) return trusted;
  return {
    trusted: false,
    cutoffDay: dayOf(reference - keepMs),
    code: 'RETENTION_CLOCK_DOUBTED',
    reason: `the clock is ${Math.round((i.now - reference) / 86_400_000)} days past the last retention run`,
    referenceAt: reference,
  };
}
