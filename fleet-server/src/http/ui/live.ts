/**
 * Live updates for dashboard pages over server-sent events, batched so that a busy fleet cannot
 * flood a browser: events only mark things dirty (a device id, or a topic such as "alerts");
 * a timer (default 1 s) renders each connection's dirty set from the latest state and sends at
 * most ONE message per connection per interval. Ten reports from one device in a second cost one
 * entry; 10,000 devices reporting every 30 s cost one message per second per page.
 */

import { globalTimers, type Timers } from '@loa/protocol';
import { withDefaults } from '../../defaults.js';

/** What the browser applies to elements with data-k="key" (see assets/app.js). Never HTML. */
export interface LiveUpdate {
  t?: string;
  c?: string;
  w?: string;
  h?: boolean;
  title?: string;
  items?: { text: string; href?: string }[];
  /** Re-fetch the page and swap this element (for blocks too rich for field updates). */
  r?: boolean;
  /** A raw value for scripts listening to the page's loa:update event (not applied to the DOM). */
  v?: string;
}
export type UpdateSet = Record<string, LiveUpdate>;

export interface Dirty {
  devices: ReadonlySet<string>;
  topics: ReadonlySet<string>;
}

/** A page's live view: which changes it cares about and how to render them. */
export interface LiveView {
  wantsDevice(deviceId: string): boolean;
  wantsTopic(topic: string): boolean;
  render(dirty: Dirty): Promise<UpdateSet> | UpdateSet;
  /**
   * Marked dirty as soon as the page connects: whatever changed between the page's render and its
   * stream opening reaches it with the first batch.
   */
  initial?: { devices?: readonly string[]; topics?: readonly string[] };
}

export interface LiveMessage {
  seq: number;
  set: UpdateSet;
}

interface Connection {
  view: LiveView;
  send: (json: string) => void;
  devices: Set<string>;
  topics: Set<string>;
  seq: number;
  busy: boolean;
}

export interface LiveStats {
  connections: number;
  marks: number;
  messages: number;
  entries: number;
  bytes: number;
  renderErrors: number;
}

export const LIVE_HUB_DEFAULTS = {
  /** Batching interval: at most one message per connection per interval. */
  intervalMs: 1000,
  timers: globalTimers as Timers,
};

export class LiveHub {
  private readonly conns = new Set<Connection>();
  private handle: unknown;
  private readonly counters = { marks: 0, messages: 0, entries: 0, bytes: 0, renderErrors: 0 };
  private readonly intervalMs: number;
  private readonly timers: Timers;
  private readonly onError: ((err: unknown) => void) | undefined;

  constructor(opts: { intervalMs?: number; timers?: Timers; onError?: (err: unknown) => void } = {}) {
    const o = withDefaults(LIVE_HUB_DEFAULTS, opts);
    this.intervalMs = o.intervalMs;
    this.timers = o.timers;
    this.onError = opts.onError;
  }

  start(): void {
    if (this.handle === undefined) this.schedule();
  }

  /** The next tick; a pending tick never keeps the process alive on its own. */
  private schedule(): void {
    this.handle = this.timers.setTimeout(() => {
      this.schedule();
      void this.flush();
    }, this.intervalMs);
    (this.handle as { unref?: () => void } | undefined)?.unref?.();
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.conns.clear();
  }

  /** A device's state changed (presence, health, proof, rollout, alert). O(connections). */
  markDevice(deviceId: string): void {
    this.counters.marks++;
    for (const c of this.conns) if (c.view.wantsDevice(deviceId)) c.devices.add(deviceId);
  }

  /** Something page-wide changed, e.g. "alerts", "content", "emergency:<bundleId>". */
  markTopic(topic: string): void {
    this.counters.marks++;
    for (const c of this.conns) if (c.view.wantsTopic(topic)) c.topics.add(topic);
  }

  /** `send` receives the JSON of a {@link LiveMessage}. */
  connect(view: LiveView, send: (json: string) => void): () => void {
    const conn: Connection = {
      view,
      send,
      devices: new Set(view.initial?.devices),
      topics: new Set(view.initial?.topics),
      seq: 0,
      busy: false,
    };
    this.conns.add(conn);
    return () => {
      this.conns.delete(conn);
    };
  }

  /** Renders and sends every connection's pending changes (called by the timer). */
  async flush(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const c of this.conns) {
      if (c.busy || (c.devices.size === 0 && c.topics.size === 0)) continue;
      const dirty: Dirty = { devices: c.devices, topics: c.topics };
      c.devices = new Set();
      c.topics = new Set();
      c.busy = true;
      work.push(
        (async () => {
          try {
            const set = await c.view.render(dirty);
            const n = Object.keys(set).length;
            if (n === 0 || !this.conns.has(c)) return;
            const msg: LiveMessage = { seq: ++c.seq, set };
            this.counters.messages++;
            this.counters.entries += n;
            const json = JSON.stringify(msg);
            this.counters.bytes += Buffer.byteLength(json);
            c.send(json);
          } catch (err) {
            this.counters.renderErrors++;
            this.onError?.(err);
          } finally {
            c.busy = false;
          }
        })(),
      );
    }
    await Promise.all(work);
  }

  stats(): LiveStats {
    return { connections: this.conns.size, ...this.counters };
  }
}
