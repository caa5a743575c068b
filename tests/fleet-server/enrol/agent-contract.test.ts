/**
 * The real agent enrolment client (agent/src/services/fleet/enrolment.ts) against the real server: the
 * contract of POST /api/v1/enrol as both sides code it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustStore } from '../../../agent/src/services/content/trust-store.js';
import { Enrolment } from '../../../agent/src/services/fleet/enrolment.js';
import { closed, connectDevice, loginAs, startTestServer, type TestServer } from '../app/harness.js';

describe('agent enrolment client ↔ server', () => {
  let s: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'loa-agent-enrol-'));
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrols with a technician token, keeps the preferred id, and the credentials open MQTT', async () => {
    const tech = await loginAs(s, 'tech', 'technician', ['08/02503']);
    const t = await tech.json<{ token: string }>('POST', '/api/v1/enrol-tokens', { unit: '08/02503' });
    const logger = pino({ level: 'silent' });
    const clock = { now: () => Date.now() };
    const root = generateKeyPair();
    const trust = new TrustStore({
      file: join(dir, 'trust.json'),
      pinned: { keys: [root.publicKey] },
      clock,
      logger,
    });
    await trust.start();
    const enrolment = new Enrolment({
      credentialsFile: join(dir, 'credentials.json'),
      fleetUrl: s.url,
      token: t.body.token,
      provisioningFile: undefined,
      privateKey: generateKeyPair().privateKey,
      hardware: async () => ({ model: 'Raspberry Pi 4 Model B', arch: 'arm64', agentVersion: '0.1.0' }),
      trust,
      clock,
      logger,
      preferredDeviceId: 'st-sondương-01'.normalize('NFD').replace(/[^\x20-\x7e]/g, ''),
      name: 'Cụm loa chợ',
      retryMinMs: 50,
      retryMaxMs: 200,
    });
    const enrolled = enrolment.once('enrolled');
    await enrolment.start();
    await enrolled;
    const creds = enrolment.credentials();
    expect(creds).toMatchObject({
      deviceId: 'st-sonduong-01',
      unit: '08/02503',
      mqtt: { username: 'st-sonduong-01' },
    });
    const rec = await s.deps.store.devices.get('st-sonduong-01');
    expect(rec).toMatchObject({ name: 'Cụm loa chợ', hardware: { model: 'Raspberry Pi 4 Model B' } });
    expect(readFileSync(join(dir, 'credentials.json'), 'utf8')).toContain('st-sonduong-01');
    const c = await connectDevice(
      creds?.mqtt.url as string,
      creds?.deviceId as string,
      creds?.mqtt.password as string,
    );
    c.end(true);
    await closed(c);
    await enrolment.stop?.();
  });
});
