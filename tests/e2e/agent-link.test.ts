/**
 * The whole agent (main.ts startAgent, simulated hardware and audio) against a real aedes broker,
 * a small real enrolment server (the POST /api/v1/enrol contract) and a real HTTP blob server:
 * enrol → link up → notify → bundle fetched and active → signed commands → proofs acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import {
  addSignature,
  type Command,
  type CommandResult,
  deviceTopic,
  type Health,
  type Presence,
  type Proof,
  publicKeyToPem,
  type Status,
  unitTopic,
} from '@loa/protocol';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { type AgentRuntime, startAgent } from '../../agent/src/main.js';
import { LogRing } from '../../agent/src/services/system/log-ring.js';
import {
  makeBundleDir,
  makeTrust,
  notifyFor,
  type ServerControl,
  startBlobServer,
} from '../agent/services/bundle-fixtures.js';
import { cleanupTempDirs, silent, tempDir } from '../agent/services/helpers.js';
import { type BrokerFixture, observer, startBroker } from '../agent/services/mqtt-fixtures.js';

const fx = makeTrust();
let broker: BrokerFixture;
let blobs: ServerControl;
let enrolUrl: string;
let closeEnrol: () => void;
let rt: AgentRuntime | undefined;
let work: string;

beforeAll(async () => {
  broker = await startBroker();
  blobs = await startBlobServer();
  const app = new Hono();
  app.post('/api/v1/enrol', async (c) => {
    const body = await c.req.json();
    if (body.token !== 'loaenr_e2e-token-0001')
      return c.json({ error: { code: 'ENROL_TOKEN_INVALID' } }, 401);
    return c.json(
      {
        deviceId: 'dev-e2e',
        unit: '08/02500',
        status: 'active',
        mqtt: { url: broker.url, username: 'dev-e2e', password: 'pw', clientId: 'dev-e2e' },
        trust: fx.trust,
        endpoints: { api: 'http://x/api/v1', blobs: `${blobs.url}/blobs` },
      },
      201,
    );
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  enrolUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeEnrol = () => server.close();
  work = await tempDir('loa-e2e-');
});

afterAll(async () => {
  await rt?.stop();
  closeEnrol();
  await blobs.close();
  await broker.close();
  await cleanupTempDirs();
});

function command(action: Command['action'], params: Command['params'] = {}): Command {
  return addSignature(
    {
      type: 'loa-command' as const,
      format: 1 as const,
      id: randomUUID(),
      action,
      issued: new Date(Date.now() - 1000).toISOString(),
      expires: new Date(Date.now() + 120_000).toISOString(),
      target: { device: 'dev-e2e', unit: '08/02500' },
      params,
      signatures: [],
    },
    fx.command.privateKey,
  );
}

describe('agent end to end over MQTT', () => {
  it('enrols, links, installs a notified bundle and runs signed commands with proofs', async () => {
    await writeFile(join(work, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    await writeFile(
      join(work, 'provisioning.json'),
      JSON.stringify({ enrolmentToken: 'loaenr_e2e-token-0001' }),
    );
    const config = parseConfig(
      {
        device: { dataDir: 'data' },
        fleet: { url: enrolUrl, provisioningFile: 'provisioning.json', healthIntervalS: 5 },
        trust: { rootKeys: ['root.pub'] },
        hardware: {
          gpio: { driver: 'sim' },
          amplifier: { pin: 17, warmupMs: 50, idleTailMs: 200 },
          zones: { cho: { pin: 27 } },
          inputs: { mains: { pin: 5 }, door: { pin: 6 } },
          modem: { driver: 'sim', pollIntervalS: 5 },
        },
        audio: { driver: 'sim', output: { type: 'null' } },
        technician: { enabled: false },
      },
      work,
    );
    const obs = await observer(broker.url, ['loa/v1/d/dev-e2e/#']);
    rt = await startAgent(config, { logger: silent, logRing: new LogRing(), env: {} });
    expect(rt.readyMs).toBeGreaterThan(0);

    const online = await obs.waitFor<Presence>(
      (m) => m.topic.endsWith('/presence') && m.json.state === 'online',
    );
    expect(online.json.boot).toBe(1);
    expect(rt.enrolment.credentials()?.deviceId).toBe('dev-e2e');

    // A bundle is announced on the unit topic; the agent fetches, verifies and activates it.
    const m = await makeBundleDir(work, join(work, 'b1'), {
      version: 1,
      signer: fx.content.privateKey,
      files: [{ name: 'tin.wav', data: Buffer.alloc(48_000, 1) }],
    });
    blobs.bundles.set('b1', join(work, 'b1'));
    await obs.client.publishAsync(unitTopic('08', 'notify'), JSON.stringify(notifyFor(blobs, 'b1', m)), {
      qos: 1,
    });
    await obs.waitFor<Status>((x) => x.topic.endsWith('/status') && x.json.state === 'active', 30_000);
    expect(rt.bundles.active().map((b) => b.version)).toEqual([1]);
    const health = await obs.waitFor<Health>(
      (x) => x.topic.endsWith('/health') && x.json.bundles.length === 1,
      30_000,
    );
    expect(health.json.relays.amplifier).toBe(false);
    expect(health.json.inputs.door).toBe('closed');
    expect(health.json.trustVersion).toBe(1);

    // Signed commands run; the test tone leaves signed proofs that the server can acknowledge.
    const send = async (c: Command) => {
      await obs.client.publishAsync(deviceTopic('dev-e2e', 'cmd'), JSON.stringify(c), { qos: 1 });
      return (await obs.waitFor<CommandResult>((x) => x.topic.endsWith('/cmd-result') && x.json.id === c.id))
        .json;
    };
    expect(await send(command('volume', { volume: 55 }))).toMatchObject({ ok: true });
    expect(rt.player.status().volume).toBe(55);
    expect(await send(command('relay-test', { seconds: 1 }))).toMatchObject({ ok: true });
    expect(rt.hardware.amplifier.relays().amplifier).toBe(true);
    await expect.poll(() => rt?.hardware.amplifier.relays().amplifier, { timeout: 10_000 }).toBe(false);
    expect(await send(command('test-tone', { seconds: 1, frequencyHz: 1000 }))).toMatchObject({ ok: true });
    const done = await obs.waitFor<Proof>(
      (x) => x.topic.endsWith('/proof') && x.json.outcome === 'completed' && x.json.itemId === 'test-tone',
      30_000,
    );
    expect(done.json.deviceId).toBe('dev-e2e');
    await obs.client.publishAsync(
      deviceTopic('dev-e2e', 'ack'),
      JSON.stringify({ upToSeq: done.json.seq, serverTime: new Date().toISOString() }),
      { qos: 1 },
    );
    await expect.poll(() => rt?.journal.ackedSeq, { timeout: 10_000 }).toBe(done.json.seq);

    // An unsigned sound-making command is refused and reported.
    const unsigned = { ...command('test-tone', { seconds: 1 }), signatures: [] };
    expect(await send(unsigned)).toMatchObject({ ok: false, code: 'UNSIGNED' });

    // An emergency arrives inline on the unit topic: verified, fetched and played at once.
    const em = await makeBundleDir(work, join(work, 'em1'), {
      version: 1,
      channel: 'emergency',
      id: 'bao-lu-1',
      priority: 'emergency',
      rule: { type: 'immediate' },
      signer: fx.emergency.privateKey,
      files: [{ name: 'bao-lu.wav', data: Buffer.alloc(16_000, 2) }],
    });
    blobs.bundles.set('em1', join(work, 'em1'));
    await obs.client.publishAsync(
      unitTopic('08/02500', 'emergency'),
      JSON.stringify({
        manifest: em,
        blobBase: `${blobs.url}/b/em1/blobs`,
        serverTime: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    const started = await obs.waitFor<Proof>(
      (x) => x.topic.endsWith('/proof') && x.json.bundleId === 'bao-lu-1' && x.json.outcome === 'started',
      30_000,
    );
    expect(started.json.priority).toBe('emergency');
    expect(started.json.relays.amplifier).toBe(true);

    await rt.stop();
    rt = undefined;
    const offline = await obs.waitFor<Presence>(
      (x) => x.topic.endsWith('/presence') && x.json.state === 'offline',
    );
    expect(offline.json.boot).toBe(1);
    await obs.client.endAsync();
  }, 90_000);
});
