/**
 * Several fleet-server processes as one broker, through Redis (the aedes project's own parts):
 *   - `aedes-persistence-redis` keeps subscriptions, QoS 1 sessions (offline queues), retained
 *     messages and last wills where every node sees them;
 *   - `mqemitter-redis` carries every publish to every node, so a device connected to node A
 *     receives what node B publishes;
 *   - a pub/sub bus (`ClusterBus`) carries the server's own events between nodes (presence
 *     changes, emergency progress) so that the HTTP side of any node sees the whole fleet.
 * The embedded, single-process aedes stays the default; this module is used only when the
 * configuration names a Redis URL.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { LoaError } from '@loa/protocol';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const require = createRequire(import.meta.url);

/** One event between nodes: who sent it and what (JSON). */
export interface ClusterMessage<T = unknown> {
  node: string;
  data: T;
}

/** Publishes server events to the other nodes and hands theirs to local listeners. */
export interface ClusterBus {
  /** This process's id in the cluster (random per start). */
  readonly nodeId: string;
  publish(channel: string, data: unknown): void;
  /** Listens to a channel's events from the *other* nodes; returns an unsubscribe function. */
  on(channel: string, fn: (data: unknown, node: string) => void): () => void;
}

export interface RedisClusterOptions {
  url: string;
  logger: Logger;
  /** Key and channel prefix, so several deployments can share one Redis (default "loa:"). */
  prefix?: string;
}

/**
 * Opens a Redis connection that fails fast with a clear error when Redis is not there. Later
 * connection errors (ioredis reconnects by itself) go to `logger` at warn level, once a second.
 */
export async function connectRedis(url: string, name: string, logger?: Logger): Promise<Redis> {
  const r = new Redis(url, { lazyConnect: true, connectionName: name, maxRetriesPerRequest: 3 });
  let lastLog = 0;
  r.on('error', (err: Error) => {
    if (Date.now() - lastLog < 1000) return;
    lastLog = Date.now();
    logger?.warn({ err: err.message, connection: name }, 'redis connection error');
  });
  try {
    await r.connect();
  } catch (e) {
    r.disconnect();
    throw new LoaError('CLUSTER_REDIS_UNREACHABLE', `không kết nối được Redis tại ${url}`, { cause: e });
  }
  return r;
}

/**
 * The Redis side of a clustered broker: aedes persistence and emitter, and the event bus.
 * `start()` connects (and fails with CLUSTER_REDIS_UNREACHABLE), `stop()` closes everything.
 */
export class RedisCluster implements ClusterBus {
  readonly nodeId = randomBytes(6).toString('hex');
  private pub: Redis | undefined;
  private sub: Redis | undefined;
  private readonly listeners = new Map<string, Set<(data: unknown, node: string) => void>>();
  private readonly log: Logger;
  private readonly prefix: string;

  constructor(private readonly o: RedisClusterOptions) {
    this.log = o.logger.child({ module: 'cluster', node: this.nodeId });
    this.prefix = o.prefix ?? 'loa:';
  }

  async start(): Promise<void> {
    this.pub = await connectRedis(this.o.url, `loa-bus-pub-${this.nodeId}`, this.log);
    this.sub = await connectRedis(this.o.url, `loa-bus-sub-${this.nodeId}`, this.log);
    await this.sub.psubscribe(`${this.prefix}bus:*`);
    // psubscribe delivers on 'pmessageBuffer'
    this.sub.on('pmessageBuffer', (_p: Buffer, channel: Buffer, message: Buffer) =>
      this.deliver(channel, message),
    );
    this.log.info('cluster bus connected');
  }

  /**
   * The aedes options that put its state in Redis (persistence and emitter), on connections
   * opened beforehand (so a Redis that is not there fails the start with a clear error).
   */
  async aedesParts(): Promise<Pick<AedesOptions, 'persistence' | 'mq'>> {
    // the async persistence class: aedes 1.x awaits persistence.setup() and its promises
    const AsyncPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (
      opts: Record<string, unknown>,
    ) => NonNullable<AedesOptions['persistence']>;
    const mqemitterRedis = require('mqemitter-redis') as (
      opts: Record<string, unknown>,
    ) => NonNullable<AedesOptions['mq']>;
    const [db, subConn, pubConn] = await Promise.all([
      connectRedis(this.o.url, `loa-aedes-${this.nodeId}`, this.log),
      connectRedis(this.o.url, `loa-mq-sub-${this.nodeId}`, this.log),
      connectRedis(this.o.url, `loa-mq-pub-${this.nodeId}`, this.log),
    ]);
    return {
      persistence: streamsAsNodeStreams(new AsyncPersistence({ conn: db, maxSessionDelivery: 1000 })),
      mq: mqemitterRedis({ subConn, pubConn }),
    };
  }

  publish(channel: string, data: unknown): void {
    const msg: ClusterMessage = { node: this.nodeId, data };
    this.pub?.publish(`${this.prefix}bus:${channel}`, JSON.stringify(msg)).catch((err: Error) => {
      this.log.warn({ err: err.message, channel }, 'cluster event not published');
    });
  }

  on(channel: string, fn: (data: unknown, node: string) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  private deliver(channelBuf: Buffer, message: Buffer): void {
    const channel = channelBuf.toString('utf8').slice(`${this.prefix}bus:`.length);
    const set = this.listeners.get(channel);
    if (!set?.size) return;
    let msg: ClusterMessage;
    try {
      msg = JSON.parse(message.toString('utf8')) as ClusterMessage;
    } catch {
      this.log.warn({ channel }, 'unparsable cluster event dropped');
      return;
    }
    if (msg.node === this.nodeId) return; // our own, already applied locally
    for (const fn of set) {
      try {
        fn(msg.data, msg.node);
      } catch (err) {
        this.log.error({ err, channel }, 'cluster event listener failed');
      }
    }
  }

  /** A plain Redis connection for callers that need commands (the leader lock). */
  async connection(name: string): Promise<Redis> {
    return connectRedis(this.o.url, `${name}-${this.nodeId}`, this.log);
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await Promise.all([this.pub, this.sub].map((r) => r?.quit().catch(() => r.disconnect())));
    this.pub = this.sub = undefined;
  }
}

/**
 * aedes 1.2 pipes the retained-message stream of a SUBSCRIBE (`stream.pipe(...)`), while
 * aedes-persistence-redis 12 returns async generators from its stream methods (the in-memory
 * persistence wraps its own in `Readable.from`). The same wrapping here, so both fit.
 */
function streamsAsNodeStreams<P extends object>(p: P): P {
  const methods = [
    'createRetainedStreamCombi',
    'createRetainedStream',
    'outgoingStream',
    'streamWill',
    'getClientList',
  ];
  const target = p as Record<string, unknown>;
  for (const m of methods) {
    const fn = target[m];
    if (typeof fn !== 'function') continue;
    target[m] = (...args: unknown[]) => {
      const out = (fn as (...a: unknown[]) => unknown).apply(p, args);
      return out && typeof (out as Readable).pipe === 'function'
        ? out
        : Readable.from(out as AsyncIterable<unknown>);
    };
  }
  return p;
}
