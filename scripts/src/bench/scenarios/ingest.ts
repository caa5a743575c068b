/**
 * Scenario 2: health ingest. Raw aedes QoS 1 throughput (baseline) beside the real server's
 * maximum sustained health messages/s validated and stored; then 10,000 devices reporting every
 * 30 s, time-compressed, with the server's CPU and RSS.
 */

import { publishQos1 } from '../baselines/qos1.js';
import { startChild } from '../child.js';
import { deadline, figure, type Scenario, Unavailable } from '../harness.js';
import { closeMany, connectMany } from '../mqtt-fleet.js';
import { ProcessSampler } from '../proc-sampler.js';
import { realHealthIngest } from './ingest-real.js';
import { sampleHealth } from './samples.js';

export const ingest: Scenario = {
  name: 'ingest',
  title: 'Health ingest: max msgs/s validated and stored; 10,000 devices every 30 s',
  budgetMs: { quick: 30_000, full: 120_000 },
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
