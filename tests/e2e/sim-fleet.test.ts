/**
 * The simulator end to end: a real fleet server (content plugin) in this process, provisioned
 * through its API; three simulated stations, each the real agent over simulated hardware and
 * audio timing behind a link proxy, enrol with a real token, connect, report health (one with a
 * faulty amplifier), download and verify a signed bundle, play it on schedule and send signed
 * proofs; a power cut makes the broker see the device go offline and come back with a new boot.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentPlugin, type FleetServer, startFleetServer } from '@loa/fleet-server';
import { generateKeyPair, publicKeyToPem, rawPublicKey } from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimFleet } from '../../scripts/src/sim/fleet.js';
import { LINK_PROFILES } from '../../scripts/src/sim/link-proxy.js';
import {
  apiAsUser,
  asBootstrapAdmin,
  buildTrustPolicy,
  createEnrolmentToken,
  createUsers,
} from '../../scripts/src/sim/provision.js';
import { seededRandom } from '../../scripts/src/sim/random.js';
import { SimStation } from '../../scripts/src/sim/station.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-sim-e2e-'));
const root = generateKeyPair();
const rootPem = join(dir, 'root.pub.pem');
let server: FleetServer;
const content = contentPlugin();
let fleet: SimFleet;
let stations: SimStation[];
let token = '';

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  writeFileSync(rootPem, publicKeyToPem(root.publicKey));
  server = await startFleetServer({
    config: {
      dataDir: join(dir, 'server'),
      httpPort: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
    },
    logger: pino({ level: 'silent' }),
    plugins: [content],
  });
  const bootstrap = server.bootstrap;
  if (!bootstrap) throw new Error('fresh server without bootstrap admin');
  await asBootstrapAdmin(server, bootstrap, async (admin) => {
    await admin.post('/units/import', {
      format: 'json',
      data: [
        { code: '08', name: 'Tuyên Quang', level: 'province', demo: true },
        { code: '02500', name: 'Sơn Dương', level: 'commune', parent: '08', demo: true },
      ],
    });
    const users = await createUsers(server, admin, [
      {
        username: 'bientap',
        displayName: 'Biên tập',
        role: 'editor',
        scope: ['08'],
        signingRoles: ['content'],
      },
      {
        username: 'pheduyet',
        displayName: 'Phê duyệt',
        role: 'approver',
        scope: ['08'],
        signingRoles: ['content'],
      },
    ]);
    await admin.put(
      '/trust',
      buildTrustPolicy({
        root,
        version: 1,
        now: new Date(),
        delegations: users.map((u) => ({
          name: u.username,
          keyid: u.signingKey?.keyid ?? '',
          publicKey: u.signingKey?.publicKey ?? '',
          roles: ['content'],
          scope: ['08'],
        })),
        thresholds: { content: 2 },
      }),
    );
    token = await createEnrolmentToken(admin, { unit: '08/02500', kind: 'station', maxUses: 3 });
  });
  const logger = pino({ level: 'silent' });
  stations = [1, 2, 3].map(
    (i) =>
      new SimStation(
        {
          name: `tram-${i}`,
          kind: 'station',
          displayName: `Cụm loa ${i}`,
          server: new URL(server.url),
          mqtt: new URL(server.mqttUrl),
          dataDir: join(dir, 'sim', `tram-${i}`),
          token,
          rootKeys: [rootPem],
          healthIntervalS: 5,
          profile: LINK_PROFILES['4g-good'] ?? {
            name: 'x',
            latencyMs: 20,
            jitterMs: 10,
            loss: 0,
            retransmitMs: 0,
          },
          logLevel: 'silent',
          ampFault: i === 3,
        },
        logger,
      ),
  );
  fleet = new SimFleet(
    stations,
    { powerCutsPerHour: 0, powerCutSeconds: 2, outagesPerHour: 0, outageSeconds: 2, jitterMs: 200 },
    seededRandom(1),
    logger,
  );
  await fleet.start();
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('simulated fleet against a real fleet server', () => {
  it('enrols every device with the token and connects it through its link proxy', async () => {
    await until(() => fleet.summary().connected === 3, 60_000, 'three connected devices');
    const ids = stations.map((s) => s.deviceId);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(server.broker.presence(id as string)?.connected).toBe(true);
    const devices = await server.deps.store.devices.list();
    expect(devices.map((d) => d.unit)).toEqual(['08/02500', '08/02500', '08/02500']);
    for (const s of stations) expect(s.linkStats().mqtt?.bytesUp ?? 0).toBeGreaterThan(0);
  }, 90_000);

  it('reports health, with the faulty amplifier seen by the server', async () => {
    const ingest = content.services.ingest;
    const faulty = stations[2]?.deviceId as string;
    const healthy = stations[0]?.deviceId as string;
    // the fault input is set once the agent has started; the next health report (every 5 s) carries it
    await until(
      () =>
        ingest.liveAll().get(faulty)?.health?.inputs.ampFault === true &&
        ingest.liveAll().get(healthy)?.health !== undefined,
      60_000,
      'health from the devices, with the amplifier fault',
    );
    expect(ingest.liveAll().get(faulty)?.health?.inputs.ampFault).toBe(true);
    expect(ingest.liveAll().get(healthy)?.health?.inputs.ampFault).toBe(false);
  }, 90_000);

  it('downloads, verifies and plays a signed bundle on schedule, with signed proofs the server accepts', async () => {
    const wav = join(dir, 'tone.wav');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=660:duration=2',
      '-ac',
      '1',
      wav,
    ]);
    const editor = await apiAsUser(server, 'bientap');
    const approver = await apiAsUser(server, 'pheduyet');
    const q = new URLSearchParams({ title: 'Thử tiếng', unit: '08', lang: 'vi', name: 'tone.wav' });
    const content = await editor.call<{ id: string }>('post', `/content/upload?${q}`, undefined, {
      raw: readFileSync(wav),
      contentType: 'audio/wav',
    });
    const at = new Date(Date.now() + 15_000).toISOString();
    const b = await editor.post<{ id: string }>('/bundles', {
      channel: 'thu-nghiem',
      targets: [{ unit: '08/02500' }],
      items: [{ content: content.id, id: 'thu-tieng' }],
      schedule: [{ id: 'mot-lan', items: ['thu-tieng'], rule: { type: 'once', at } }],
    });
    await editor.post(`/bundles/${b.id}/submit`, { sign: true });
    await approver.post(`/bundles/${b.id}/approve`, { sign: true });
    await approver.post(`/bundles/${b.id}/publish`);
    for (const s of stations) {
      const id = s.deviceId as string;
      await until(() => (server.deps.store.proofs.last(id)?.seq ?? 0) >= 2, 90_000, `proofs of ${id}`);
      const proofs = await server.deps.store.proofs.query({ deviceId: id });
      const outcomes = proofs.map((p) => p.proof.outcome);
      expect(outcomes).toContain('started');
      expect(outcomes).toContain('completed');
      const started = proofs.find((p) => p.proof.outcome === 'started')?.proof;
      expect(started?.bundleId).toBe(b.id);
      expect(started?.scheduledAt).toBe(at);
      // started on time (the scheduler anticipates the amplifier warm-up), within a loaded machine's slack
      expect(Math.abs(Date.parse(started?.startedAt ?? '') - Date.parse(at))).toBeLessThan(5_000);
    }
  }, 150_000);

  it('a power cut drops the link without a goodbye; the device comes back with a new boot', async () => {
    const st = stations[0] as SimStation;
    const id = st.deviceId as string;
    const bootBefore = server.broker.presence(id)?.presence?.boot ?? 0;
    await st.powerCut(1500);
    await until(
      () => server.broker.presence(id)?.connected === false,
      30_000,
      'the broker to see the device gone',
    );
    await st.start();
    await until(
      () =>
        server.broker.presence(id)?.connected === true &&
        (server.broker.presence(id)?.presence?.boot ?? 0) > bootBefore,
      60_000,
      'the device back online with a new boot',
    );
    expect(server.broker.presence(id)?.presence?.state).toBe('online');
  }, 120_000);
});
