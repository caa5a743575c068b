export * from './broker/broker.js';
export * from './broker/device-auth.js';
export * from './broker/types.js';
export * from './cli.js';
export * from './config.js';
export * from './deps.js';
// Pure ingest steps, for the benchmarks' per-step cost profile.
export { checkUpPayload } from './domain/acl.js';
export { applyHealth, emptyLiveState } from './domain/ingest.js';
export * from './http/app.js';
export * from './http/auth.js';
export * from './http/auth-service.js';
export * from './http/openapi.js';
// The dashboard as a server plugin (the demo, scripts/src/demo, mounts it in-process).
export { dashboardPlugin } from './http/ui/index.js';
export * from './main.js';
export * from './metrics.js';
// CAP intake, the event stream and spoken bulletins, as a server plugin (after the content plugin).
export { integrationsPlugin } from './plugins/integrations.js';
export * from './seed.js';
export * from './services/index.js';
export * from './store/file-store.js';
export * from './store/types.js';
