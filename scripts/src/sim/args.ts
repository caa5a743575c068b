/**
 * Command-line arguments of `npm run sim`. Parsing is pure (returns options or throws a
 * UsageError with an operator-readable message) so the entry point can exit 2 on bad input.
 */
import { parseArgs } from 'node:util';
import { LINK_PROFILES } from './link-proxy.js';

export class UsageError extends Error {
  readonly code = 'SIM_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface SimOptions {
  devices: number;
  noticeboards: number;
  server: string;
  /** The server's MQTT listener (default mqtt://<server host>:1883). */
  mqtt: string;
  tokens: string[];
  noticeboardTokens: string[];
  rootKeys: string[];
  dataDir: string;
  profile: string;
  /** Power cuts per device per hour. */
  powerCutsPerHour: number;
  /** How long a power cut lasts (s). */
  powerCutSeconds: number;
  /** Cell outages (all links cut) per hour. */
  outagesPerHour: number;
  outageSeconds: number;
  /** Share 0..1 of stations whose amplifier reports a fault. */
  ampFaults: number;
  /** Largest clock drift, in ppm (each device draws ±). */
  clockDriftPpm: number;
  /** Largest random delay before a device (re)starts, in ms. */
  jitterMs: number;
  healthIntervalS: number;
  /** Stop after this many seconds (0: until Ctrl-C). */
  durationS: number;
  seed: number;
  logLevel: string;
}

export const SIM_HELP = `Usage: npm run sim -- --devices N --server URL --token TOKEN --root-key FILE [options]

Runs N simulated loudspeaker stations and e-noticeboards, each the real Loa agent over simulated
hardware and audio timing, against a fleet server, through a simulated 4G link.

Required:
  --devices N              devices in all (stations + noticeboards), 1..20000
  --server URL             the fleet server, e.g. http://127.0.0.1:8080
  --token TOKEN            enrolment token for stations (repeat for several units)
  --root-key FILE          pinned root public key (SPKI PEM) of the province (repeatable)

Options:
  --mqtt URL               the server's MQTT listener (default mqtt://<server host>:1883)
  --noticeboards M         how many of the devices are noticeboards (default 0)
  --noticeboard-token T    enrolment token for noticeboards (repeatable; needed when M > 0)
  --data-dir DIR           where the simulated devices keep their data (default ./data/sim)
  --profile NAME           link profile: ${Object.keys(LINK_PROFILES).join(', ')} (default 4g-good)
  --power-cuts R           power cuts per device per hour (default 0)
  --power-cut-seconds S    length of a power cut (default 20)
  --outages R              cell outages (every link cut at once) per hour (default 0)
  --outage-seconds S       length of an outage (default 30)
  --amp-faults SHARE       share 0..1 of stations with a faulty amplifier (default 0)
  --clock-drift PPM        largest clock drift, each device draws ±PPM (default 0)
  --jitter MS              largest random delay before a device starts or reconnects (default 3000)
  --health-interval S      seconds between health reports (default 60)
  --duration S             stop after S seconds (default: run until Ctrl-C)
  --seed N                 random seed, for repeatable runs (default 1)
  --log-level LEVEL        agent log level (default warn)
  -h, --help               this help

Example:
  npm run sim -- --devices 50 --noticeboards 5 --server http://127.0.0.1:8080 \\
    --token <station token> --noticeboard-token <board token> --root-key data/demo-keys/root.pub.pem \\
    --profile 4g-poor --power-cuts 0.5 --amp-faults 0.05 --clock-drift 50
`;

function num(
  name: string,
  v: string | undefined,
  def: number,
  min: number,
  max: number,
  int = false,
): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (int && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${int ? 'an integer' : 'a number'} (got "${v}")`);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function parseSimArgs(argv: readonly string[]): SimOptions | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        devices: { type: 'string' },
        noticeboards: { type: 'string' },
        server: { type: 'string' },
        mqtt: { type: 'string' },
        token: { type: 'string', multiple: true },
        'noticeboard-token': { type: 'string', multiple: true },
        'root-key': { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        profile: { type: 'string' },
        'power-cuts': { type: 'string' },
        'power-cut-seconds': { type: 'string' },
        outages: { type: 'string' },
        'outage-seconds': { type: 'string' },
        'amp-faults': { type: 'string' },
        'clock-drift': { type: 'string' },
        jitter: { type: 'string' },
        'health-interval': { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const s = (k: string) => values[k] as string | undefined;
  const list = (k: string) => (values[k] as string[] | undefined) ?? [];
  if (s('devices') === undefined) throw new UsageError('--devices is required');
  const devices = num('devices', s('devices'), 0, 1, 20_000, true);
  const noticeboards = num('noticeboards', s('noticeboards'), 0, 0, devices, true);
  const server = s('server');
  if (!server) throw new UsageError('--server is required (e.g. http://127.0.0.1:8080)');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server is not a URL: "${server}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--server must be http:// or https:// (got ${url.protocol})`);
  let mqtt: URL;
  try {
    mqtt = new URL(s('mqtt') ?? `mqtt://${url.hostname}:1883`);
  } catch {
    throw new UsageError(`--mqtt is not a URL: "${s('mqtt')}"`);
  }
  if (mqtt.protocol !== 'mqtt:')
    throw new UsageError(`--mqtt must be mqtt://host:port (got ${mqtt.protocol})`);
  const tokens = list('token');
  const noticeboardTokens = list('noticeboard-token');
  if (devices - noticeboards > 0 && tokens.length === 0)
    throw new UsageError('--token is required: an enrolment token for the stations');
  if (noticeboards > 0 && noticeboardTokens.length === 0)
    throw new UsageError('--noticeboard-token is required when --noticeboards is more than 0');
  const rootKeys = list('root-key');
  if (rootKeys.length === 0)
    throw new UsageError('--root-key is required: the province root public key (PEM)');
  const profile = s('profile') ?? '4g-good';
  if (!LINK_PROFILES[profile])
    throw new UsageError(
      `--profile must be one of ${Object.keys(LINK_PROFILES).join(', ')} (got "${profile}")`,
    );
  const logLevel = s('log-level') ?? 'warn';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new UsageError(
      `--log-level must be fatal, error, warn, info, debug, trace or silent (got "${logLevel}")`,
    );
  return {
    devices,
    noticeboards,
    server: url.toString().replace(/\/$/, ''),
    mqtt: mqtt.toString().replace(/\/$/, ''),
    tokens,
    noticeboardTokens,
    rootKeys,
    dataDir: s('data-dir') ?? './data/sim',
    profile,
    powerCutsPerHour: num('power-cuts', s('power-cuts'), 0, 0, 3600),
    powerCutSeconds: num('power-cut-seconds', s('power-cut-seconds'), 20, 1, 86_400),
    outagesPerHour: num('outages', s('outages'), 0, 0, 3600),
    outageSeconds: num('outage-seconds', s('outage-seconds'), 30, 1, 86_400),
    ampFaults: num('amp-faults', s('amp-faults'), 0, 0, 1),
    clockDriftPpm: num('clock-drift', s('clock-drift'), 0, 0, 100_000),
    jitterMs: num('jitter', s('jitter'), 3000, 0, 600_000, true),
    healthIntervalS: num('health-interval', s('health-interval'), 60, 5, 3600, true),
    durationS: num('duration', s('duration'), 0, 0, 30 * 86_400),
    seed: num('seed', s('seed'), 1, 0, 2 ** 31, true),
    logLevel,
  };
}
