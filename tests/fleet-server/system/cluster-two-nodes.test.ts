/**
 * Two fleet-server processes sharing a real PostgreSQL and a real redis-server: node B runs in
 * this process, node A in a child process that the test kills with SIGKILL. Devices (mqtt.js
 * clients with their enrolled credentials) are split across the nodes.
 *   - a command (sync, the one that needs no signature) sent through node A's HTTP API reaches a
 *     device connected to node B;
 *   - after kill -9 of node A, its device reconnects to node B (as the load balancer would send
 *     it) and receives the command the server accepted (202) while it was moving;
 *   - node B sees the moved device online.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTopic } from '@loa/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';
import { parseMasterKey } from '../../../fleet-server/src/services/signer.js';
import { freshDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  closed,
  connectDevice,
  type EnrolledDevice,
  enrolDevice,
  loginAs,
  Session,
  startTestServer,
  type TestServer,
  waitFor,
} from '../app/harness.js';

const here = new URL('.', import.meta.url).pathname;

async function startChildNode(
  config: Record<string, unknown>,
  masterKey: string,
): Promise<{ child: ChildProcess; url: string; mqttUrl: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-node-a-'));
  const child = spawn(
    process.execPath,
    ['--conditions=@loa/source', '--import', 'tsx', join(here, 'cluster-node-child.ts')],
    {
      env: {
        ...process.env,
        LOA_TEST_CONFIG: JSON.stringify({ ...config, dataDir: dir }),
        LOA_KEY_SECRET: masterKey,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('node A did not start')), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`node A exited with ${code}`));
    });
  });
  const info = JSON.parse(line) as { url: string; mqttUrl: string };
  return { child, dir, ...info };
}

function nextMessage(c: MqttClient, topic: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`nothing on ${topic}`)), timeoutMs);
    const on = (tp: string, p: Buffer) => {
      if (tp !== topic) return;
      clearTimeout(t);
      c.off('message', on);
      resolve(JSON.parse(p.toString()) as Record<string, unknown>);
    };
    c.on('message', on);
  });
}

describe('two fleet-server processes sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let b: TestServer;
  let a: Awaited<ReturnType<typeof startChildNode>>;
  const masterKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    db = await freshDatabase();
    redis = await startRedis();
    const config = {
      store: 'postgres' as const,
      databaseUrl: db.url,
      cluster: { kind: 'redis' as const, redisUrl: redis.url },
    };
    b = await startTestServer({
      config,
      plugins: standardPlugins({ content: { masterKey: parseMasterKey(masterKey) } }),
    });
    a = await startChildNode(config, masterKey);
  }, 120_000);

  afterAll(async () => {
    if (a?.child.exitCode === null) a.child.kill('SIGKILL');
    if (a) rmSync(a.dir, { recursive: true, force: true });
    await b?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('a command through node A reaches node B; after kill -9 of A its device moves to B and gets what was sent meanwhile', async () => {
    const adminB = await loginAs(b, 'boss', 'administrator', ['08']);
    // the same user, logged in on node A (users and sessions are in PostgreSQL)
    const adminA = new Session(a.url);
    expect((await adminA.login('boss')).ok).toBe(true);
    const onA: EnrolledDevice = await enrolDevice(b, adminB, '08/02503');
    const onB: EnrolledDevice = await enrolDevice(b, adminB, '08/02503');

    const cA = await connectDevice(a.mqttUrl, onA.deviceId, onA.password, { clean: false });
    await cA.subscribeAsync(deviceTopic(onA.deviceId, 'cmd'), { qos: 1 });
    const cB = await connectDevice(b.mqttUrl, onB.deviceId, onB.password, { clean: false });
    await cB.subscribeAsync(deviceTopic(onB.deviceId, 'cmd'), { qos: 1 });
    await waitFor(() => b.deps.broker.presence(onA.deviceId)?.connected === true);

    // through node A to the device on node B
    const got = nextMessage(cB, deviceTopic(onB.deviceId, 'cmd'));
    const sent = await adminA.json<{ command: { id: string } }>(
      'POST',
      `/api/v1/devices/${onB.deviceId}/commands`,
      { action: 'sync' },
    );
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect((await got).id).toBe(sent.body.command.id);

    // node A dies; its device loses the connection
    const lost = closed(cA);
    a.child.kill('SIGKILL');
    await lost;
    // accepted by node B while the device is between nodes: queued in its session (Redis)
    const meanwhile = await adminB.json<{ command: { id: string } }>(
      'POST',
      `/api/v1/devices/${onA.deviceId}/commands`,
      { action: 'sync' },
    );
    expect(meanwhile.status).toBe(202);
    // the balancer sends the device to node B; same client id, same session
    const moved = mqtt.connect(b.mqttUrl, {
      clientId: onA.deviceId,
      username: onA.deviceId,
      password: onA.password,
      clean: false,
      reconnectPeriod: 0,
    });
    const delivered = nextMessage(moved, deviceTopic(onA.deviceId, 'cmd'));
    expect((await delivered).id).toBe(meanwhile.body.command.id);
    await waitFor(() => b.deps.broker.presence(onA.deviceId)?.connected === true);
    moved.end(true);
    cB.end(true);
    await Promise.all([closed(moved), closed(cB)]);
  }, 120_000);
});
