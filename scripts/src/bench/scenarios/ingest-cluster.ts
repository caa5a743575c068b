/**
 * Health ingest CPU per message: one node against two nodes of a cluster on the same machine.
 * The cluster is two fleet-server processes sharing a throwaway PostgreSQL (fsync on) and a
 * redis-server (MQTT state, presence, shared newest health); the baseline is the embedded single
 * node (lowdb + NDJSON, no Redis) in the same run. Every device publishes real health reports at
 * QoS 1; what counts is what the stores appended. CPU is read from /proc for every process that
 * serves the fleet (the nodes, redis-server, PostgreSQL's postmaster and backends).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceTopic } from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { startTempPostgres } from '../../postgres/temp-cluster.js';
import { publishQos1 } from '../baselines/qos1.js';
import { type BenchChild, startChild } from '../child.js';
import { type BenchDevice, connectDevices, enrolMany } from '../devices.js';
import { type BenchContext, figure, type Scenario, Unavailable } from '../harness.js';
import { closeMany } from '../mqtt-fleet.js';
import { readProcessTree } from '../proc-sampler.js';
import { startBenchRedis } from '../redis.js';
import { round } from '../stats.js';
import { sampleHealth } from './samples.js';

interface Stats {
  store: { healthAppended: number };
}

const pool = Array.from({ length: 256 }, (_, i) => JSON.stringify(sampleHealth(i, new Date())));

/** CPU ms of the given processes (each with its descendants) right now. */
function cpuMs(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    try {
      t += readProcessTree(p).cpuMs;
    } catch {
      // gone
    }
  }
  return t;
}

async function stored(nodes: BenchChild[]): Promise<number> {
  let n = 0;
  for (const c of nodes) n += (await c.query<Stats>('stats')).store.healthAppended;
  return n;
}

/**
 * `total` health reports from `clients` (each device on the node it is connected to); returns
 * the CPU ms per stored message of all `pids`, and of each node.
 */
