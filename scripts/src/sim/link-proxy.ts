/**
 * A small TCP proxy on 127.0.0.1 that makes a loopback link behave like a 4G link: one-way
 * latency with jitter, TCP-level loss seen as retransmission stalls (order kept, like real TCP),
 * and outages that cut every connection and refuse new ones for a while (4G shadow, mast down).
 * Time and randomness are injectable so tests stay deterministic.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export interface LinkProfile {
  name: string;
  /** One-way latency in ms (applied in both directions). */
  latencyMs: number;
  /** Uniform jitter added to the latency, 0..jitterMs. */
  jitterMs: number;
  /** Probability that a chunk is "lost" and arrives after a retransmission stall. */
  loss: number;
  /** Stall added to a lost chunk, in ms (TCP's minimum RTO is ~200 ms). */
  retransmitMs: number;
}

export const LINK_PROFILES: Readonly<Record<string, LinkProfile>> = {
  lan: { name: 'lan', latencyMs: 0, jitterMs: 0, loss: 0, retransmitMs: 0 },
  '4g-good': { name: '4g-good', latencyMs: 25, jitterMs: 15, loss: 0.002, retransmitMs: 250 },
  '4g-poor': { name: '4g-poor', latencyMs: 90, jitterMs: 80, loss: 0.03, retransmitMs: 600 },
  '3g-mountain': { name: '3g-mountain', latencyMs: 200, jitterMs: 250, loss: 0.08, retransmitMs: 1200 },
};

export interface LinkProxyOptions {
  /** Where to forward: the real server's host and port. */
  targetHost: string;
  targetPort: number;
  profile: LinkProfile;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => void;
}

export interface LinkStats {
  connections: number;
  bytesUp: number;
  bytesDown: number;
  lostChunks: number;
  cuts: number;
}

/** Forwards one direction with latency and loss, keeping order (a chunk never overtakes another). */
class DelayedPipe {
  private lastDue = 0;
  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly proxy: LinkProxy,
    private readonly count: (n: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    const delay = this.proxy.chunkDelay();
    const due = Math.max(performance.now() + delay, this.lastDue);
    this.lastDue = due;
    const wait = Math.max(0, due - performance.now());
    if (wait === 0) {
      this.write(chunk);
      return;
    }
    // Back-pressure: stop reading while a stalled chunk is pending, like a full TCP window.
    this.from.pause();
    this.proxy.timer(() => {
      this.write(chunk);
      this.from.resume();
    }, wait);
  }

  private write(chunk: Buffer): void {
    if (this.to.destroyed) return;
    this.count(chunk.length);
    this.to.write(chunk);
  }
}

export class LinkProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private downUntil = 0;
  readonly stats: LinkStats = { connections: 0, bytesUp: 0, bytesDown: 0, lostChunks: 0, cuts: 0 };
  private readonly random: () => number;
  readonly timer: (fn: () => void, ms: number) => void;

  constructor(private readonly opts: LinkProxyOptions) {
    this.random = opts.random ?? Math.random;
    this.timer = opts.setTimer ?? ((fn, ms) => void setTimeout(fn, ms));
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get profile(): LinkProfile {
    return this.opts.profile;
  }

  chunkDelay(): number {
    const p = this.opts.profile;
    let d = p.latencyMs + this.random() * p.jitterMs;
    if (p.loss > 0 && this.random() < p.loss) {
      this.stats.lostChunks++;
      d += p.retransmitMs;
    }
    return d;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  private accept(client: Socket): void {
    if (performance.now() < this.downUntil) {
      client.destroy();
      return;
    }
    this.stats.connections++;
    const upstream = connect(this.opts.targetPort, this.opts.targetHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    new DelayedPipe(client, upstream, this, (n) => {
      this.stats.bytesUp += n;
    });
    new DelayedPipe(upstream, client, this, (n) => {
      this.stats.bytesDown += n;
    });
  }

  /** Cuts every connection now and refuses new ones for `ms` (an outage of the cell). */
  outage(ms: number): void {
    this.stats.cuts++;
    this.downUntil = performance.now() + ms;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
