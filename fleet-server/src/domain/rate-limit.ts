/**
 * Guess limits that count *before* the expensive check (pure, injected time):
 *   - `reserveGuess`: several failure windows checked together; an attempt is reserved before the
 *     password hash is awaited, so N parallel guesses meet the limit like N sequential ones;
 *   - `SampledLog`: decides which of many similar events get their own audit entry (the first of
 *     each key per window, and at most `maxPerWindow` in all), so failed logins under made-up
 *     user names cannot grow the audit log without bound;
 *   - `GuessLimits`: where the counters live (`LocalGuessLimits` in this process; a cluster
 *     shares them through Redis);
 *   - `DeviceRates`: the MQTT message bucket of a device, kept across its connections.
 */
import { LoginLimiter, TokenBucket, type TokenBucketOptions } from './limits.js';

export interface GuessWindow {
  /** The key this window counts under (e.g. "ip|user", "ip|*", "*|user"). */
  key: string;
  limiter: LoginLimiter;
  /** On success: clear the key (true) or only give back the reserved attempt (false). */
  clearOnSuccess: boolean;
}

/** A reserved attempt: settle it once the check is done. */
export interface GuessTicket {
  succeed(): void;
  fail(): void;
}

/**
 * Reserves one attempt in every window, or returns the wait in ms when any is exhausted
 * (nothing is reserved then). Call before awaiting the password check.
 */
export function reserveGuess(windows: GuessWindow[], now: number): GuessTicket | { retryAfterMs: number } {
  let wait = 0;
  for (const w of windows) wait = Math.max(wait, w.limiter.retryAfterMs(w.key, now));
  if (wait > 0) return { retryAfterMs: wait };
  for (const w of windows) w.limiter.fail(w.key, now);
  let settled = false;
  return {
    succeed() {
      if (settled) return;
      settled = true;
      for (const w of windows) {
        if (w.clearOnSuccess) w.limiter.succeed(w.key);
        else w.limiter.refund(w.key);
      }
    },
    fail() {
      settled = true; // the reserved attempt already counts as the failure
    },
  };
}

/** One window of a guess limit, named so that every node of a cluster counts it in one place. */
export interface GuessWindowSpec {
  /** Which limit (e.g. "login-pair", "device-address"): keys of different limits never mix. */
  limit: string;
  /** The key this window counts under. */
  key: string;
  /** Failures allowed within the window before further attempts are refused. */
  maxAttempts: number;
  windowMs: number;
  /** On success: clear the key (true) or only give back the reserved attempt (false). */
  clearOnSuccess: boolean;
}

/**
 * Where guess counters live: in this process (`LocalGuessLimits`, the embedded default) or shared
 * by the nodes of a cluster (broker/cluster-shared.ts), so that guesses spread over several
 * nodes meet one limit. `reserve` has the semantics of `reserveGuess`, all windows at once.
 */
export interface GuessLimits {
  reserve(windows: GuessWindowSpec[], now: number): Promise<GuessTicket | { retryAfterMs: number }>;
}

/** Guess counters in this process: one `LoginLimiter` per named limit. */
export class LocalGuessLimits implements GuessLimits {
  private readonly limiters = new Map<string, LoginLimiter>();

  private limiter(w: GuessWindowSpec): LoginLimiter {
    const id = `${w.limit}\0${w.maxAttempts}\0${w.windowMs}`;
    let l = this.limiters.get(id);
    if (!l) {
      l = new LoginLimiter({ maxAttempts: w.maxAttempts, windowMs: w.windowMs });
      this.limiters.set(id, l);
    }
    return l;
  }

  reserveNow(windows: GuessWindowSpec[], now: number): GuessTicket | { retryAfterMs: number } {
    return reserveGuess(
      windows.map((w) => ({ key: w.key, limiter: this.limiter(w), clearOnSuccess: w.clearOnSuccess })),
      now,
    );
  }

  reserve(windows: GuessWindowSpec[], now: number): Promise<GuessTicket | { retryAfterMs: number }> {
    return Promise.resolve(this.reserveNow(windows, now));
  }
}

export interface SampledLogOptions {
  windowMs: number;
  /** Entries allowed per window over all keys. */
  maxPerWindow: number;
  /** Bound on remembered keys. */
  maxKeys?: number;
}

/** Which events of a noisy kind get an audit entry; the rest are only counted. */
export class SampledLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private readonly seen = new Map<string, number>();
  /** Events not written since the last written one (reported with the next entry). */
  suppressed = 0;
  constructor(private readonly opts: SampledLogOptions) {}

  /** True when this event should be written; `suppressed` then says how many were skipped before. */
  admit(key: string, now: number): boolean {
    if (now - this.windowStart >= this.opts.windowMs) {
      this.windowStart = now;
      this.written = 0;
      this.seen.clear();
    }
    if (this.seen.has(key) || this.written >= this.opts.maxPerWindow) {
      this.suppressed++;
      return false;
    }
    this.seen.set(key, now);
    if (this.seen.size > (this.opts.maxKeys ?? 10_000)) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.written++;
    return true;
  }

  /** Takes the count of skipped events (to put into the next written entry). */
  takeSuppressed(): number {
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}

/** Per-device message rate state that survives reconnects (bounded by `maxDevices`). */
export class DeviceRates {
  private readonly states = new Map<string, { bucket: TokenBucket; violations: number }>();
  constructor(private readonly opts: TokenBucketOptions & { maxDevices?: number }) {}

  /** The device's state, created full on first sight; the same object on every connection. */
  of(deviceId: string, now: number): { bucket: TokenBucket; violations: number } {
    let s = this.states.get(deviceId);
    if (!s) {
      s = { bucket: new TokenBucket(this.opts, now), violations: 0 };
      this.states.set(deviceId, s);
      if (this.states.size > (this.opts.maxDevices ?? 200_000)) {
        const oldest = this.states.keys().next().value;
        if (oldest !== undefined) this.states.delete(oldest);
      }
    }
    return s;
  }

  forget(deviceId: string): void {
    this.states.delete(deviceId);
  }
}
