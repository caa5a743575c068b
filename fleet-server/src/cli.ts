/**
 * Command-line entry: configuration from the environment (PORT, MQTT_PORT, DATA_DIR, HOST,
 * TLS_CERT, TLS_KEY, PUBLIC_URL, MQTT_PUBLIC_URL, RETENTION_DAYS, TRUST_ROOTS, ENROL_APPROVAL,
 * LOG_LEVEL, LOA_KEY_SECRET, MAX_UPLOAD_MB, TILE_URL) and the standard plugins, prints the first administrator's one-time password on a fresh data directory,
 * stops cleanly on SIGINT/SIGTERM.
 */
import { isLoaError } from '@loa/protocol';
import { configFromEnv } from './config.js';
import { startFleetServer } from './main.js';
import { contentOptionsFromEnv } from './plugins/content.js';
import { standardPlugins } from './plugins/standard.js';
import type { ServerPlugin } from './server-plugin.js';

export async function runCli(env: NodeJS.ProcessEnv, plugins?: ServerPlugin[]): Promise<void> {
  let server: Awaited<ReturnType<typeof startFleetServer>>;
  try {
    server = await startFleetServer({
      config: configFromEnv(env),
      plugins:
        plugins ??
        standardPlugins({
          content: contentOptionsFromEnv(env),
          dashboard: env.TILE_URL ? { tileUrl: env.TILE_URL } : {},
        }),
    });
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
