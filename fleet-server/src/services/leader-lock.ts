/**
 * Which node of a cluster runs the jobs that must run once (the alert sweep, scheduled reports,
 * rollouts, retention): a lease in Redis with a fencing token.
 *   - acquire: `SET key NX PX ttl`, and in the same script `INCR` of a fence counter, so every
 *     lease has a token larger than all before it;
 *   - renew every ttl/3 while the key still holds our value; a node that misses its renewals
 *     (paused, cut off) stops calling itself leader as soon as its local lease time is over,
 *     before any other node can take the key;
 *   - `confirm(token)` asks Redis whether the token is still the current one: a job that writes
 *     after a long pause confirms first, and a store that records the token refuses older ones.
 * A single process uses `soleLeader` (always the leader, token 1).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface Leadership {
  /** True while this node holds an unexpired lease. */
  isLeader(): boolean;
  /** The fencing token of the current lease (0 when not leader). */
  token(): number;
  /** True when `token` is still the cluster's current lease (asks Redis when clustered). */
  confirm(token: number): Promise<boolean>;
  onChange(fn: (leader: boolean, token: number) => void): () => void;
}

/** The one process of a non-clustered server: always the leader. */
export const soleLeader: Leadership = {
  isLeader: () => true,
  token: () => 1,
  confirm: async (t) => t === 1,
  onChange: () => () => undefined,
};

const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local f = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. f, 'PX', ARGV[2])
  return f
end
return 0`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface LeaderLockOptions {
  redis: Redis;
  nodeId: string;
  logger: Logger;
  now: () => number;
  /** Lease length (default 10 s); renewed every third of it. */
  ttlMs?: number;
  /** Key prefix (default "loa:"). */
  prefix?: string;
}

export class LeaderLock implements Leadership {
  #token = 0;
  #value = '';
  /** Local time until which our lease surely holds (taken at the request, not the reply). */
  #until = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #listeners = new Set<(leader: boolean, token: number) => void>();
  readonly #key: string;
  readonly #fenceKey: string;
  readonly #ttl: number;
  readonly #log: Logger;

  constructor(private readonly o: LeaderLockOptions) {
    this.#ttl = o.ttlMs ?? 10_000;
    this.#key = `${o.prefix ?? 'loa:'}leader`;
    this.#fenceKey = `${o.prefix ?? 'loa:'}leader:fence`;
    this.#log = o.logger.child({ module: 'leader', node: o.nodeId });
  }

  async start(): Promise<void> {
    await this.round();
    this.#timer = setInterval(
      () => {
        this.#running ??= this.round().finally(() => {
          this.#running = undefined;
        });
      },
      Math.max(50, Math.floor(this.#ttl / 3)),
    );
    this.#timer.unref();
  }

  isLeader(): boolean {
    return this.#token > 0 && this.o.now() < this.#until;
  }

  token(): number {
    return this.isLeader() ? this.#token : 0;
  }

  async confirm(token: number): Promise<boolean> {
    if (token <= 0 || !this.isLeader() || token !== this.#token) return false;
    const v = await this.o.redis.get(this.#key);
    return v === this.#value;
  }

  onChange(fn: (leader: boolean, token: number) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #set(token: number, value: string): void {
    const was = this.#token;
    this.#token = token;
    this.#value = value;
    if (was === token) return;
    this.#log.info({ leader: token > 0, token }, token > 0 ? 'leadership taken' : 'leadership lost');
    for (const fn of this.#listeners) {
      try {
        fn(token > 0, token);
      } catch (err) {
        this.#log.error({ err }, 'leadership listener failed');
      }
    }
  }

  /** One acquire-or-renew step. */
  async round(): Promise<void> {
    const asked = this.o.now();
    try {
      if (this.#token > 0) {
        const ok = (await this.o.redis.eval(RENEW, 1, this.#key, this.#value, String(this.#ttl))) as number;
        if (ok === 1) this.#until = asked + this.#ttl;
        else this.#set(0, '');
      }
      if (this.#token === 0) {
        const f = (await this.o.redis.eval(
          ACQUIRE,
          2,
          this.#key,
          this.#fenceKey,
          this.o.nodeId,
          String(this.#ttl),
        )) as number;
        if (f > 0) {
          this.#until = asked + this.#ttl;
          this.#set(f, `${this.o.nodeId}:${f}`);
        }
      }
    } catch (err) {
      // Redis unreachable: keep the lease only as long as it surely holds
      this.#log.warn({ err: (err as Error).message }, 'leader lease not renewed');
      if (this.#token > 0 && this.o.now() >= this.#until) this.#set(0, '');
    }
  }

  /** Stops renewing and gives the lease back, so another node takes over at once. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    if (this.#token > 0) {
      await this.o.redis.eval(RELEASE, 1, this.#key, this.#value).catch(() => undefined);
      this.#set(0, '');
    }
  }
}
