/**
 * Test harness for the content side: a real fleet server (hono on a real socket, embedded aedes
 * on an ephemeral 127.0.0.1 port, file store in a temp dir) with the content plugin, users with
 * API tokens, devices with MQTT credentials, and a trust policy signed by a root key that the
 * server only knows by its public key.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  addSignature,
  type DelegatedKey,
  generateKeyPair,
  type KeyPair,
  keyId,
  type Role,
  rawPublicKey,
  TRUST_FORMAT,
  type TrustPolicy,
} from '@loa/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { DeviceRecord, UserRole } from '../../../fleet-server/src/domain/model.js';
import { type FleetServer, startFleetServer } from '../../../fleet-server/src/main.js';
import { type ContentPlugin, contentPlugin } from '../../../fleet-server/src/plugins/content.js';
import { DEVICE_SCRYPT, hashSecret } from '../../../fleet-server/src/security/secrets.js';
import type { ServerPlugin } from '../../../fleet-server/src/server-plugin.js';
import type { RecordingLimits } from '../../../fleet-server/src/services/content-service.js';
import type { ContentServices } from '../../../fleet-server/src/services/content-services.js';

export const run = promisify(execFile);

export interface TestUser {
  id: string;
  username: string;
  token: string;
  role: UserRole;
  scope: string[];
}

export interface TestDevice {
  id: string;
  unit: string;
  password: string;
  keys: KeyPair;
  record: DeviceRecord;
  basic: string;
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Harness {
  dir: string;
  server: FleetServer;
  svc: ContentServices;
  root: KeyPair;
  /** Fake clock offset (ms) added to the real time: tests move time forward. */
  advance(ms: number): void;
  now(): number;
  user(username: string, role: UserRole, scope: string[]): Promise<TestUser>;
  device(id: string, unit: string, groups?: string[], kind?: DeviceRecord['kind']): Promise<TestDevice>;
  /** Calls the API through app.request() with the user's bearer token. */
  api<T = unknown>(
    u: TestUser | null,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResult<T>>;
  /** Builds a trust policy signed by the root (version auto-increments). */
  policy(
    keys: { pub: string; roles: Role[]; scope: string[]; name?: string }[],
    thresholds?: Partial<Record<Role, number>>,
  ): TrustPolicy;
  /** Uploads a policy through PUT /api/v1/trust as an administrator. */
  installTrust(
    keys: { pub: string; roles: Role[]; scope: string[]; name?: string }[],
    thresholds?: Partial<Record<Role, number>>,
  ): Promise<TrustPolicy>;
  /** Connects a device's MQTT client and subscribes to its topics. */
  connect(d: TestDevice, topics: string[]): Promise<MqttClient>;
  /** Stops the server and starts a new one on the same data directory (same keys and root). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function delegated(pub: string, roles: Role[], scope: string[], name?: string): DelegatedKey {
  const id = keyId(Buffer.from(pub, 'base64'));
  return { keyid: id, publicKey: pub, roles, scope, ...(name ? { name } : {}) };
}

export async function startHarness(
  opts: {
    maxUploadBytes?: number;
    /** Limits of recordings made in the browser. */
    recording?: Partial<RecordingLimits>;
    twoPerson?: boolean;
    alertRules?: { offlineMinutes?: number };
    /** Emergency escalation timings (re-send, alert). */
    escalation?: { resendAfterMs: number; alertAfterMs: number };
    /** Plugins composed after the content plugin, made anew at each (re)start. */
    plugins?: (content: ContentPlugin) => ServerPlugin[];
  } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-h6-'));
  const root = generateKeyPair();
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const masterKey = randomBytes(32);
  let content: ContentPlugin | undefined;
  const boot = () => {
    content = contentPlugin({
      masterKey,
      alerts: { tickMs: 0, ...(opts.alertRules ? { rules: opts.alertRules } : {}) },
      webhooks: { baseDelayMs: 50, maxDelayMs: 200, attempts: 4 },
      ...(opts.maxUploadBytes ? { maxUploadBytes: opts.maxUploadBytes } : {}),
      ...(opts.recording ? { recording: opts.recording } : {}),
      ...(opts.escalation ? { escalation: opts.escalation } : {}),
      ...(opts.twoPerson !== undefined ? { publisher: { twoPerson: opts.twoPerson } } : {}),
    });
    return startFleetServer({
      config: {
        httpPort: 0,
        mqttPort: 0,
        host: '127.0.0.1',
        dataDir: dir,
        trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
        registryFlushMs: 20,
        healthFsyncMs: 50,
        // only the limits this suite needs; the other broker settings keep their defaults
        broker: { ratePerSecond: 1000, burst: 1000 },
      },
      logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
      clock,
      plugins: [content, ...(opts.plugins?.(content) ?? [])],
    });
  };
  let server = await boot();
  const clients: MqttClient[] = [];
  let trustVersion = 0;
  let admin: TestUser | undefined;

  const h: Harness = {
    dir,
    get server() {
      return server;
    },
    get svc() {
      return (content as ContentPlugin).services as ContentServices;
    },
    root,
    async restart() {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
      await server.stop();
      server = await boot();
    },
    advance: (ms) => {
      offset += ms;
    },
    now: () => clock.now(),
    async user(username, role, scope) {
      const at = new Date().toISOString();
      const id = randomUUID();
      await server.deps.store.users.insert({
        id,
        username,
        displayName: username,
        role,
        scope,
        passwordHash: 'scrypt$1$1$1$AAAA$AAAA',
        mustChangePassword: false,
        disabled: false,
        createdAt: at,
        updatedAt: at,
      });
      const { token } = await server.deps.auth.createApiToken(id, 'test');
      return { id, username, token, role, scope };
    },
    async device(id, unit, groups = [], kind = 'station') {
      const keys = generateKeyPair();
      const password = randomBytes(18).toString('base64url');
      const at = new Date().toISOString();
      const record: DeviceRecord = {
        id,
        unit,
        kind,
        name: kind === 'station' ? `Cụm loa ${id}` : `Bảng tin ${id}`,
        status: 'active',
        publicKey: rawPublicKey(keys.publicKey).toString('base64'),
        keyId: keyId(keys.publicKey),
        mqttPasswordHash: await hashSecret(password, DEVICE_SCRYPT),
        groups,
        hardware: {},
        enrolledAt: at,
        updatedAt: at,
      };
      await server.deps.store.devices.insert(record);
      return {
        id,
        unit,
        password,
        keys,
        record,
        basic: `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`,
      };
    },
    async api(u, method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (u) (init.headers as Record<string, string>).authorization = `Bearer ${u.token}`;
      if (body !== undefined) {
        if (body instanceof Uint8Array || body instanceof ReadableStream) {
          init.body = body as RequestInit['body'];
          (init as { duplex?: string }).duplex = 'half';
        } else {
          init.body = JSON.stringify(body);
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
        }
      }
      const res = await server.app.request(path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    policy(keys, thresholds = {}) {
      trustVersion++;
      const doc = {
        type: 'loa-trust' as const,
        format: TRUST_FORMAT,
        version: trustVersion,
        created: new Date(clock.now() - 60_000).toISOString(),
        root: {
          keys: [
            { keyid: keyId(root.publicKey), publicKey: rawPublicKey(root.publicKey).toString('base64') },
          ],
          threshold: 1,
        },
        keys: keys.map((k) => delegated(k.pub, k.roles, k.scope, k.name)),
        thresholds,
        signatures: [],
      };
      return addSignature(doc, root.privateKey) as TrustPolicy;
    },
    async installTrust(keys, thresholds) {
      admin ??= await h.user(`admin-${randomBytes(3).toString('hex')}`, 'administrator', ['*']);
      const p = h.policy(keys, thresholds);
      const r = await h.api(admin, 'PUT', '/api/v1/trust', p);
      if (r.status !== 200) throw new Error(`trust upload failed: ${r.status} ${JSON.stringify(r.body)}`);
      return p;
    },
    async connect(d, topics) {
      const c = mqtt.connect(server.mqttUrl, {
        clientId: d.id,
        username: d.id,
        password: d.password,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      if (topics.length) await c.subscribeAsync(topics, { qos: 1 });
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Waits for the first MQTT message on `topic` matching `pred`. */
export function nextMessage<T = unknown>(
  c: MqttClient,
  topic: string,
  pred: (m: T) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      c.off('message', on);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (tp: string, payload: Buffer) => {
      if (tp !== topic) return;
      const m = JSON.parse(payload.toString()) as T;
      if (!pred(m)) return;
      clearTimeout(t);
      c.off('message', on);
      resolve(m);
    };
    c.on('message', on);
  });
}

/** Polls `fn` until it returns a truthy value (event-driven code with no hook to await). */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  stepMs = 25,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A real audio file: `seconds` of a sine at `freq` Hz, at `volume` (linear), encoded by ffmpeg. */
export async function makeSine(path: string, seconds = 3, freq = 440, volume = 0.1): Promise<void> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:duration=${seconds}:sample_rate=44100`,
    '-af',
    `volume=${volume}`,
    path,
  ]);
}
