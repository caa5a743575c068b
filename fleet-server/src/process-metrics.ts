/**
 * Process and Node.js metrics under their usual Prometheus names: resident memory, CPU time,
 * start time, V8 heap, and event-loop delay (mean, 99th percentile and maximum over the interval
 * since the previous scrape, measured by node:perf_hooks' monitorEventLoopDelay).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from './metrics.js';

/** Registers the metrics on `metrics`; the returned function stops the event-loop sampler. */
export function registerProcessMetrics(metrics: Metrics): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  let memory = process.memoryUsage();
  let lag = { mean: 0, p99: 0, max: 0 };
  const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
  const removeCollector = metrics.addCollector(() => {
    memory = process.memoryUsage();
    lag =
      delay.count > 0
        ? { mean: seconds(delay.mean), p99: seconds(delay.percentile(99)), max: seconds(delay.max) }
        : { mean: 0, p99: 0, max: 0 };
    delay.reset();
  });

  metrics.define('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes', () => memory.rss);
  metrics.define('process_cpu_seconds_total', 'counter', 'User and system CPU time spent in seconds', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  metrics.define(
    'process_start_time_seconds',
    'gauge',
    'Start time of the process since the Unix epoch in seconds',
    () => startSeconds,
  );
  metrics.define('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use in bytes', () => memory.heapUsed);
  metrics.define(
    'nodejs_heap_size_total_bytes',
    'gauge',
    'V8 heap reserved in bytes',
    () => memory.heapTotal,
  );
  metrics.define(
    'nodejs_external_memory_bytes',
    'gauge',
    'Memory of C++ objects bound to JavaScript (buffers) in bytes',
    () => memory.external,
  );
  metrics.define(
    'nodejs_eventloop_lag_seconds',
    'gauge',
    'Mean event-loop delay since the previous scrape in seconds',
    () => lag.mean,
  );
  metrics.define(
    'nodejs_eventloop_lag_p99_seconds',
    'gauge',
    '99th percentile of the event-loop delay since the previous scrape in seconds',
    () => lag.p99,
  );
  metrics.define(
    'nodejs_eventloop_lag_max_seconds',
    'gauge',
    'Longest event-loop delay since the previous scrape in seconds',
    () => lag.max,
  );
  return () => {
    removeCollector();
    delay.disable();
  };
}
