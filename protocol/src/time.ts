/**
 * Time as every part of Loa sees it: the one home of `Clock` and `Timers`. Services, drivers
 * and domain code take these as options instead of calling `Date.now()` or the global timers,
 * so tests and simulations can drive time. Pure: no I/O.
 */

/** Wall-clock source. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Reads `Date.now()` at call time. */
export const systemClock: Clock = { now: () => Date.now() };

/** Timer functions, injectable so tests and simulations can drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Reads the globals at call time, so vitest fake timers installed later still apply. */
export const globalTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
