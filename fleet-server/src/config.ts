/**
 * Fleet server configuration. Only the command-line entry (cli.ts) reads the environment;
 * everything else receives a `ServerConfig`. Defaults suit development on one machine.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';

export const ServerConfigSchema = z.strictObject({
  /** HTTP port (0 = ephemeral). */
  httpPort: z.number().int().min(0).max(65535).default(8080),
  /** MQTT over TCP port (0 = ephemeral). */
  mqttPort: z.number().int().min(0).max(65535).default(1883),
  /** Listen address: 127.0.0.1 for development; 0.0.0.0 (behind a firewall/TLS) in production. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Data directory: the embedded store's files, and blobs and keys with either store. */
  dataDir: z.string().min(1).default('./data'),
  /**
   * Where records live: `lowdb` (embedded: registry.json + NDJSON segments in dataDir, the
   * default) or `postgres` (databaseUrl; see docs/postgresql.md).
   */
  store: z.enum(['lowdb', 'postgres']).default('lowdb'),
  /** postgres://user:password@host:port/database (store: postgres). */
  databaseUrl: z.string().min(1).optional(),
  /** Connections of the PostgreSQL pool. */
  databasePoolSize: z.number().int().min(1).max(200).default(10),
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  /** Public base URL of the HTTP API as devices reach it (default derived from host and port). */
  publicUrl: z.string().url().optional(),
  /** Public MQTT URL for devices (default mqtt://host:port). */
  mqttPublicUrl: z.string().optional(),
  /** Days of health/proof/audit segments to keep. */
  retentionDays: z.number().int().min(1).max(3650).default(90),
  /** Retention acts on the clock even after a jump past its last run (operator confirmation). */
  retentionTrustClock: z.boolean().default(false),
  /** Registry write coalescing window. */
  registryFlushMs: z.number().int().min(0).max(60_000).default(200),
  /** Health segment fsync interval. */
  healthFsyncMs: z.number().int().min(0).max(60_000).default(1000),
  /**
   * Health history: a device's report is written to the history at most once per this many
   * seconds, unless something an operator looks at changed (inputs, relays, what is on air,
   * modem registration, clock trust, installed bundles, an error). The live state always has the
   * newest report. 0 keeps every report. At 10,000 devices reporting every 60 s, keeping all is
   * ~9 GB a day; the default (300 s) is ~1.9 GB.
   */
  healthHistoryEveryS: z.number().int().min(0).max(86_400).default(300),
  sessionTtlHours: z
    .number()
    .min(0.1)
    .max(24 * 30)
    .default(12),
  /** Login attempts per (IP, username) per window before 429. */
  loginMaxAttempts: z.number().int().min(1).max(1000).default(5),
  loginWindowMs: z
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Default for new enrolment tokens: devices wait for approval. */
  enrolmentApprovalDefault: z.boolean().default(false),
  broker: z
    .strictObject({
      /** Messages per second a client may publish (token bucket refill). */
      ratePerSecond: z.number().min(0.1).default(20),
      /** Bucket size (burst). */
      burst: z.number().int().min(1).default(100),
      /** Consecutive messages over the rate passed through (jitter, queued proofs after a
       * reconnect) before the client is disconnected. */
      maxViolations: z.number().int().min(1).default(50),
      drainTimeoutMs: z.number().int().min(100).default(10_000),
      maxPayload: z.number().int().min(256).optional(),
      connectTimeoutMs: z.number().int().min(100).default(30_000),
    })
    // absent: every field takes its default above
    .prefault({}),
  /**
   * Several fleet-server processes as one (broker/cluster.ts): MQTT state, presence, server
   * events and the leader lease in Redis. Absent: the embedded single-process broker.
   */
  cluster: z
    .strictObject({
      kind: z.literal('redis'),
      /** redis://[user:password@]host:port[/db] */
      redisUrl: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'phải là redis://host:port'),
      /** Leader lease in ms (jobs that run once: alert sweep, reports, rollouts, retention). */
      leaderTtlMs: z.number().int().min(100).max(600_000).default(10_000),
    })
    .optional(),
  /** Pinned root public keys (raw base64) that trust policies must be signed by. */
  trustRoots: z.array(z.string()).default([]),
  trustRootThreshold: z.number().int().min(1).default(1),
  /** Secure flag on cookies (on when TLS is on or publicUrl is https). */
  secureCookies: z.boolean().optional(),
  /** Administrator created on a fresh data dir. */
  bootstrapAdmin: z
    .string()
    .regex(/^[a-z0-9._-]{3,64}$/)
    .default('admin'),
});
export type ServerConfig = z.infer<typeof ServerConfigSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

export function parseConfig(input: ServerConfigInput): ServerConfig {
  const r = ServerConfigSchema.refine((c) => c.store !== 'postgres' || c.databaseUrl !== undefined, {
    path: ['databaseUrl'],
    message: 'STORE=postgres cần DATABASE_URL',
  }).safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new LoaError('CONFIG_INVALID', `cấu hình không hợp lệ: ${msg}`, { cause: r.error });
  }
  return r.data;
}
