/**
 * When to try a screen-power control again after it failed, and when to say so (pure, the caller
 * gives the time). A board without an HDMI-CEC adapter, or with a broken CEC link, must not fill
 * its log every minute: the first failure is said once, the next tries come after a pause that
 * doubles (1, 2, 4 … minutes) up to `maxPauseMs`, silently, and the first success after failures
 * is said once too.
 */
export interface PowerRetryState {
  /** Failed switches in a row. */
  failures: number;
  /** No try before this instant (ms). */
  retryAt: number;
}

export const POWER_RETRY_START: PowerRetryState = { failures: 0, retryAt: 0 };

export const mayTryPower = (s: PowerRetryState, now: number): boolean => now >= s.retryAt;

/** After a failed switch: the next state, the pause before the next try, and whether to say it. */
export function powerFailed(
  s: PowerRetryState,
  now: number,
  maxPauseMs: number,
): { state: PowerRetryState; pauseMs: number; say: boolean } {
  const failures = s.failures + 1;
  const pauseMs = Math.min(maxPauseMs, 60_000 * 2 ** Math.min(failures - 1, 30));
  return { state: { failures, retryAt: now + pauseMs }, pauseMs, say: failures === 1 };
}

/** After a successful switch: the fresh state, and whether it follows failures (say it works again). */
export function powerSucceeded(s: PowerRetryState): { state: PowerRetryState; say: boolean } {
  return { state: POWER_RETRY_START, say: s.failures > 0 };
}
