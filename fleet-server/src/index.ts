export * from './broker/broker.js';
export * from './broker/device-auth.js';
export * from './broker/types.js';
export * from './cli.js';
export * from './config.js';
export * from './deps.js';
// Pure ingest steps, for the benchmarks' per-step cost profile.
export { checkUpPayload } from './domain/acl.js';
export { applyHealth, emptyLiveState } from './domain/ingest.js';
export * from './domain/model.js';
export { namedPeriod, type Period, periodOf } from './domain/reports/period.js';
export * from './http/app.js';
export * from './http/auth.js';
export * from './http/error-status.js';
export * from './http/openapi.js';
// The fleet page's parts, for the dashboard benchmark (scripts/bench/dashboard.ts).
export type { UiCtx } from './http/ui/context.js';
export { translator } from './http/ui/i18n/index.js';
export { LiveHub } from './http/ui/live.js';
export { fleetLiveView } from './http/ui/pages/fleet.js';
export { FleetPage, rowUpdates } from './http/ui/pages/fleet-view.js';
export { buildFleet, FLEET_PAGE_SIZE, type FleetInputs, fleetRow } from './http/ui/view-models/fleet.js';
export * from './main.js';
export * from './metrics.js';
// The plugins (the demo, benchmarks and tests compose them in-process).
export * from './plugins/content.js';
export * from './plugins/dashboard.js';
export * from './plugins/integrations.js';
export * from './plugins/reports.js';
export * from './plugins/standard.js';
export * from './seed.js';
export * from './server-plugin.js';
export * from './services/auth-service.js';
export * from './services/report-service.js';
export * from './store/file-store.js';
export * from './store/ports.js';
