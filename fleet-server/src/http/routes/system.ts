/** GET /healthz (liveness and a summary) and GET /metrics (Prometheus text). Public, no secrets. */
import { METRIC } from '../../metrics.js';
import type { RouteContext } from '../route-context.js';

export function registerSystemRoutes({ app, deps }: RouteContext): void {
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
}
