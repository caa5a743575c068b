/**
 * State that the nodes of a cluster must agree on beyond MQTT, kept in the cluster's Redis:
 *   - guess limits (logins per user and address, password-change guesses, devices' wrong
 *     passwords): one counter per window for the whole cluster, so guesses spread over several
 *     nodes meet the same limit as guesses sent to one. Reserve-before-check stays atomic across
 *     nodes (one Lua script checks every window and counts the attempt in all of them).
 *     The windows run on Redis's clock (its key expiry), not on the node's.
 *   - the newest health of every device: a hash (device → newest report, newer wins) that a node
 *     reads at start, and a bus message per report, so the dashboard and API of any node show the
 *     health of devices connected to another one.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HealthEntry } from '../domain/model.js';
import type { GuessLimits, GuessTicket, GuessWindowSpec } from '../domain/rate-limit.js';
import type { ClusterMessage } from './cluster.js';

/**
 * KEYS: one counter per window; ARGV: per window its limit and window length (ms).
 * Returns 0 when the attempt was counted in every window, else the ms until the first full
 * window ends (nothing counted then).
 */
const RESERVE = `
local wait = 0
for i, k in ipairs(KEYS) do
  local max = tonumber(ARGV[2 * i - 1])
  local c = tonumber(redis.call('GET', k) or '0')
  if c >= max then
    local t = redis.call('PTTL', k)
    if t < 0 then
      t = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', k, t)
    end
    if t > wait then wait = t end
  end
end
if wait > 0 then return wait end
for i, k in ipairs(KEYS) do
  if redis.call('INCR', k) == 1 then redis.call('PEXPIRE', k, tonumber(ARGV[2 * i])) end
end
return 0
`;

/** KEYS[1]: a counter; gives back one attempt (the key goes at zero). */
const REFUND = `
local c = redis.call('DECR', KEYS[1])
if c <= 0 then redis.call('DEL', KEYS[1]) end
return c
`;

/**
 * KEYS[1]: the hash of newest health, KEYS[2]: the bus channel; ARGV: device id, the report's
 * receivedAt (ISO, 24 characters, leading the stored value), the stored value, the bus message.
 * Stores and announces the report only when it is not older than the one held.
 */
const PUT_HEALTH = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and string.sub(cur, 1, 24) > ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[4])
return 1
`;

type GuessRedis = Redis & {
  loaReserve(...args: (string | number)[]): Promise<number>;
  loaRefund(key: string): Promise<number>;
  loaPutHealth(...args: string[]): Promise<number>;
};

function withScripts(r: Redis): GuessRedis {
  r.defineCommand('loaReserve', { lua: RESERVE });
  r.defineCommand('loaRefund', { numberOfKeys: 1, lua: REFUND });
  r.defineCommand('loaPutHealth', { numberOfKeys: 2, lua: PUT_HEALTH });
  return r as GuessRedis;
}

/** Guess counters shared by every node through Redis. */
export class RedisGuessLimits implements GuessLimits {
  private readonly r: GuessRedis;
  constructor(
    redis: Redis,
    private readonly o: { logger: Logger; prefix?: string },
  ) {
    this.r = withScripts(redis);
  }

  /** Keys carry user names and addresses: hashed, so their length and characters are bounded. */
  private key(w: GuessWindowSpec): string {
    const h = createHash('sha256').update(w.key).digest('base64url').slice(0, 32);
    return `${this.o.prefix ?? 'loa:'}guess:${w.limit}:${w.maxAttempts}:${w.windowMs}:${h}`;
  }

  async reserve(windows: GuessWindowSpec[], _now: number): Promise<GuessTicket | { retryAfterMs: number }> {
    const keys = windows.map((w) => this.key(w));
    const args = windows.flatMap((w) => [w.maxAttempts, w.windowMs]);
    const wait = Number(await this.r.loaReserve(keys.length, ...keys, ...args));
    if (wait > 0) return { retryAfterMs: wait };
    let settled = false;
    const log = (err: unknown) => this.o.logger.warn({ err }, 'guess counter not settled');
    return {
      succeed: () => {
        if (settled) return;
        settled = true;
        windows.forEach((w, i) => {
          const k = keys[i] as string;
          (w.clearOnSuccess ? this.r.del(k) : this.r.loaRefund(k)).catch(log);
        });
      },
      fail: () => {
        settled = true; // the reserved attempt already counts as the failure
      },
    };
  }
}

/** The newest health of every device, shared by the nodes. */
export interface HealthShare {
  /** Stores the report as the device's newest (unless a newer one is held) and tells the other nodes. */
  put(entry: HealthEntry): void;
  /** Every device's newest report (read at start). */
  all(): Promise<HealthEntry[]>;
  /** Reports received by the other nodes, as they come; returns an unsubscribe function. */
  on(fn: (entry: HealthEntry) => void): () => void;
}

/** The health share on Redis: a hash for the newest reports, the cluster bus for the news. */
export class RedisHealthShare implements HealthShare {
  private readonly r: GuessRedis;
  private readonly hash: string;
  private readonly channel: string;
  private lastWarn = 0;
  constructor(
    redis: Redis,
    private readonly o: {
      logger: Logger;
      nodeId: string;
      /** Subscribes to a bus channel (ClusterBus.on). */
      listen: (channel: string, fn: (data: unknown) => void) => () => void;
      prefix?: string;
    },
  ) {
    this.r = withScripts(redis);
    const prefix = o.prefix ?? 'loa:';
    this.hash = `${prefix}health:latest`;
    this.channel = `${prefix}bus:health`;
  }

  put(entry: HealthEntry): void {
    const value = JSON.stringify(entry);
    const msg: ClusterMessage<HealthEntry> = { node: this.o.nodeId, data: entry };
    this.r
      .loaPutHealth(
        this.hash,
        this.channel,
        entry.deviceId,
        entry.receivedAt,
        `${entry.receivedAt}${value}`,
        JSON.stringify(msg),
      )
      .catch((err: Error) => {
        if (Date.now() - this.lastWarn < 1000) return;
        this.lastWarn = Date.now();
        this.o.logger.warn({ err: err.message }, 'health not shared with the other nodes');
      });
  }

  async all(): Promise<HealthEntry[]> {
    const out: HealthEntry[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.r.hscan(this.hash, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) {
        const e = parseEntry((flat[i] as string).slice(24));
        if (e) out.push(e);
      }
    } while (cursor !== '0');
    return out;
  }

  on(fn: (entry: HealthEntry) => void): () => void {
    return this.o.listen('health', (data) => {
      const e = data as HealthEntry;
      if (typeof e?.deviceId === 'string' && typeof e.receivedAt === 'string' && e.health) fn(e);
    });
  }
}

function parseEntry(json: string): HealthEntry | undefined {
  try {
    const e = JSON.parse(json) as HealthEntry;
    return typeof e?.deviceId === 'string' && typeof e.receivedAt === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}
