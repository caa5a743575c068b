/**
 * Proof ingest through the real server: enrolled devices publish chains of proofs signed with
 * their own keys (QoS 1); the server checks signature and chain, stores durably (fsync) and acks.
 * Throughput counts proofs acknowledged (the ack is sent only once stored). `batched`: the
 * messages the agent sends with a backlog (packProofMessages: many proofs per message, each
 * signed and chained on its own); otherwise one proof per message (older agents).
 */
import { join } from 'node:path';
import { AckSchema, deviceTopic, type Proof, packProofMessages } from '@loa/protocol';
import { startChild } from '../child.js';
import { connectDevices, enrolMany } from '../devices.js';
import type { BenchContext } from '../harness.js';
import { closeMany } from '../mqtt-fleet.js';
import { ProcessSampler } from '../proc-sampler.js';
import { round } from '../stats.js';
import { proofChain } from './samples.js';

export async function realProofIngest(
  ctx: BenchContext,
  opts: { devices: number; perDevice: number; batched: boolean },
): Promise<{ perSecond: number; perCpuSecond: number; notes: string[]; details: Record<string, unknown> }> {
  const child = await startChild(
    {
      kind: 'fleet',
      options: {
        // a fresh server per run (the two runs of the scenario share its temp directory)
        dataDir: join(ctx.tmpDir, opts.batched ? 'batched' : 'single'),
        devices: opts.devices,
        ratePerSecond: 100_000,
        burst: 100_000,
      },
    },
    120_000,
  );
  try {
    const info = child.ready.info as { url: string; tokens: string[] };
    const devices = await enrolMany(info.url, info.tokens, opts.devices);
    ctx.log(
      `signing ${opts.devices * opts.perDevice} proofs (${opts.devices} chains) before the clock starts`,
    );
    const chains: Proof[][] = devices.map((d) => proofChain(d.deviceId, d.key, opts.perDevice, new Date()));
    const payloads = chains.map((c) =>
      opts.batched ? packProofMessages(c).map((m) => m.payload) : c.map((p) => JSON.stringify(p)),
    );
    const messages = payloads.reduce((n, p) => n + p.length, 0);
    const clients = await connectDevices(devices);
    const acked = new Array<number>(devices.length).fill(0);
    await Promise.all(
      clients.map((c, i) => c.subscribeAsync(deviceTopic(devices[i]?.deviceId ?? '', 'ack'), { qos: 1 })),
    );
    for (const [i, c] of clients.entries())
      c.on('message', (_t, payload) => {
        const a = AckSchema.safeParse(JSON.parse(payload.toString()));
        if (a.success) acked[i] = Math.max(acked[i] ?? 0, a.data.upToSeq);
      });
    const total = opts.devices * opts.perDevice;
    const sampler = new ProcessSampler(child.pid);
    const self = new ProcessSampler('self');
    sampler.start();
    self.start();
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        const topic = deviceTopic(devices[i]?.deviceId ?? '', 'proof');
        // in order on the wire, up to 8 un-acknowledged at a time (like the agent's batches)
        const inflight = new Set<Promise<unknown>>();
        for (const p of payloads[i] ?? []) {
          const sent: Promise<unknown> = c
            .publishAsync(topic, p, { qos: 1 })
            .finally(() => inflight.delete(sent));
          inflight.add(sent);
          if (inflight.size >= 8) await Promise.race(inflight);
        }
        await Promise.all(inflight);
      }),
    );
    const until = performance.now() + Math.max(30_000, ctx.budgetMs);
    while (performance.now() < until && acked.some((a) => a < opts.perDevice))
      await new Promise((r) => setTimeout(r, 10));
    const seconds = (performance.now() - t0) / 1000;
    const prof = sampler.stop();
    const gen = self.stop();
    await closeMany(clients);
    const done = acked.reduce((s, a) => s + a, 0);
    return {
      perSecond: done / seconds,
      perCpuSecond: done / Math.max(prof.cpuMs / 1000, 1e-6),
      notes: [
        `${opts.batched ? 'batched' : 'one proof per message'}: ${opts.devices} enrolled devices × ${opts.perDevice} chained proofs each (${total}) in ${messages} messages; ${done} acknowledged as stored in ${round(seconds)} s.`,
        `server during proof ingest: ${Math.round(prof.cpuPercent)} % of a core, RSS peak ${Math.round(prof.rssPeakMb)} MB; ` +
          `load generator (this process): ${Math.round(gen.cpuPercent)} % of a core.`,
      ],
      details: { total, done, seconds, server: prof },
    };
  } finally {
    await child.stop();
  }
}
