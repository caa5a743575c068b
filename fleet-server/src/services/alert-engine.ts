/**
 * Alert engine: runs the pure alert rules on each device's live state (on every change and on a
 * periodic tick, for "offline > N minutes"), opens and resolves alerts in the store, lets
 * operators acknowledge them, and fans changes out to listeners (SSE, webhooks).
 */
import { randomUUID } from 'node:crypto';
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import { withDefaults } from '../defaults.js';
import {
  type Alert,
  type AlertRulesConfig,
  acknowledgeAlert,
  DEFAULT_ALERT_RULES,
  evaluateAlerts,
  reconcileAlerts,
} from '../domain/alerts.js';
import type { DeviceLiveState } from '../domain/ingest.js';
import type { AlertRecord } from '../domain/model.js';
import { requireScope } from '../domain/rbac.js';
import { METRIC, type Metrics } from '../metrics.js';
import type { Store } from '../store/ports.js';

const DONE: Promise<void> = Promise.resolve();

export type AlertEvent = { type: 'opened' | 'resolved' | 'acknowledged'; alert: AlertRecord };

export interface AlertEngineOptions {
  rules?: Partial<AlertRulesConfig>;
  /** Periodic re-evaluation of every device (default 30 s; 0 disables, tests call tick()). */
  tickMs?: number;
}

export const ALERT_ENGINE_DEFAULTS = {
  tickMs: 30_000,
};

function toRecord(a: Alert): AlertRecord {
  return { ...a, severity: a.severity };
}

export class AlertEngine {
  readonly #d: {
    store: Store;
    metrics: Metrics;
    logger: Logger;
    now: () => number;
    states: () => Iterable<DeviceLiveState>;
    isLeader?: () => boolean;
  };
  readonly rules: AlertRulesConfig;
  readonly #tickMs: number;
  /** Active (open or acknowledged) alerts per device. */
  readonly #active = new Map<string, AlertRecord[]>();
  readonly #listeners = new Set<(e: AlertEvent) => void>();
  readonly #pending = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    d: {
      store: Store;
      metrics: Metrics;
      logger: Logger;
      now: () => number;
      states: () => Iterable<DeviceLiveState>;
      /** Clustered: only the leader runs the periodic sweep (default: always). */
      isLeader?: () => boolean;
    },
    opts: AlertEngineOptions = {},
  ) {
    this.#d = { ...d, logger: d.logger.child({ module: 'alerts' }) };
    this.rules = { ...DEFAULT_ALERT_RULES, ...opts.rules };
    this.#tickMs = withDefaults(ALERT_ENGINE_DEFAULTS, opts).tickMs;
  }

  async start(): Promise<void> {
    for (const a of await this.#d.store.alerts.list((x) => x.state !== 'resolved')) {
      const list = this.#active.get(a.deviceId) ?? [];
      list.push(a);
      this.#active.set(a.deviceId, list);
    }
    this.#d.metrics.define(METRIC.alertsOpen, 'gauge', 'Open or acknowledged alerts', () =>
      this.activeCount(),
    );
    if (this.#tickMs > 0) {
      this.#timer = setInterval(() => {
        if (this.#d.isLeader?.() !== false) void this.tick();
      }, this.#tickMs);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#pending.values()]);
  }

  on(fn: (e: AlertEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: AlertEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'alert listener failed');
      }
    }
  }

  activeCount(): number {
    let n = 0;
    for (const l of this.#active.values()) n += l.length;
    return n;
  }

  /** Active alerts (optionally of one device). */
  active(deviceId?: string): AlertRecord[] {
    if (deviceId) return [...(this.#active.get(deviceId) ?? [])];
    return [...this.#active.values()].flat();
  }

  /** Re-evaluates one device; writes only when an alert opens or resolves. Serialised per device. */
  evaluate(state: DeviceLiveState): Promise<void> {
    // the common case (every health report of a healthy station): nothing open, nothing to open,
    // nothing queued for the device; decided at once, without a queue entry
    if (
      !this.#pending.has(state.deviceId) &&
      !this.#active.get(state.deviceId)?.length &&
      evaluateAlerts(state, this.#d.now(), this.rules).length === 0
    )
      return DONE;
    const prev = this.#pending.get(state.deviceId) ?? Promise.resolve();
    const run = prev
      .then(() => this.#evaluate(state))
      .catch((err) => this.#d.logger.error({ err }, 'alert evaluation failed'));
    this.#pending.set(state.deviceId, run);
    void run.then(() => {
      if (this.#pending.get(state.deviceId) === run) this.#pending.delete(state.deviceId);
    });
    return run;
  }

  async #evaluate(state: DeviceLiveState): Promise<void> {
    const now = this.#d.now();
    const conditions = evaluateAlerts(state, now, this.rules);
    const active = this.#active.get(state.deviceId) ?? [];
    if (conditions.length === 0 && active.length === 0) return;
    const changes = reconcileAlerts(
      active as Alert[],
      state,
      conditions,
      new Date(now),
      () => `a-${randomUUID()}`,
    );
    if (changes.opened.length === 0 && changes.resolved.length === 0) return;
    const resolvedIds = new Set(changes.resolved.map((a) => a.id));
    for (const a of changes.resolved) {
      const rec = await this.#d.store.alerts.update(a.id, {
        state: 'resolved',
        resolvedAt: a.resolvedAt as string,
      });
      this.#emit({ type: 'resolved', alert: rec });
    }
    const opened: AlertRecord[] = [];
    for (const a of changes.opened) {
      const rec = await this.#d.store.alerts.insert(toRecord(a));
      opened.push(rec);
      this.#emit({ type: 'opened', alert: rec });
    }
    const next = [...active.filter((a) => !resolvedIds.has(a.id)), ...opened];
    if (next.length) this.#active.set(state.deviceId, next);
    else this.#active.delete(state.deviceId);
  }

  /** Re-evaluates every device (the "offline > N minutes" rule needs time to pass). */
  async tick(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const s of this.#d.states()) jobs.push(this.evaluate(s));
    await Promise.all(jobs);
  }

  async acknowledge(
    id: string,
    actor: { id: string; username: string; scope: readonly string[] },
  ): Promise<AlertRecord> {
    const rec = await this.#d.store.alerts.get(id);
    if (!rec) throw new LoaError('ALERT_NOT_FOUND', 'Không tìm thấy cảnh báo');
    requireScope(actor, rec.unit);
    const next = acknowledgeAlert(rec as Alert, actor.username, new Date(this.#d.now()));
    if (next === (rec as Alert)) return rec;
    const stored = await this.#d.store.alerts.update(id, {
      state: 'acknowledged',
      acknowledgedAt: next.acknowledgedAt as string,
      acknowledgedBy: actor.username,
    });
    const list = this.#active.get(rec.deviceId);
    if (list)
      this.#active.set(
        rec.deviceId,
        list.map((a) => (a.id === id ? stored : a)),
      );
    this.#emit({ type: 'acknowledged', alert: stored });
    return stored;
  }
}