async function flood(
  ctx: BenchContext,
  nodes: BenchChild[],
  pids: number[],
  devices: BenchDevice[],
  clients: MqttClient[],
  total: number,
): Promise<{ usPerMsg: number; perNodeUs: number[]; stored: number; seconds: number }> {
  const before = await stored(nodes);
  const cpu0 = cpuMs(pids);
  const node0 = nodes.map((n) => cpuMs([n.pid]));
  const t0 = performance.now();
  const sent = await publishQos1({
    clients,
    total,
    window: 8,
    topic: (c) => deviceTopic(devices[c]?.deviceId ?? '', 'health'),
    payload: (i) => pool[i % pool.length] as string,
  });
  let got = 0;
  const end = performance.now() + 120_000;
  while (performance.now() < end) {
    got = (await stored(nodes)) - before;
    if (got >= sent.messages) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  const used = cpuMs(pids) - cpu0;
  ctx.log(`  ${got}/${sent.messages} stored in ${round(seconds)} s`);
  return {
    usPerMsg: (used * 1000) / Math.max(1, got),
    perNodeUs: nodes.map((n, i) => ((cpuMs([n.pid]) - (node0[i] ?? 0)) * 1000) / Math.max(1, got)),
    stored: got,
    seconds,
  };
}

export const ingestCluster: Scenario = {
  name: 'ingest-cluster',
  title: 'Health ingest CPU per message: two clustered nodes vs one node, same machine',
  budgetMs: { quick: 120_000, full: 400_000 },
  async run(ctx) {
    const devicesN = ctx.quick ? 100 : 1000;
    const total = ctx.quick ? 10_000 : 50_000;
    const common = { devices: devicesN, ratePerSecond: 100_000, burst: 100_000, healthHistoryEveryS: 0 };
    const notes = [
      `${devicesN} devices enrolled, each with its own MQTT connection; ${total} QoS 1 health reports (window 8 per device) per run; ` +
        'health history thinning off (every report written).',
    ];
    // --- baseline: the embedded single node
    const embedded = await startChild(
      { kind: 'fleet', options: { ...common, dataDir: join(ctx.tmpDir, 'embedded') } },
      180_000,
    );
    let base: Awaited<ReturnType<typeof flood>>;
    try {
      const info = embedded.ready.info as { url: string; tokens: string[] };
      const devs = await enrolMany(info.url, info.tokens, devicesN, 16);
      const clients = await connectDevices(devs);
      try {
        ctx.log('embedded single node');
        base = await flood(ctx, [embedded], [embedded.pid], devs, clients, total);
      } finally {
        await closeMany(clients);
      }
    } finally {
      await embedded.stop();
    }
    notes.push(
      `embedded node (lowdb + NDJSON): ${round(base.usPerMsg)} µs of CPU per stored report (${base.stored} in ${round(base.seconds)} s).`,
    );
    // --- the cluster: PostgreSQL + Redis + two nodes
    let pg: Awaited<ReturnType<typeof startTempPostgres>>;
    let redis: Awaited<ReturnType<typeof startBenchRedis>>;
    try {
      pg = await startTempPostgres();
    } catch (e) {
      throw new Unavailable(`PostgreSQL: ${(e as Error).message}`, { figures: [], notes });
    }
    try {
      redis = await startBenchRedis();
    } catch (e) {
      await pg.stop();
      throw new Unavailable((e as Error).message, { figures: [], notes });
    }
    const pgPid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const cluster = {
      databaseUrl: pg.url,
      redisUrl: redis.url,
      masterKeyHex: randomBytes(32).toString('hex'),
    };
    const started: BenchChild[] = [];
    try {
      const a = await startChild(
        { kind: 'fleet', options: { ...common, ...cluster, dataDir: join(ctx.tmpDir, 'node-a') } },
        180_000,
      );
      started.push(a);
      const b = await startChild(
        {
          kind: 'fleet',
          options: { ...common, ...cluster, join: true, dataDir: join(ctx.tmpDir, 'node-b') },
        },
        180_000,
      );
      started.push(b);
      const info = a.ready.info as { url: string; tokens: string[] };
      const devs = await enrolMany(info.url, info.tokens, devicesN, 16);
      const shared = [a.pid, b.pid, redis.pid, pgPid];
      // one node: every device on node A (node B idle in the cluster)
      let one: Awaited<ReturnType<typeof flood>>;
      {
        const clients = await connectDevices(devs);
        try {
          ctx.log('cluster, every device on node A');
          one = await flood(ctx, [a, b], shared, devs, clients, total);
        } finally {
          await closeMany(clients);
        }
      }
      // two nodes: half the devices on each (as a TCP load balancer would spread them)
      const mqttB = `mqtt://127.0.0.1:${b.ready.mqttPort}`;
      const split = devs.map((d, i) => (i % 2 === 1 ? { ...d, mqtt: { ...d.mqtt, url: mqttB } } : d));
      let two: Awaited<ReturnType<typeof flood>>;
      {
        const clients = await connectDevices(split);
        try {
          ctx.log('cluster, devices split across nodes A and B');
          two = await flood(ctx, [a, b], shared, split, clients, total);
        } finally {
          await closeMany(clients);
        }
      }
      notes.push(
        `cluster (2 nodes + PostgreSQL + Redis), every device on node A: ${round(one.usPerMsg)} µs of CPU per stored report in all ` +
          `(node A ${round(one.perNodeUs[0] ?? 0)}, node B ${round(one.perNodeUs[1] ?? 0)}; the rest Redis and PostgreSQL).`,
        `cluster, devices split across the nodes: ${round(two.usPerMsg)} µs in all (node A ${round(two.perNodeUs[0] ?? 0)}, ` +
          `node B ${round(two.perNodeUs[1] ?? 0)}).`,
      );
      return {
        notes,
        figures: [
          figure(
            'ingest.cluster.two',
            'ingest CPU per health report, two clustered nodes (all processes)',
            two.usPerMsg,
            'µs',
            {
              baseline: { label: 'one clustered node', value: one.usPerMsg, unit: 'µs' },
            },
          ),
          figure(
            'ingest.cluster.one',
            'ingest CPU per health report, one clustered node (all processes)',
            one.usPerMsg,
            'µs',
            {
              baseline: { label: 'embedded single node', value: base.usPerMsg, unit: 'µs' },
            },
          ),
          figure(
            'ingest.cluster.per-node',
            'ingest CPU per health report on each of two nodes (its own process)',
            ((two.perNodeUs[0] ?? 0) + (two.perNodeUs[1] ?? 0)) / 2,
            'µs',
            { baseline: { label: 'embedded single node', value: base.usPerMsg, unit: 'µs' } },
          ),
          figure(
            'ingest.cluster.embedded',
            'ingest CPU per health report, embedded single node',
            base.usPerMsg,
            'µs',
          ),
        ],
        details: { base, one, two },
      };
    } finally {
      for (const c of started.reverse()) await c.stop();
      await redis.stop();
      await pg.stop();
    }
  },
};
