/**
 * Emergency cancel: N real agents (SimStation: fleet link, recall verification against the trust
 * policy, durable recall list, player on simulated audio timing, signed proof journal) play an
 * emergency; 3 s into it the operator POSTs /api/v1/bundles/{id}/recall. Latency per station =
 * the instant its signed `withdrawn` proof says it stopped (the agent's clock) − the moment the
 * request was sent (same machine clock); "all stopped" is the largest of a round. Baseline in the
 * same run: raw aedes fan-out (one publisher → N mqtt.js subscribers, QoS 1) of a payload the size
 * of the recall message the server published.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recall } from '@loa/protocol';
import { FleetApi } from '../../sim/fleet-api.js';
import { rawAedesFanout } from '../baselines/fanout.js';
import { startChild } from '../child.js';
import { deadline, figure, type Scenario } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { benchStationFleet } from '../stations.js';
import { median, percentile, round } from '../stats.js';

const DEVICES = 50;

interface Stop {
  deviceId: string;
  at: number;
  receivedAt: number;
}

interface RealCancel {
  /** Per station and round: cancel request sent → the station's signed stop. */
  latenciesMs: number[];
  /** Per round: cancel request sent → the last station's signed stop. */
  allStoppedMs: number[];
  /** Per station and round: the server's handling of the request (the recall's publishedAt) → the station's signed stop. */
  fromPublishMs: number[];
  /** Size of the recall message as published on MQTT (bytes). */
  messageBytes: number;
  notes: string[];
  profile: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function realCancel(
  ctx: Parameters<Scenario['run']>[0],
  opts: { devices: number; rounds: number },
): Promise<RealCancel> {
  const child = await startChild(
    {
      kind: 'fleet',
      options: {
        dataDir: join(ctx.tmpDir, 'server'),
        devices: opts.devices,
        emergencyClips: opts.rounds,
        ratePerSecond: 200,
        burst: 1000,
      },
    },
    180_000,
  );
  const info = child.ready.info as {
    url: string;
    mqttUrl: string;
    tokens: string[];
    rootPublicKeyPem: string;
    operatorToken: string;
    clipIds: string[];
  };
  const rootPem = join(ctx.tmpDir, 'root.pub.pem');
  writeFileSync(rootPem, info.rootPublicKeyPem);
  const fleet = benchStationFleet({
    url: info.url,
    mqttUrl: info.mqttUrl,
    dir: join(ctx.tmpDir, 'sim'),
    rootPem,
    count: opts.devices,
    token: (i) => info.tokens[Math.floor(i / 500)] ?? '',
    extra: { warmupMs: 0 },
    startConcurrency: 8,
    seed: 15,
  });
  const notes: string[] = [];
  try {
    const t0 = performance.now();
    ctx.log(`starting ${opts.devices} real agents for the cancel`);
    await fleet.start();
    const end = performance.now() + 180_000;
    while (fleet.summary().connected < opts.devices && performance.now() < end) await sleep(200);
    const connected = fleet.summary().connected;
    notes.push(
      `${connected}/${opts.devices} agents enrolled and connected in ${round((performance.now() - t0) / 1000)} s (one process, simulated audio timing, amplifier warm-up 0).`,
    );
    const operator = new FleetApi(info.url, info.operatorToken);
    const latencies: number[] = [];
    const allStopped: number[] = [];
    const requestMs: number[] = [];
    const receivedMs: number[] = [];
    const fromPublish: number[] = [];
    let messageBytes = 0;
    const server = new ProcessSampler(child.pid);
    const self = new ProcessSampler('self');
    server.start();
    self.start();
    const outOfTime = deadline(ctx, 0.7);
    for (let r = 0; r < opts.rounds && !(r > 0 && outOfTime()); r++) {
      const sent = await operator.post<{ bundle: { id: string } }>('/emergency', {
        unit: '08',
        title: `Cảnh báo lũ quét ${r + 1}`,
        content: info.clipIds[r % info.clipIds.length],
        repeat: 6,
        gapSeconds: 0,
        validMinutes: 30,
      });
      const id = sent.bundle.id;
      await until(
        async () => {
          const starts = await child.query<{ deviceId: string }[]>('emergencyStarts', id);
          return new Set(starts.map((s) => s.deviceId)).size >= connected ? true : undefined;
        },
        60_000,
        `every agent playing emergency ${id}`,
      );
      await sleep(3000);
      const onAirAtCancel = fleet.stations.filter((s) => s.onAir() === id).length;
      const sentAt = performance.timeOrigin + performance.now();
      await operator.post(`/bundles/${id}/recall`, { reason: 'Báo động nhầm, huỷ cảnh báo' });
      requestMs.push(performance.timeOrigin + performance.now() - sentAt);
      let stops: Stop[] = [];
      try {
        stops = await until(
          async () => {
            const got = await child.query<Stop[]>('withdrawn', id);
            return new Set(got.map((s) => s.deviceId)).size >= connected ? got : undefined;
          },
          60_000,
          `every agent's withdrawn proof for ${id}`,
        );
      } catch {
        stops = await child.query<Stop[]>('withdrawn', id);
      }
      const stillOnAir = fleet.stations.filter((s) => s.onAir() === id).length;
      const mine = stops.map((s) => s.at - sentAt);
      latencies.push(...mine);
      receivedMs.push(...stops.map((s) => s.receivedAt - sentAt));
      if (mine.length > 0) allStopped.push(Math.max(...mine));
      notes.push(
        `round ${r + 1}: ${onAirAtCancel}/${connected} on air at the cancel; ${stops.length}/${connected} signed withdrawn proofs, ` +
          `last ${mine.length ? round(Math.max(...mine)) : '—'} ms after the request; ${stillOnAir} still on air after.`,
      );
      const rec = await operator.get<{ meta: { recall: { document: Recall; publishedAt?: string } } }>(
        `/bundles/${id}`,
      );
      const publishedAt = Date.parse(rec.meta.recall.publishedAt ?? '');
      if (Number.isFinite(publishedAt)) fromPublish.push(...stops.map((s) => s.at - publishedAt));
      // the published message: RecallNotifySchema {recall, serverTime}
      messageBytes ||= Buffer.byteLength(
        JSON.stringify({ recall: rec.meta.recall.document, serverTime: new Date().toISOString() }),
      );
    }
    const sp = server.stop();
    const gp = self.stop();
    const q = (xs: number[]) => `p50 ${round(percentile(xs, 50))} ms, p95 ${round(percentile(xs, 95))} ms`;
    notes.push(
      `profile (ms after the cancel request was sent): request answered (recall signed, stored, published) ${q(requestMs)}; ` +
        `station stopped and signed (withdrawn proof, agent clock) ${q(latencies)}; server received that proof ${q(receivedMs)}; ` +
        `from the server's handling of the request (the recall's publishedAt, taken before it signs, stores and publishes) to the signed stop ${q(fromPublish)}. ` +
        'Between publish and the proof each agent verifies the recall against the trust policy, writes it durably (fsync), ' +
        'moves its bundle pointer, stops the output and appends the signed proof.',
      `server ${Math.round(sp.cpuPercent)} % of a core (RSS peak ${Math.round(sp.rssPeakMb)} MB); the ${connected} agents in one process ` +
        `${Math.round(gp.cpuPercent)} % (RSS peak ${Math.round(gp.rssPeakMb)} MB).`,
    );
    return {
      latenciesMs: latencies,
      allStoppedMs: allStopped,
      fromPublishMs: fromPublish,
      messageBytes,
      notes,
      profile: { server: sp, agents: gp, requestMs, receivedMs },
    };
  } finally {
    await fleet.stop();
    await child.stop();
  }
}

