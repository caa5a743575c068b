/**
 * Rate limits as pure state machines with injected time: a token bucket (MQTT publish rate per
 * client) and a failure counter (login attempts per IP and user name).
 */

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket capacity (largest burst). */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly opts: TokenBucketOptions,
    now: number,
  ) {
    this.tokens = opts.burst;
    this.last = now;
  }

  /** Takes `n` tokens if available; false means "over the limit". */
  take(now: number, n = 1): boolean {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.opts.burst, this.tokens + elapsed * this.opts.ratePerSecond);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  available(): number {
    return this.tokens;
  }
}

export interface LoginLimiterOptions {
  /** Failures allowed within the window before further attempts are refused. */
  maxAttempts: number;
  windowMs: number;
  /** Bound on tracked keys (oldest evicted) so an attacker cannot grow memory. */
  maxKeys?: number;
}

export const LOGIN_LIMITER_DEFAULTS = {
  maxKeys: 100_000,
};

/** Fixed window of failures per key (e.g. "ip|username"); a success clears the key. */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; start: number }>();
  private readonly opts: Required<LoginLimiterOptions>;
  constructor(opts: LoginLimiterOptions) {
    this.opts = { ...opts, maxKeys: opts.maxKeys ?? LOGIN_LIMITER_DEFAULTS.maxKeys };
  }

  /** Milliseconds until the key may try again (0 = allowed now). */
  retryAfterMs(key: string, now: number): number {
    const f = this.failures.get(key);
    if (!f) return 0;
    if (now - f.start >= this.opts.windowMs) {
      this.failures.delete(key);
      return 0;
    }
    return f.count >= this.opts.maxAttempts ? f.start + this.opts.windowMs - now : 0;
  }

  fail(key: string, now: number): void {
    const f = this.failures.get(key);
    if (!f || now - f.start >= this.opts.windowMs) {
      this.failures.delete(key);
      this.failures.set(key, { count: 1, start: now });
      if (this.failures.size > this.opts.maxKeys) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      return;
    }
    f.count++;
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * Watches the MQTT byte stream of one connection and refuses any packet whose declared
 * remaining length exceeds `maxPacket`, before the parser buffers it (a 256 MB PUBLISH would
 * otherwise be held in memory before any authoriser sees it).
 */
export class MqttFrameGuard {
  private state: 'header' | 'length' | 'body' = 'header';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  constructor(private readonly maxPacket: number) {}

  /** Feeds bytes; false when a packet is too large or its length field malformed. */
  feed(buf: Uint8Array): boolean {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'header') {
        i++;
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = buf[i++] as number;
        this.remaining += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.remaining > this.maxPacket) return false;
        if ((b & 0x80) === 0) this.state = this.remaining === 0 ? 'header' : 'body';
        else if (this.lengthBytes >= 4) return false;
      } else {
        const take = Math.min(this.remaining, buf.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'header';
      }
    }
    return true;
  }
}
