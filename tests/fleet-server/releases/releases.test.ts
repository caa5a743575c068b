/**
 * Agent releases on a real server (hono + aedes on 127.0.0.1): a key the server holds may not
 * get the release role; only a release signed under that role is accepted; the staged rollout
 * (canary → unit → all) sends the release over MQTT to the chosen stations only, waits for them
 * to report ready, and halts on a failure; the fleet's versions come from health. One station is
 * a real SelfUpdate that downloads the artifact from the server (HTTP Basic), switches, starts
 * the new version through the release supervisor and confirms over MQTT.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  deviceTopic,
  generateKeyPair,
  type Health,
  type ReleaseNotify,
  rawPublicKey,
  type Status,
} from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseDir } from '../../../agent/src/services/system/release-dir.js';
import { SelfUpdate } from '../../../agent/src/services/system/self-update.js';
import { releasesPlugin } from '../../../fleet-server/src/plugins/releases.js';
import { cleanupTempDirs, silent, tempDir } from '../../agent/services/helpers.js';
import {
  buildRelease,
  makeReleaseTree,
  startStation,
  supervise,
} from '../../agent/services/release-fixtures.js';
import {
  eventually,
  type Harness,
  nextMessage,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

const pub = (k: { publicKey: Parameters<typeof rawPublicKey>[0] }) =>
  rawPublicKey(k.publicKey).toString('base64');

function health(agentVersion: string): Health {
  return {
    at: new Date().toISOString(),
    seq: 1,
    agentVersion,
    uptimeS: 10,
    inputs: { mains: true, door: 'closed', ampFault: false },
    relays: { amplifier: false },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
  };
}

describe('agent releases: upload, staged rollout, halt, fleet versions', () => {
  let h: Harness;
  let admin: TestUser;
  const release = generateKeyPair();
  const content = generateKeyPair();
  const devices: TestDevice[] = [];
  const clients = new Map<string, MqttClient>();
  let work = '';
  let built: Awaited<ReturnType<typeof buildRelease>>;

  beforeAll(async () => {
    h = await startHarness({ plugins: (c) => [releasesPlugin({ content: c })] });
    admin = await h.user('admin', 'administrator', ['08']);
    await h.installTrust([
      { pub: pub(release), roles: ['release'], scope: ['08'] },
      { pub: pub(content), roles: ['content'], scope: ['08'] },
    ]);
    for (const [id, unit] of [
      ['a1', '08/02500'],
      ['a2', '08/02500'],
      ['a3', '08/02500'],
      ['b1', '08/02600'],
    ] as const) {
      const d = await h.device(id, unit);
      devices.push(d);
      const c = await h.connect(d, [deviceTopic(id, 'release')]);
      clients.set(id, c);
      await c.publishAsync(deviceTopic(id, 'health'), JSON.stringify(health('0.1.0')), { qos: 1 });
    }
    work = await tempDir('loa-srv-release-');
    const tree = join(work, 'tree');
    await makeReleaseTree(tree, '0.2.0', 'good', 5);
    built = await buildRelease(work, tree, { version: 2, agentVersion: '0.2.0', signer: release.privateKey });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    await cleanupTempDirs();
  });

  it('refuses a trust policy that gives the release role to a key the server holds', async () => {
    const key = await h.api<{ keyid: string; publicKey: string }>(admin, 'POST', '/api/v1/signing-keys/me');
    expect(key.status).toBe(201);
    const policy = h.policy([
      { pub: pub(release), roles: ['release'], scope: ['08'] },
      { pub: key.body.publicKey, roles: ['content', 'release'], scope: ['08'] },
    ]);
    const r = await h.api<{ error: { code: string } }>(admin, 'PUT', '/api/v1/trust', policy);
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('RELEASE_KEY_ON_SERVER');
  });

  it('takes a release signed under the release role only, with its uploaded artifact', async () => {
    const bytes = await readFile(built.artifact);
    const missing = await h.api<{ error: { code: string } }>(
      admin,
      'POST',
      '/api/v1/releases',
      built.release,
    );
    expect(missing.body.error.code).toBe('BLOB_MISSING');
    const up = await h.api<{ sha256: string }>(
      admin,
      'POST',
      '/api/v1/releases/artifact',
      new Uint8Array(bytes),
    );
    expect(up.status).toBe(201);
    expect(up.body.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const { signatures: _s, ...body } = built.release;
    const { addSignature } = await import('@loa/protocol');
    const forged = addSignature({ ...body, signatures: [] }, content.privateKey);
    const refused = await h.api<{ error: { code: string } }>(admin, 'POST', '/api/v1/releases', forged);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('ROLE_NOT_AUTHORISED');
    const ok = await h.api(admin, 'POST', '/api/v1/releases', built.release);
    expect(ok.status).toBe(201);
    const list = await h.api<{ release: { id: string } }[]>(admin, 'GET', '/api/v1/releases');
    expect(list.body.map((r) => r.release.id)).toEqual(['agent-0.2.0']);
  });

  it('stages canary → unit → all, a real station updates itself, and a failure halts the rollout', async () => {
    const id = built.release.id;
    const early = await h.api<{ error: { code: string } }>(admin, 'POST', `/api/v1/releases/${id}/stages`, {
      stage: 'unit',
      unit: '08/02500',
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('ROLLOUT_STAGE_ORDER');

    const a1 = clients.get('a1') as MqttClient;
    const got = nextMessage<ReleaseNotify>(a1, deviceTopic('a1', 'release'));
    const canary = await h.api<{ devices: string[] }>(admin, 'POST', `/api/v1/releases/${id}/stages`, {
      stage: 'canary',
      devices: ['a1'],
    });
    expect(canary.status).toBe(201);
    expect(canary.body.devices).toEqual(['a1']);
    const notify = await got;

    // a station that was not sent the release cannot download it
    const other = devices.find((d) => d.id === 'a2') as TestDevice;
    expect((await fetch(notify.artifactUrl, { headers: { authorization: other.basic } })).status).toBe(404);

    // station a1: the agent's own self-update against this server
    const me = devices.find((d) => d.id === 'a1') as TestDevice;
    const factory = join(work, 'factory');
    await makeReleaseTree(factory, '0.1.0');
    const releases = join(work, 'a1-releases');
    await supervise(releases, factory, 'boot');
    const report = async (s: Status) => {
      await a1.publishAsync(deviceTopic('a1', 'status'), JSON.stringify(s), { qos: 1 });
      return true;
    };
    const make = async (restart: () => void) => {
      const u = new SelfUpdate({
        releases: new ReleaseDir(releases, factory),
        trust: () => h.svc.trust.current(),
        device: () => ({ unit: me.unit, deviceId: me.id }),
        clock: { now: () => Date.now() },
        logger: silent,
        headers: () => ({ authorization: me.basic }),
        report,
        restart,
        confirmEveryMs: 3_600_000,
      });
      u.on('status', (s) => void report(s));
      await u.start();
      return u;
    };
    let restarted = false;
    const before = await make(() => {
      restarted = true;
    });
    expect(await before.handle(notify)).toBe(true);
    before.stop();
    expect(restarted).toBe(true);
    await supervise(releases, factory, 'boot');
    expect(JSON.parse((await startStation(releases)).stdout).version).toBe('0.2.0');
    const after = await make(() => undefined);
    await after.check();
    after.stop();
    await a1.publishAsync(deviceTopic('a1', 'health'), JSON.stringify(health('0.2.0')), { qos: 1 });
    const row = await eventually(async () => {
      const r = await h.api<{ devices: { deviceId: string; state: string }[] }>(
        admin,
        'GET',
        `/api/v1/releases/${id}/rollout`,
      );
      return r.body.devices.find((d) => d.deviceId === 'a1' && d.state === 'playing');
    });
    expect(row.state).toBe('playing');

    // the unit stage reaches a2 and a3, not b1 (other unit)
    const a3got = nextMessage<ReleaseNotify>(clients.get('a3') as MqttClient, deviceTopic('a3', 'release'));
    const unit = await h.api<{ devices: string[] }>(admin, 'POST', `/api/v1/releases/${id}/stages`, {
      stage: 'unit',
      unit: '08/02500',
    });
    expect(unit.status).toBe(201);
    expect(unit.body.devices).toEqual(['a1', 'a2', 'a3']);
    expect((await a3got).release.id).toBe(id);

    // a3 rolls back: the rollout halts and "all" is refused
    await (clients.get('a3') as MqttClient).publishAsync(
      deviceTopic('a3', 'status'),
      JSON.stringify({
        bundleId: id,
        channel: 'agent',
        version: 2,
        state: 'failed',
        reason: 'UPDATE_ROLLED_BACK',
        message: 'READY_DEADLINE: 0.2.0 → 0.1.0',
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    const halted = await eventually(async () => {
      const r = await h.api<{ release: { halted?: { reason: string } } }>(
        admin,
        'GET',
        `/api/v1/releases/${id}/rollout`,
      );
      return r.body.release.halted;
    });
    expect(halted.reason).toBe('UPDATE_ROLLED_BACK');
    const all = await h.api<{ error: { code: string } }>(admin, 'POST', `/api/v1/releases/${id}/stages`, {
      stage: 'all',
    });
    expect(all.status).toBe(409);
    expect(all.body.error.code).toBe('ROLLOUT_HALTED');

    const versions = await h.api<{ versions: { agentVersion: string; devices: number }[] }>(
      admin,
      'GET',
      '/api/v1/fleet/versions',
    );
    expect(versions.body.versions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agentVersion: '0.1.0', devices: 3 }),
        expect.objectContaining({ agentVersion: '0.2.0', devices: 1 }),
      ]),
    );
  }, 60_000);
});
