/**
 * Prometheus-style counters and gauges. Services increment them; GET /metrics renders them.
 * No global registry: one instance is created in main.ts and passed in Deps.
 *
 * Naming (Prometheus conventions): a cumulative value is a `counter` whose name ends in `_total`
 * (`…_bytes_total` for bytes); a value that goes up and down is a `gauge`; a labelled family
 * names its labels and their values in its HELP text.
 */
export type MetricType = 'counter' | 'gauge';

interface Metric {
  name: string;
  help: string;
  type: MetricType;
  /** Labelled values, keyed by the rendered label set ('' for none). */
  values: Map<string, number>;
  /** Computed at scrape time (gauges such as devices online). */
  collect?: () => number;
}

function labelKey(labels?: Record<string, string>): string {
  if (!labels) return '';
  const parts = Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    );
  return parts.length ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly metrics = new Map<string, Metric>();
  /** Sliding per-second rates: name → ring of (second, count). */
  private readonly rates = new Map<string, { second: number; current: number; last: number }>();
  /** Run once at the start of each render (samplers that read several values at once). */
  private readonly collectors = new Set<() => void>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * Declares a metric (idempotent). Names follow Prometheus rules, prefixed `loa_` (process and
   * Node.js metrics keep their usual `process_`/`nodejs_` names); a counter's name ends in `_total`.
   */
  define(name: string, type: MetricType, help: string, collect?: () => number): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    const existing = this.metrics.get(name);
    if (existing) {
      if (collect) existing.collect = collect;
      return;
    }
    this.metrics.set(name, { name, help, type, values: new Map(), ...(collect ? { collect } : {}) });
  }

  inc(name: string, by = 1, labels?: Record<string, string>): void {
    const m = this.metrics.get(name) ?? this.autoDefine(name, 'counter');
    const k = labelKey(labels);
    m.values.set(k, (m.values.get(k) ?? 0) + by);
    this.tickRate(name, by);
  }

  set(name: string, value: number, labels?: Record<string, string>): void {
    const m = this.metrics.get(name) ?? this.autoDefine(name, 'gauge');
    m.values.set(labelKey(labels), value);
  }

  get(name: string, labels?: Record<string, string>): number {
    const m = this.metrics.get(name);
    if (!m) return 0;
    if (m.collect && !labels) return m.collect();
    return m.values.get(labelKey(labels)) ?? 0;
  }

  /** Events per second over the last complete second, for counters incremented via inc(). */
  ratePerSecond(name: string): number {
    const r = this.rates.get(name);
    if (!r) return 0;
    const sec = Math.floor(this.now() / 1000);
    if (sec === r.second) return r.last;
    if (sec === r.second + 1) return r.current;
    return 0;
  }

  private tickRate(name: string, by: number): void {
    const sec = Math.floor(this.now() / 1000);
    const r = this.rates.get(name);
    if (!r) {
      this.rates.set(name, { second: sec, current: by, last: 0 });
      return;
    }
    if (r.second === sec) r.current += by;
    else {
      r.last = r.second === sec - 1 ? r.current : 0;
      r.second = sec;
      r.current = by;
    }
  }

  private autoDefine(name: string, type: MetricType): Metric {
    this.define(name, type, name.replace(/_/g, ' '));
    return this.metrics.get(name) as Metric;
  }

  /** Runs `fn` at the start of every render; returns its removal. */
  addCollector(fn: () => void): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    for (const c of this.collectors) c();
    const lines: string[] = [];
    for (const m of this.metrics.values()) {
      lines.push(`# HELP ${m.name} ${m.help.replace(/\n/g, ' ')}`);
      lines.push(`# TYPE ${m.name} ${m.type}`);
      if (m.collect) lines.push(`${m.name} ${m.collect()}`);
      else if (m.values.size === 0) lines.push(`${m.name} 0`);
      for (const [k, v] of m.values) lines.push(`${m.name}${k} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Metric names shared between modules (others may define more). */
export const METRIC = {
  devicesOnline: 'loa_devices_online',
  devicesEnrolled: 'loa_devices_enrolled',
  mqttMessagesIn: 'loa_mqtt_messages_in_total',
  mqttMessagesPerSecond: 'loa_mqtt_messages_per_second',
  mqttInvalid: 'loa_mqtt_invalid_payloads_total',
  mqttRejected: 'loa_mqtt_rejected_total',
  mqttRateLimited: 'loa_mqtt_rate_limited_total',
  ingestLagSeconds: 'loa_ingest_lag_seconds',
  alertsOpen: 'loa_alerts_open',
  loginFailures: 'loa_login_failures_total',
  registryWrites: 'loa_registry_writes_total',
  registryBytes: 'loa_registry_written_bytes_total',
} as const;
