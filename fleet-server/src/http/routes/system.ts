/** GET /healthz (liveness and a summary) and GET /metrics (Prometheus text). Public, no secrets. */
import { z } from 'zod';
import { METRIC } from '../../metrics.js';
import type { RouteContext } from '../route-context.js';

const HealthzSchema = z.object({
  status: z.literal('ok'),
  uptimeS: z.number().int(),
  devicesOnline: z.number().int(),
  time: z.string(),
});

export function registerSystemRoutes({ api, app, deps }: RouteContext): void {
  const started = deps.clock.now();
  app.get('/healthz', (c) =>
    c.json({
      status: 'ok',
      uptimeS: Math.round((deps.clock.now() - started) / 1000),
      devicesOnline: deps.broker.onlineCount(),
      time: new Date(deps.clock.now()).toISOString(),
    }),
  );
  app.get('/metrics', async (c) => {
    deps.metrics.set(METRIC.devicesEnrolled, await deps.store.devices.count((d) => d.status === 'active'));
    deps.metrics.set(METRIC.mqttMessagesPerSecond, deps.metrics.ratePerSecond(METRIC.mqttMessagesIn));
    return c.text(deps.metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  api.describe({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness and a summary (no secrets)',
    tags: ['system'],
    auth: 'public',
    responses: { 200: { description: 'The server is up', type: 'application/json', schema: HealthzSchema } },
  });
  api.describe({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    tags: ['system'],
    auth: 'public',
    responses: {
      200: {
        description: 'Counters and gauges of the fleet, broker, ingest, store, process and Node.js',
        type: 'text/plain; version=0.0.4',
        schema: { type: 'string' },
      },
    },
  });
}
