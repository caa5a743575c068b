/**
 * Command-line entry, and the only place that reads the environment: configuration (PORT,
 * MQTT_PORT, DATA_DIR, STORE, DATABASE_URL, DATABASE_POOL_SIZE, HOST, TLS_CERT, TLS_KEY, PUBLIC_URL, MQTT_PUBLIC_URL, RETENTION_DAYS, RETENTION_TRUST_CLOCK,
 * HEALTH_HISTORY_EVERY_S, TRUST_ROOTS, ENROL_APPROVAL, BROKER_CLUSTER=redis with REDIS_URL), the logger (LOG_LEVEL) and the standard
 * plugins' options (LOA_KEY_SECRET, MAX_UPLOAD_MB, TILE_URL). Prints the first administrator's
 * one-time password on a fresh data directory, stops cleanly on SIGINT/SIGTERM.
 */
import { isLoaError, LoaError } from '@loa/protocol';
import { pino } from 'pino';
import type { ServerConfigInput } from './config.js';
import { copyStoreCommand } from './copy-store.js';
import { type StartOptions, startFleetServer } from './main.js';
import type { ContentServicesOptions } from './plugins/content.js';
import { standardPlugins } from './plugins/standard.js';
import type { ServerPlugin } from './server-plugin.js';
import { parseMasterKey } from './services/signer.js';

/** Everything startFleetServer takes, from the environment (the CLI passes `process.env`). */
export function optionsFromEnv(env: NodeJS.ProcessEnv): StartOptions {
  return {
    config: configFromEnv(env),
    logger: pino({ name: 'loa-fleet-server', level: env.LOG_LEVEL || 'info' }),
    plugins: standardPlugins({
      content: contentOptionsFromEnv(env),
      dashboard: env.TILE_URL ? { tileUrl: env.TILE_URL } : {},
    }),
  };
}

function intEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new LoaError('CONFIG_INVALID', `${name} phải là số nguyên (đang là "${v}")`);
  return n;
}

/** Configuration from environment variables (PORT, MQTT_PORT, DATA_DIR, HOST, TLS_CERT, TLS_KEY, …). */
export function configFromEnv(env: NodeJS.ProcessEnv): ServerConfigInput {
  const out: ServerConfigInput = {};
  const port = intEnv(env, 'PORT');
  if (port !== undefined) out.httpPort = port;
  const mqtt = intEnv(env, 'MQTT_PORT');
  if (mqtt !== undefined) out.mqttPort = mqtt;
  if (env.HOST) out.host = env.HOST;
  if (env.DATA_DIR) out.dataDir = env.DATA_DIR;
  if (env.STORE) {
    if (env.STORE !== 'lowdb' && env.STORE !== 'postgres')
      throw new LoaError('CONFIG_INVALID', `STORE phải là lowdb hoặc postgres (đang là "${env.STORE}")`);
    out.store = env.STORE;
  }
  if (env.DATABASE_URL) out.databaseUrl = env.DATABASE_URL;
  const pool = intEnv(env, 'DATABASE_POOL_SIZE');
  if (pool !== undefined) out.databasePoolSize = pool;
  if (env.TLS_CERT || env.TLS_KEY) {
    if (!env.TLS_CERT || !env.TLS_KEY)
      throw new LoaError('CONFIG_INVALID', 'TLS_CERT và TLS_KEY phải được đặt cùng nhau');
    out.tls = { cert: env.TLS_CERT, key: env.TLS_KEY };
  }
  if (env.PUBLIC_URL) out.publicUrl = env.PUBLIC_URL;
  if (env.MQTT_PUBLIC_URL) out.mqttPublicUrl = env.MQTT_PUBLIC_URL;
  const retention = intEnv(env, 'RETENTION_DAYS');
  if (retention !== undefined) out.retentionDays = retention;
  if (env.RETENTION_TRUST_CLOCK === '1') out.retentionTrustClock = true;
  const healthEvery = intEnv(env, 'HEALTH_HISTORY_EVERY_S');
  if (healthEvery !== undefined) out.healthHistoryEveryS = healthEvery;
  if (env.TRUST_ROOTS)
    out.trustRoots = env.TRUST_ROOTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.BROKER_CLUSTER) {
    if (env.BROKER_CLUSTER !== 'redis')
      throw new LoaError(
        'CONFIG_INVALID',
        `BROKER_CLUSTER chỉ nhận "redis" (đang là "${env.BROKER_CLUSTER}"); bỏ trống để dùng broker nhúng`,
      );
    if (!env.REDIS_URL)
      throw new LoaError(
        'CONFIG_INVALID',
        'BROKER_CLUSTER=redis cần REDIS_URL (ví dụ redis://127.0.0.1:6379)',
      );
    out.cluster = { kind: 'redis', redisUrl: env.REDIS_URL };
  } else if (env.REDIS_URL)
    throw new LoaError('CONFIG_INVALID', 'REDIS_URL chỉ dùng cùng BROKER_CLUSTER=redis');
  if (env.ENROL_APPROVAL)
    out.enrolmentApprovalDefault = env.ENROL_APPROVAL === '1' || env.ENROL_APPROVAL === 'true';
  return out;
}

/**
 * Options from the environment (the CLI passes `process.env`): LOA_KEY_SECRET (32 bytes, base64
 * or hex: the key that encrypts server-held signing keys; without it a 0600 file
 * `<DATA_DIR>/secrets/signing-master.key` is created), MAX_UPLOAD_MB.
 */
export function contentOptionsFromEnv(env: NodeJS.ProcessEnv): ContentServicesOptions {
  const out: ContentServicesOptions = {};
  if (env.LOA_KEY_SECRET) out.masterKey = parseMasterKey(env.LOA_KEY_SECRET);
  if (env.MAX_UPLOAD_MB) {
    const mb = Number(env.MAX_UPLOAD_MB);
    if (!Number.isInteger(mb) || mb < 1)
      throw new LoaError(
        'CONFIG_INVALID',
        `MAX_UPLOAD_MB phải là số nguyên dương (đang là "${env.MAX_UPLOAD_MB}")`,
      );
    out.maxUploadBytes = mb * 1024 * 1024;
  }
  return out;
}

export async function runCli(
  env: NodeJS.ProcessEnv,
  plugins?: ServerPlugin[],
  argv: readonly string[] = [],
): Promise<void> {
  if (argv[0] === 'copy-store') return runCopyStore(env, argv.slice(1));
  let server: Awaited<ReturnType<typeof startFleetServer>>;
  try {
    const options = optionsFromEnv(env);
    server = await startFleetServer(plugins ? { ...options, plugins } : options);
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

/** `copy-store --from lowdb:<dir>|postgres:<url> --to …` (RETENTION_DAYS: how much history). */
async function runCopyStore(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<void> {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const from = arg('--from');
  const to = arg('--to');
  try {
    if (!from || !to)
      throw new LoaError(
        'CONFIG_INVALID',
        'cách dùng: loa-fleet-server copy-store --from lowdb:<thư mục> --to postgres:<URL> (hoặc ngược lại)',
      );
    await copyStoreCommand({
      from,
      to,
      retentionDays: intEnv(env, 'RETENTION_DAYS') ?? 90,
      now: () => Date.now(),
      out: (l) => process.stdout.write(`${l}\n`),
    });
  } catch (err) {
    process.stderr.write(
      `loa-fleet-server copy-store: ${isLoaError(err) ? `${err.code}: ${err.message}` : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
