/**
 * Test harness for the fleet server core: a real server (hono on a real socket + aedes on
 * 127.0.0.1 ephemeral ports) in a temp data dir, users created through the store, JSON helpers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, rawPublicKey } from '@loa/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { ServerConfigInput } from '../../../fleet-server/src/config.js';
import type { UserRole } from '../../../fleet-server/src/domain/model.js';
import { type FleetServer, startFleetServer } from '../../../fleet-server/src/main.js';
import { hashSecret } from '../../../fleet-server/src/security/secrets.js';
import { DEMO_UNITS_FILE, seedUnitsFromFile } from '../../../fleet-server/src/seed.js';
import type { ServerPlugin } from '../../../fleet-server/src/server-plugin.js';

export class FakeClock {
  constructor(public t = Date.parse('2026-11-26T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestServer extends FleetServer {
  dir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    config?: ServerConfigInput;
    clock?: { now(): number };
    dir?: string;
    seed?: boolean;
    plugins?: ServerPlugin[];
  } = {},
): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'loa-h5-'));
  const s = await startFleetServer({
    config: {
      httpPort: 0,
      mqttPort: 0,
      dataDir: dir,
      registryFlushMs: 20,
      healthFsyncMs: 50,
      ...opts.config,
    },
    logger: pino({ level: 'silent' }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.plugins ? { plugins: opts.plugins } : {}),
  });
  if (opts.seed !== false)
    await seedUnitsFromFile(s.deps.store, DEMO_UNITS_FILE, new Date(s.deps.clock.now()).toISOString());
  return Object.assign(s, {
    dir,
    async close() {
      await s.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export const PASSWORD = 'correct-horse-battery';

/** Creates a user directly in the store (password PASSWORD, no forced change). */
export async function createUser(
  s: FleetServer,
  username: string,
  role: UserRole,
  scope: string[],
): Promise<string> {
  const now = new Date(s.deps.clock.now()).toISOString();
  const id = randomUUID();
  await s.deps.store.users.insert({
    id,
    username,
    displayName: username,
    role,
    scope,
    passwordHash: await hashSecret(PASSWORD, { N: 1024, r: 8, p: 1 }),
    mustChangePassword: false,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/** A logged-in browser-like session: cookie + CSRF header on every call, over the real socket. */
export class Session {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async login(username: string, password = PASSWORD): Promise<Response> {
    const r = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (r.ok) {
      this.cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
      this.csrf = ((await r.clone().json()) as { csrf: string }).csrf;
    }
    return r;
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...extra,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  }

  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const r = await this.request(method, path, body);
    return { status: r.status, body: (await r.json()) as T };
  }
}

export async function loginAs(
  s: FleetServer,
  username: string,
  role: UserRole,
  scope: string[],
): Promise<Session> {
  await createUser(s, username, role, scope);
  const sess = new Session(s.url);
  const r = await sess.login(username);
  if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return sess;
}

export interface EnrolledDevice {
  deviceId: string;
  unit: string;
  password: string;
  publicKey: string;
  response: Record<string, unknown>;
}

/** Creates an enrolment token as `admin` and enrols a fresh key with it. */
export async function enrolDevice(
  s: FleetServer,
  admin: Session,
  unit: string,
  opts: { requireApproval?: boolean; deviceId?: string } = {},
): Promise<EnrolledDevice> {
  const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', {
    unit,
    ...(opts.requireApproval ? { requireApproval: true } : {}),
  });
  if (t.status !== 201) throw new Error(`token: ${t.status} ${JSON.stringify(t.body)}`);
  const publicKey = rawPublicKey(generateKeyPair().publicKey).toString('base64');
  const r = await fetch(`${s.url}/api/v1/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: t.body.token,
      publicKey,
      hardware: { model: 'rpi4', serial: randomUUID() },
      ...(opts.deviceId ? { deviceId: opts.deviceId } : {}),
    }),
  });
  const body = (await r.json()) as { deviceId: string; unit: string; mqtt: { password: string } };
  if (r.status !== 201) throw new Error(`enrol: ${r.status} ${JSON.stringify(body)}`);
  return {
    deviceId: body.deviceId,
    unit: body.unit,
    password: body.mqtt.password,
    publicKey,
    response: body,
  };
}

/** Connects a real mqtt.js client; resolves on CONNACK, rejects on refusal. */
export function connectDevice(
  url: string,
  deviceId: string,
  password: string,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: deviceId,
      username: deviceId,
      password,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...extra,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Waits for `predicate` to become true (polling an in-memory condition, not a fixed sleep). */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!c.connected) return resolve();
    c.once('close', () => resolve());
  });
}
