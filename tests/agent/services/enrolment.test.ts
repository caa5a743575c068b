import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { keyId, publicKeyFromRaw, rawPublicKey } from '@loa/protocol';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../agent/src/http/password.js';
import { TrustStore } from '../../../agent/src/services/content/trust-store.js';
import { Enrolment, loadOrCreateDeviceKey } from '../../../agent/src/services/fleet/enrolment.js';
import { ensureDir } from '../../../agent/src/services/system/data-dir.js';
import { makeTrust } from './bundle-fixtures.js';
import { cleanupTempDirs, silent, tempDir } from './helpers.js';

const fx = makeTrust();
const clock = { now: () => Date.now() };
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await cleanupTempDirs();
});

/** A small real server implementing the enrolment contract of POST /api/v1/enrol. */
async function enrolServer(opts: { trust?: unknown; failFirst?: number } = {}) {
  const seen: { token: string; publicKey: string; hardware: Record<string, unknown> }[] = [];
  let fails = opts.failFirst ?? 0;
  const app = new Hono();
  app.post('/api/v1/enrol', async (c) => {
    const body = await c.req.json();
    if (fails-- > 0) return c.json({ error: { code: 'UNAVAILABLE', message: 'bận' } }, 503);
    if (body.token !== 'loaenr_0123456789abcdef')
      return c.json({ error: { code: 'ENROL_TOKEN_INVALID', message: 'mã sai' } }, 401);
    seen.push(body);
    const kid = keyId(publicKeyFromRaw(body.publicKey));
    return c.json(
      {
        deviceId: `dev-${kid.slice(0, 8)}`,
        unit: '08/02500',
        status: 'active',
        mqtt: {
          url: 'mqtt://127.0.0.1:1883',
          username: `dev-${kid.slice(0, 8)}`,
          password: 'secret-pw',
          clientId: 'x',
        },
        trust: opts.trust ?? fx.trust,
        endpoints: { api: 'http://x/api/v1', blobs: 'http://x/blobs', mqttWs: 'ws://x/mqtt' },
      },
      201,
    );
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function setup(url: string, provisioning: object | undefined, extra: object = {}) {
  const dir = join(await tempDir(), 'data');
  await ensureDir(dir);
  const provFile = join(dir, '..', 'provisioning.json');
  if (provisioning) await writeFile(provFile, JSON.stringify(provisioning));
  const key = await loadOrCreateDeviceKey(join(dir, 'device-key.pem'), silent);
  const trust = new TrustStore({
    file: join(dir, 'trust.json'),
    pinned: { keys: [fx.root.publicKey] },
    clock,
    logger: silent,
  });
  await trust.start();
  const enrol = new Enrolment({
    credentialsFile: join(dir, 'credentials.json'),
    fleetUrl: url,
    token: undefined,
    provisioningFile: provFile,
    privateKey: key,
    hardware: async () => ({ model: 'Raspberry Pi 4 Model B', agentVersion: '0.1.0' }),
    trust,
    clock,
    logger: silent,
    retryMinMs: 20,
    retryMaxMs: 100,
    ...extra,
  });
  closers.push(() => void enrol.stop());
  return { dir, provFile, key, trust, enrol };
}

describe('Enrolment', () => {
  it('generates a private key, enrols, stores credentials and trust, and forgets the token', async () => {
    const srv = await enrolServer();
    const { dir, provFile, key, trust, enrol } = await setup(srv.url, {
      enrolmentToken: 'loaenr_0123456789abcdef',
      technicianPassword: 'mat-khau-ky-thuat',
    });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'device-key.pem'))).mode & 0o777).toBe(0o600);
    const enrolled = enrol.once('enrolled');
    await enrol.start();
    const creds = await enrolled;
    expect(creds.deviceId).toMatch(/^dev-/);
    expect(srv.seen[0]?.publicKey).toBe(rawPublicKey(key).toString('base64'));
    expect(srv.seen[0]?.hardware.model).toContain('Raspberry');
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect(trust.current()?.version).toBe(1);
    const prov = JSON.parse(await readFile(provFile, 'utf8'));
    expect(prov.enrolmentToken).toBeUndefined();
    expect(prov.technicianPassword).toBeUndefined();
    expect(await verifyPassword('mat-khau-ky-thuat', prov.technicianPasswordHash)).toBe(true);
    expect(await verifyPassword('sai', prov.technicianPasswordHash)).toBe(false);

    // Next start: credentials load from disk, no request.
    const again = new Enrolment({
      ...(enrol as unknown as { o: ConstructorParameters<typeof Enrolment>[0] }).o,
    });
    await again.start();
    expect(again.credentials()?.deviceId).toBe(creds.deviceId);
    expect(srv.seen).toHaveLength(1);
    // The key is kept across restarts.
    const key2 = await loadOrCreateDeviceKey(join(dir, 'device-key.pem'), silent);
    expect(keyId(key2)).toBe(keyId(key));
  });

  it('retries while the server is unavailable, then enrols', async () => {
    const srv = await enrolServer({ failFirst: 2 });
    const { enrol } = await setup(srv.url, { enrolmentToken: 'loaenr_0123456789abcdef' });
    const enrolled = enrol.once('enrolled');
    await enrol.start();
    await enrolled;
    expect(enrol.credentials()?.unit).toBe('08/02500');
  });

  it('stops on a refused token and stores nothing', async () => {
    const srv = await enrolServer();
    const { dir, enrol } = await setup(srv.url, { enrolmentToken: 'loaenr_wrong-token-000' });
    await expect(enrol.enrol()).rejects.toMatchObject({ code: 'ENROL_TOKEN_INVALID' });
    await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
  });

  it('refuses a trust policy not signed by the pinned root', async () => {
    const other = makeTrust();
    const srv = await enrolServer({ trust: other.trust });
    const { dir, trust, enrol } = await setup(srv.url, { enrolmentToken: 'loaenr_0123456789abcdef' });
    await expect(enrol.enrol()).rejects.toMatchObject({ code: 'TRUST_ROOT_MISMATCH' });
    expect(trust.current()).toBeUndefined();
    await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
  });

  it('does nothing without a token (the station still plays what it has)', async () => {
    const { enrol } = await setup('http://127.0.0.1:9', undefined);
    await enrol.start();
    expect(enrol.credentials()).toBeUndefined();
  });
});