export const cancel: Scenario = {
  name: 'cancel',
  title: `Emergency cancel on ${DEVICES} real agents, 3 s into playing: recall request → stopped (signed proof)`,
  budgetMs: { quick: 120_000, full: 300_000 },
  async run(ctx) {
    const rounds = ctx.quick ? 2 : 5;
    const real = await realCancel(ctx, { devices: DEVICES, rounds });
    const messages = ctx.quick ? 10 : 40;
    const broker = await startChild({ kind: 'aedes' });
    let base: number[];
    const notes: string[] = [];
    try {
      ctx.log(`raw aedes fan-out of ${real.messageBytes} B to ${DEVICES} subscribers`);
      const run = await rawAedesFanout(`mqtt://127.0.0.1:${broker.ready.mqttPort}`, {
        subscribers: DEVICES,
        payloadBytes: real.messageBytes,
        messages,
        qos: 1,
      });
      base = run.latenciesMs;
      notes.push(
        `baseline: raw aedes, ${run.delivered}/${run.expected} delivered over ${run.messages} messages of ${real.messageBytes} B ` +
          `(the size of the published recall message), ${DEVICES} subscribers, QoS 1; broker in a child process.`,
      );
    } finally {
      await broker.stop();
    }
    notes.push(...real.notes);
    const rawP50 = median(base);
    const rawP95 = percentile(base, 95);
    const rawMax = base.length ? Math.max(...base) : Number.NaN;
    const xs = real.latenciesMs;
    return {
      notes,
      figures: [
        figure('cancel.p50', 'cancel request → station stopped p50', median(xs), 'ms', {
          baseline: { label: 'raw aedes p50', value: rawP50, unit: 'ms' },
        }),
        figure('cancel.p95', 'cancel request → station stopped p95', percentile(xs, 95), 'ms', {
          baseline: { label: 'raw aedes p95', value: rawP95, unit: 'ms' },
        }),
        figure(
          'cancel.max',
          'cancel request → station stopped max',
          xs.length ? Math.max(...xs) : Number.NaN,
          'ms',
          {
            baseline: { label: 'raw aedes max', value: rawMax, unit: 'ms' },
          },
        ),
        figure(
          'cancel.all',
          `cancel request → all ${DEVICES} stopped (median of ${real.allStoppedMs.length} rounds)`,
          median(real.allStoppedMs),
          'ms',
          {
            baseline: { label: 'raw aedes max', value: rawMax, unit: 'ms' },
            goal: { better: 'lower', limit: 1000, text: '≤ 1 s: every station stops at once' },
          },
        ),
        figure('cancel.raw.p50', 'raw aedes fan-out p50 (recall-sized payload)', rawP50, 'ms'),
        figure('cancel.raw.p95', 'raw aedes fan-out p95 (recall-sized payload)', rawP95, 'ms'),
      ],
      details: {
        latenciesMs: xs,
        allStoppedMs: real.allStoppedMs,
        fromPublishMs: real.fromPublishMs,
        baselineMs: base,
        profile: real.profile,
      },
    };
  },
};
