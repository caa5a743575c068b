/**
 * Command-line entry: configuration from the environment (PORT, MQTT_PORT, DATA_DIR, HOST,
 * TLS_CERT, TLS_KEY, PUBLIC_URL, MQTT_PUBLIC_URL, RETENTION_DAYS, TRUST_ROOTS, ENROL_APPROVAL,
 * LOG_LEVEL), prints the first administrator's one-time password on a fresh data directory,
 * stops cleanly on SIGINT/SIGTERM.
 */
import { isLoaError } from '@loa/protocol';
import { configFromEnv } from './config.js';
import { dashboardPlugin } from './http/ui/index.js';
import { type ServerPlugin, startFleetServer } from './main.js';
import { integrationsPlugin } from './plugins/integrations.js';
import { contentOptionsFromEnv, contentPlugin } from './services/index.js';

/** The standard server: core + content side (publishing, ingest, alerts) + integrations (CAP, event stream) + dashboard. */
export function standardPlugins(env: NodeJS.ProcessEnv = {}): ServerPlugin[] {
  return [
    contentPlugin(contentOptionsFromEnv(env)),
    integrationsPlugin(),
    dashboardPlugin(env.TILE_URL ? { tileUrl: env.TILE_URL } : {}),
  ];
}

export async function runCli(env: NodeJS.ProcessEnv, plugins?: ServerPlugin[]): Promise<void> {
  let server: Awaited<ReturnType<typeof startFleetServer>>;
  try {
    server = await startFleetServer({ config: configFromEnv(env), plugins: plugins ?? standardPlugins(env) });
  } catch (err) {
    process.stderr.write(
      `loa-fleet-server: ${isLoaError(err) ? `${err.code}: ${err.message}` : String(err)}\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (server.bootstrap) {
    process.stdout.write(
      `\nTài khoản quản trị đầu tiên / first administrator:\n  tên đăng nhập: ${server.bootstrap.username}\n` +
        `  mật khẩu dùng một lần: ${server.bootstrap.password}\n  (phải đổi khi đăng nhập lần đầu; chỉ in một lần)\n\n`,
    );
  }
  process.stdout.write(`HTTP ${server.url}  MQTT ${server.mqttUrl}  (WebSocket ${server.url}/mqtt)\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
