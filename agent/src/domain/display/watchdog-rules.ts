/**
 * When the browser must be restarted: pure rules over what the page last reported. The page
 * sends a heartbeat every couple of seconds with the key it shows and a count of painted
 * animation frames; a page that stops beating, stops painting, or keeps showing a frame past its
 * item's time is restarted.
 */

export interface PageReport {
  /** When the agent received it (ms). */
  at: number;
  /** Key the page shows in its main area (null: idle card). */
  key: string | null;
  /** requestAnimationFrame callbacks so far (grows while the page paints). */
  frames: number;
}

export interface WatchdogInput {
  now: number;
  /** When the browser was (re)started. */
  startedAt: number;
  /** Last heartbeat, if any since the start. */
  last?: PageReport;
  /** The heartbeat before it (to see painting progress). */
  previous?: PageReport;
  /** The key the page should show, and since when the agent wants it (ms). */
  wanted: { key: string | null; since: number };
}

export interface WatchdogLimits {
  /** No heartbeat for this long: restart (default 15 s). */
  heartbeatMs: number;
  /** After a (re)start the page gets this long to load and beat (default 30 s). */
  startGraceMs: number;
  /** The page still shows another frame this long after the wanted one was due (default 10 s). */
  stuckMs: number;
}

export const DEFAULT_WATCHDOG_LIMITS: WatchdogLimits = {
  heartbeatMs: 15_000,
  startGraceMs: 30_000,
  stuckMs: 10_000,
};

export type WatchdogVerdict =
  | { action: 'ok' }
  | {
      action: 'restart';
      code: 'DISPLAY_NO_HEARTBEAT' | 'DISPLAY_FROZEN' | 'DISPLAY_FRAME_STUCK';
      detail: string;
    };

export function watchdogVerdict(
  i: WatchdogInput,
  limits: WatchdogLimits = DEFAULT_WATCHDOG_LIMITS,
): WatchdogVerdict {
  const sinceStart = i.now - i.startedAt;
  if (!i.last) {
    if (sinceStart > limits.startGraceMs)
      return {
        action: 'restart',
        code: 'DISPLAY_NO_HEARTBEAT',
        detail: `no heartbeat ${Math.round(sinceStart / 1000)} s after the browser started`,
      };
    return { action: 'ok' };
  }
  const age = i.now - i.last.at;
  if (age > limits.heartbeatMs)
    return {
      action: 'restart',
      code: 'DISPLAY_NO_HEARTBEAT',
      detail: `last heartbeat ${Math.round(age / 1000)} s ago`,
    };
  if (i.previous && i.last.frames <= i.previous.frames && i.last.at - i.previous.at >= 1000)
    return { action: 'restart', code: 'DISPLAY_FROZEN', detail: 'the page stopped painting' };
  if (i.last.key !== i.wanted.key) {
    const late = i.now - Math.max(i.wanted.since, i.startedAt);
    if (late > limits.stuckMs)
      return {
        action: 'restart',
        code: 'DISPLAY_FRAME_STUCK',
        detail: `showing ${i.last.key ?? 'nothing'} ${Math.round(late / 1000)} s after ${i.wanted.key ?? 'the idle card'} was due`,
      };
  }
  return { action: 'ok' };
}
