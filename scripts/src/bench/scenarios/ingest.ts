/**
 * Scenario 2: health ingest. Raw aedes QoS 1 throughput (baseline) beside the real server's
 * maximum sustained health messages/s validated and stored; then 10,000 devices reporting every
 * 30 s, time-compressed, with the server's CPU and RSS.
 */

import { applyHealth, checkUpPayload, emptyLiveState } from '@loa/fleet-server';
import { type Health, HealthSchema, isHealth } from '@loa/protocol';
import { publishQos1 } from '../baselines/qos1.js';
import { startChild } from '../child.js';
import { deadline, figure, type Scenario, Unavailable } from '../harness.js';
import { closeMany, connectMany } from '../mqtt-fleet.js';
import { ProcessSampler } from '../proc-sampler.js';
import { round } from '../stats.js';
import { realHealthIngest } from './ingest-real.js';
import { sampleHealth } from './samples.js';

/**
 * Where one health report's CPU goes on the server's own steps (this process, pure functions),
 * beside the broker's whole cost per message in the raw aedes run: the steps the baseline does
 * not have at all (parse, validate, store) already cost about as much as the broker's part.
 */
function healthCostProfile(rawBrokerUsPerMsg: number): string {
  const pool = Array.from({ length: 256 }, (_, i) =>
    Buffer.from(JSON.stringify(sampleHealth(i, new Date()))),
  );
  const parsed = pool.map((b) => checkUpPayload('health', b));
  let live = emptyLiveState('bench-0001', '08', Date.now());
  const n = 20_000;
  const t = (fn: (i: number) => void) => {
    for (let i = 0; i < 2000; i++) fn(i); // warm-up
    const s = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return ((performance.now() - s) * 1000) / n;
  };
  const validate = t((i) => checkUpPayload('health', pool[i % 256] as Buffer));
  // the schema step alone, on parsed reports: zod's walk beside the hand-written check the server uses
  const objects = pool.map((b) => JSON.parse(b.toString()) as unknown);
  const zodUs = t((i) => HealthSchema.safeParse(objects[i % 256]));
  const handUs = t((i) => isHealth(objects[i % 256]));
  const health = (i: number) => {
    const c = parsed[i % 256];
    if (!c?.ok) throw new Error('sample health report does not validate');
    return c.value as Health;
  };
  const apply = t((i) => {
    live = applyHealth(live, health(i), Date.now());
  });
  const store = t((i) =>
    JSON.stringify({ deviceId: 'bench-0001', receivedAt: new Date().toISOString(), health: health(i) }),
  );
  return (
    `CPU per health report on the server's pure steps (µs, this process): JSON parse + schema ${round(validate)} ` +
    `(the schema alone: zod ${round(zodUs)}, the hand-written check the server uses ${round(handUs)}), ` +
    `live-state update ${round(apply)}, serialise for storage ${round(store)}; the raw broker spent ${round(rawBrokerUsPerMsg)} µs ` +
    `of CPU per message in all (parse, route, PUBACK). The rest of the server's cost is the broker part, the ` +
    `per-message promise chain (device lookup, alert rules, live-state listeners) and the batched writes.`
  );
}

export const ingest: Scenario = {
  name: 'ingest',
  title: 'Health ingest: max msgs/s validated and stored; 10,000 devices every 30 s',
  budgetMs: { quick: 30_000, full: 300_000 },
  async run(ctx) {
    const publishers = 50;
    const total = ctx.quick ? 10_000 : 100_000;
    const payload = JSON.stringify(sampleHealth(1, new Date()));
    const notes = [
      `${publishers} publishers, window 8 in flight each, ${total} QoS 1 messages of ${Buffer.byteLength(payload)} B (a real health report).`,
    ];
    const child = await startChild({ kind: 'aedes' });
    const sampler = new ProcessSampler(child.pid);
    let base: Awaited<ReturnType<typeof publishQos1>>;
    let brokerCpuS = 0;
    try {
      const clients = await connectMany({
        url: `mqtt://127.0.0.1:${child.ready.mqttPort}`,
        count: publishers,
      });
      try {
        sampler.start();
        base = await publishQos1({
          clients,
          total,
          window: 8,
          topic: (c) => `loa/v1/d/bench-${c}/health`,
          payload: () => payload,
          stop: deadline(ctx, 0.3),
        });
      } finally {
        await closeMany(clients);
      }
    } finally {
      const prof = sampler.stop();
      brokerCpuS = prof.cpuMs / 1000;
      notes.push(
        `raw aedes broker: ${Math.round(prof.cpuPercent)} % CPU, RSS peak ${Math.round(prof.rssPeakMb)} MB.`,
      );
      await child.stop();
    }
    const baseFig = figure('ingest.raw', 'raw aedes QoS 1 throughput', base.perSecond, 'msg/s');
    try {
      const real = await realHealthIngest(ctx, {
        publishers,
        total,
        payloadBytes: Buffer.byteLength(payload),
      });
      notes.push(...real.notes);
      notes.push(healthCostProfile((brokerCpuS * 1e6) / Math.max(1, base.messages)));
      return {
        notes,
        figures: [
          figure('ingest.max', 'health ingest, validated + stored', real.perSecond, 'msg/s', {
            baseline: { label: 'raw aedes QoS 1', value: base.perSecond, unit: 'msg/s' },
            goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw aedes' },
          }),
          figure(
            'ingest.max.cpu',
            'health ingest per server CPU-second (load-independent view)',
            real.perCpuSecond,
            'msg/CPU-s',
            {
              baseline: {
                label: 'raw aedes QoS 1 per broker CPU-second',
                value: base.messages / Math.max(brokerCpuS, 1e-6),
                unit: 'msg/CPU-s',
              },
              goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw aedes' },
            },
          ),
          baseFig,
          ...real.figures,
        ],
        details: { baseline: base, real: real.details },
      };
    } catch (e) {
      if (e instanceof Unavailable) throw new Unavailable(e.message, { figures: [baseFig], notes });
      throw e;
    }
  },
};
