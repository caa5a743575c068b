/**
 * A real fleet server (store on a temp dir, aedes on an ephemeral port, content services,
 * dashboard) and a cookie-keeping browser-like client for the dashboard's forms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSignature, type KeyPair, keyId, type Role, rawPublicKey, type TrustBody } from '@loa/protocol';
import { pino } from 'pino';
import { type FleetServer, startFleetServer } from '../../../fleet-server/src/main.js';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';

export interface Harness {
  server: FleetServer;
  dir: string;
  close(): Promise<void>;
}

export async function startHarness(
  opts: { trustRoots?: string[]; liveIntervalMs?: number } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-ui-'));
  const server = await startFleetServer({
    config: {
      httpPort: 0,
      mqttPort: 0,
      dataDir: dir,
      host: '127.0.0.1',
      trustRoots: opts.trustRoots ?? [],
      loginMaxAttempts: 50,
    },
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    plugins: standardPlugins({ dashboard: { liveIntervalMs: opts.liveIntervalMs ?? 250 } }),
  });
  return {
    server,
    dir,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal browser: keeps cookies, submits forms (urlencoded or multipart), no redirects followed. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const i = (pair ?? '').indexOf('=');
      if (i <= 0) continue;
      const name = (pair as string).slice(0, i).trim();
      const value = (pair as string).slice(i + 1).trim();
      if (value === '' || /max-age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string): Promise<Response> {
    const res = await fetch(new URL(path, this.base), {
      headers: { cookie: this.cookieHeader() },
      redirect: 'manual',
    });
    this.keep(res);
    return res;
  }

  async post(
    path: string,
    fields: Record<string, string | string[] | Blob>,
    multipart = false,
  ): Promise<Response> {
    let body: FormData | URLSearchParams;
    if (multipart) {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields))
        if (Array.isArray(v)) for (const x of v) fd.append(k, x);
        else if (v instanceof Blob) fd.append(k, v, (v as File).name ?? 'file');
        else fd.append(k, v);
      body = fd;
    } else {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(fields))
        if (Array.isArray(v)) for (const x of v) p.append(k, x);
        else if (typeof v === 'string') p.append(k, v);
      body = p;
    }
    const res = await fetch(new URL(path, this.base), {
      method: 'POST',
      body,
      headers: { cookie: this.cookieHeader() },
      redirect: 'manual',
    });
    this.keep(res);
    return res;
  }

  /** The CSRF token embedded in a page (data-csrf on <body>). */
  async csrf(path = '/ui/'): Promise<string> {
    const html = await (await this.get(path)).text();
    const m = /data-csrf="([^"]*)"/.exec(html);
    if (!m?.[1]) throw new Error(`no csrf token on ${path}`);
    return m[1];
  }

  /** JSON API call with the session cookie and CSRF header. */
  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (method !== 'GET') headers['x-csrf-token'] = await this.csrf();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(`/api/v1${path}`, this.base), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    this.keep(res);
    return { status: res.status, data: (await res.json()) as T };
  }
}

/** Logs in through the dashboard form, changing a one-time password when asked. */
export async function loginAs(
  b: Browser,
  username: string,
  password: string,
  newPassword?: string,
): Promise<void> {
  const r = await b.post('/ui/login', { username, password, next: '/ui/' });
  if (r.status !== 303) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
  const home = await b.get('/ui/');
  if (home.status === 303 && home.headers.get('location') === '/ui/password') {
    if (!newPassword) throw new Error('password change required');
    const csrf = /data-csrf="([^"]*)"/.exec(await (await b.get('/ui/password')).text())?.[1] ?? '';
    const c = await b.post('/ui/password', {
      _csrf: csrf,
      currentPassword: password,
      newPassword,
      newPassword2: newPassword,
    });
    if (c.status !== 303) throw new Error(`password change ${username}: ${c.status} ${await c.text()}`);
  }
}

/** A trust policy delegating users' server-held keys, signed by the test's root. */
export function trustPolicy(
  root: KeyPair,
  version: number,
  delegations: { name: string; keyid: string; publicKey: string; roles: Role[]; scope: string[] }[],
  thresholds: TrustBody['thresholds'] = {},
) {
  const now = new Date();
  const body: TrustBody = {
    type: 'loa-trust',
    format: 1,
    version,
    created: new Date(now.getTime() - 60_000).toISOString(),
    expires: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    root: {
      keys: [{ keyid: keyId(root.publicKey), publicKey: rawPublicKey(root.publicKey).toString('base64') }],
      threshold: 1,
    },
    keys: delegations,
    thresholds,
  };
  return addSignature({ ...body, signatures: [] }, root.privateKey);
}
