/**
 * Emergency fan-out through the real fleet server, beside raw aedes in the same run.
 *
 * Light stations (light-stations.ts): N devices enrolled through POST /api/v1/enrol, each an
 * mqtt.js client with its own credentials and a station's subscriptions, spread over worker
 * threads. Each verifies the signed emergency against the trust policy it got at enrolment
 * (checked against the pinned root) and the audio's size and SHA-256 (carried in the message, or
 * fetched over HTTP), then notes "audio ready". Latency = that instant − the moment the operator's
 * POST /api/v1/emergency was sent (one clock: every thread of this process).
 *
 * Baseline: the same workers hold N more plain clients on a raw aedes broker (its own process);
 * a message of the same size is published to them in the same run, one raw round before each
 * real one. p99 of the real path ÷ p99 of raw delivery is the figure the goal is judged on.
 *
 * The real agent (compiled build, real ffmpeg audio driver into a null sink) runs in a process of
 * its own pinned to one core with taskset, as a Pi-class board: request → playing is the start
 * instant of its signed "started" proof − the request; its baseline is one plain mqtt.js
 * subscriber in a process of its own pinned to the same core, receiving the raw message.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceSubscriptions } from '@loa/protocol';
import { connectAsync, type MqttClient } from 'mqtt';
import { FleetApi } from '../../sim/fleet-api.js';
import { agentConfig, buildAgent, COMPILED, spawnAgent, waitReady } from '../agent-process.js';
import { type BenchChild, startChild } from '../child.js';
import { enrolMany } from '../devices.js';
import type { BenchContext } from '../harness.js';
import { LightStationPool } from '../light-stations.js';
import { ProcessSampler } from '../proc-sampler.js';
import { percentile, round } from '../stats.js';

export interface FanoutRun {
  /**
   * Request → audio ready of every light station of every round, each as on a CPU of its own:
   * when its message arrived + how long its own checks took (not the checks of the other stations
   * that share its worker thread).
   */
  stationMs: number[];
  /** Request → audio ready as seen in the shared worker threads (after the checks queued ahead). */
  sharedMs: number[];
  /** Raw aedes publish → arrival, the same workers, the same message size. */
  rawMs: number[];
  /** Request → playing (its signed proof's start), the pinned agent, per round. */
  agentMs: number[];
  /** Request → the pinned agent's "verified" status (its clock), per round. */
  agentVerifiedMs: number[];
  /** Raw aedes publish → arrival at one plain subscriber pinned to the agent's core. */
  agentRawMs: number[];
  messageBytes: number[];
  notes: string[];
  profile: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

/** Spoken clips made (espeak-ng, uploaded and transcoded by the server) and used in turn. */
const CLIPS = 5;

/** The core a station's agent is pinned to (the last one, away from most of the load). */
const AGENT_CPU = 1;

function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

export async function emergencyFanout(
  ctx: BenchContext,
  opts: { devices: number; rounds: number; workers: number },
): Promise<FanoutRun> {
  const notes: string[] = [];
  const t0 = performance.now();
  const fleetChild = await startChild(
    {
      kind: 'fleet',
      options: {
        dataDir: join(ctx.tmpDir, 'server'),
        devices: opts.devices + 1,
        // different spoken clips in turn, as alerts in the field: more of them than the two
        // bundles a station keeps, so every round's audio is new to the agent
        emergencyClips: Math.min(opts.rounds + 1, CLIPS),
        ratePerSecond: 200,
        burst: 1000,
      },
    },
    600_000,
  );
  const info = fleetChild.ready.info as {
    url: string;
    tokens: string[];
    rootPublicKeyPem: string;
    operatorToken: string;
    clipIds: string[];
    clipDurationsMs: number[];
  };
  let aedes: BenchChild | undefined;
  let sub: BenchChild | undefined;
  let pool: LightStationPool | undefined;
  let pub: MqttClient | undefined;
  let agentProc: ReturnType<typeof spawnAgent> | undefined;
  try {
    aedes = await startChild({ kind: 'aedes' });
    const rawUrl = `mqtt://127.0.0.1:${aedes.ready.mqttPort}`;
    ctx.log(`enrolling ${opts.devices} light stations through POST /api/v1/enrol`);
    const devices = await enrolMany(info.url, info.tokens, opts.devices);
    const trust = devices[0]?.trust;
    if (!trust) throw new Error('enrolment gave no trust policy');
    pool = new LightStationPool(opts.workers, opts.devices);
    ctx.log(
      `connecting ${opts.devices} station clients and ${opts.devices} raw clients in ${opts.workers} workers`,
    );
    await pool.connect(
      'station',
      opts.devices,
      (i) => {
        const d = devices[i] as (typeof devices)[number];
        return {
          url: d.mqtt.url,
          clientId: d.mqtt.clientId,
          username: d.mqtt.username,
          password: d.mqtt.password,
          subscriptions: deviceSubscriptions(d.deviceId, d.unit),
        };
      },
      { policy: trust, rootPems: [info.rootPublicKeyPem] },
    );
    await pool.connect('raw', opts.devices, (i) => ({
      url: rawUrl,
      clientId: `raw-${i}`,
      subscriptions: ['bench/fanout'],
    }));
    pub = await connectAsync(rawUrl, { clientId: 'bench-raw-publisher', reconnectPeriod: 0 });
    sub = await startChild({ kind: 'subscriber', url: rawUrl, topic: 'bench/fanout' });
    pin(sub.pid, AGENT_CPU);
    notes.push(
      `${opts.devices} light stations enrolled and connected with their own credentials and a station's subscriptions, ` +
        `${opts.devices} raw clients beside them, in ${opts.workers} worker threads (${Math.ceil(opts.devices / opts.workers)} + ` +
        `${Math.ceil(opts.devices / opts.workers)} clients each), in ${round((performance.now() - t0) / 1000)} s.`,
    );

    // the real agent, pinned to one core; warm-up 0 so that the software path is what is timed
    const tscErrors = buildAgent();
    if (tscErrors) notes.push(`tsc -b agent reported errors: ${tscErrors}`);
    const rootPem = join(ctx.tmpDir, 'root.pub.pem');
    writeFileSync(rootPem, info.rootPublicKeyPem);
    const agentDir = join(ctx.tmpDir, 'agent');
    const cfgPath = join(ctx.tmpDir, 'agent.json');
    const token = info.tokens[Math.floor(opts.devices / 500)] as string;
    writeFileSync(cfgPath, JSON.stringify(agentConfig(agentDir, info.url, token, rootPem, { warmupMs: 0 })));
    /** What the agent logged, by message: when (its clock) and the bundle id when it names one. */
    const agentLog: { msg: string; time: number; id?: string }[] = [];
    const agentLogFile = process.env.LOA_BENCH_AGENT_LOG;
    const milestones = new Set(['bundle active', 'on air', 'emergency cut in']);
    agentProc = spawnAgent(COMPILED, cfgPath, {
      cpu: AGENT_CPU,
      onLog: (j) => {
        // every line the agent logged, for a look at where its time goes (LOA_BENCH_AGENT_LOG=file)
        if (agentLogFile) appendFileSync(agentLogFile, `${JSON.stringify(j)}\n`);
        if (typeof j.msg === 'string' && milestones.has(j.msg) && typeof j.time === 'number')
          agentLog.push({ msg: j.msg, time: j.time, ...(typeof j.id === 'string' ? { id: j.id } : {}) });
      },
    });
    await waitReady(agentProc, async () => 1, 1);
    const agentId = (
      JSON.parse(readFileSync(join(agentDir, 'credentials.json'), 'utf8')) as { deviceId: string }
    ).deviceId;

    const operator = new FleetApi(info.url, info.operatorToken);
    const run: FanoutRun = {
      stationMs: [],
      sharedMs: [],
      rawMs: [],
      agentMs: [],
      agentVerifiedMs: [],
      agentRawMs: [],
      messageBytes: [],
      notes,
      profile: {},
    };
    const requestMs: number[] = [];
    /** Per counted round, ms after the request: the agent's bundle active (durable), on air. */
    const agentActiveMs: number[] = [];
    const agentOnAirMs: number[] = [];
    const perRound: string[] = [];
    /**
     * Per counted round, where request → audio ready goes (ms): the request until the server
     * begins publishing; that publish until the message reached the median / last station client;
     * each client's own checks (arrival → ready, p50 and p99 over the clients); and the raw
     * round's publish until the median / last raw client had it.
     */
    const split = {
      toPublish: [] as number[],
      publishCall: [] as number[],
      deliverP50: [] as number[],
      deliverLast: [] as number[],
      checkP50: [] as number[],
      checkP99: [] as number[],
      waitP50: [] as number[],
      waitP99: [] as number[],
      readyP99: [] as number[],
      sharedP99: [] as number[],
      rawP50: [] as number[],
      rawLast: [] as number[],
      rawP99: [] as number[],
    };
    let rawRound: number[] = [];
    const server = new ProcessSampler(fleetChild.pid);
    const self = new ProcessSampler('self');
    let bytes = 0;
    // round 0 warms up (JIT, caches, the agent's first decoder) and is not counted
    for (let r = 0; r <= opts.rounds; r++) {
      if (r === 1) {
        server.start();
        self.start();
      }
      const counted = r > 0;
      // raw round: a message of the size of the last real one, to the same workers
      if (bytes > 0) {
        pool.arm('raw');
        await sub.query('arrivals');
        const rawAt = now();
        await pub.publishAsync('bench/fanout', Buffer.alloc(bytes, 0x61), { qos: 1 });
        const raw = await pool.collect('raw', 30_000);
        const alone = await waitArrivals(sub);
        rawRound = raw.times.map((t) => t - rawAt);
        if (counted) {
          for (const t of raw.times) run.rawMs.push(t - rawAt);
          for (const a of alone) run.agentRawMs.push(a.at - rawAt);
        }
        if (raw.arrived < raw.expected)
          perRound.push(`round ${r}: raw ${raw.arrived}/${raw.expected} delivered`);
        await sleep(100);
      }
      // real round: the operator's request through the real server
      pool.arm('station');
      const sentAt = now();
      const res = await operator.post<{ bundle: { id: string } }>('/emergency', {
        unit: '08',
        title: `Cảnh báo lũ quét ${r + 1}`,
        content: info.clipIds[r % info.clipIds.length],
        repeat: 1,
        gapSeconds: 0,
        validMinutes: 30,
      });
      const answeredAt = now();
      const st = await pool.collect('station', 60_000);
      bytes = pool.lastMessageBytes();
      const id = res.bundle.id;
      let started: number | undefined;
      const until = performance.now() + 30_000;
      while (started === undefined && performance.now() < until) {
        const starts = await fleetChild.query<{ deviceId: string; startedAt: number }[]>(
          'emergencyStarts',
          id,
        );
        started = starts.find((s) => s.deviceId === agentId)?.startedAt;
        if (started === undefined) await sleep(50);
      }
      const states = await fleetChild.query<Record<string, number>>('statusTimes', {
        bundleId: id,
        deviceId: agentId,
      });
      const pubAt = await fleetChild.query<{ startAt: number; doneAt?: number } | null>(
        'emergencyPublished',
        id,
      );
      const own = st.received.map((t, i) => t + (st.checks[i] as number) - sentAt);
      // arrival → ready in the shared thread, less the station's own checks: waiting for the others'
      const waits = st.times.map((t, i) => t - (st.received[i] as number) - (st.checks[i] as number));
      const checks = st.checks;
      const delivered = st.received.map((t) => t - (pubAt?.startAt ?? Number.NaN));
      const lastOf = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
      const row = {
        toPublish: (pubAt?.startAt ?? Number.NaN) - sentAt,
        publishCall: (pubAt?.doneAt ?? Number.NaN) - (pubAt?.startAt ?? Number.NaN),
        deliverP50: percentile(delivered, 50),
        deliverLast: lastOf(delivered),
        checkP50: percentile(checks, 50),
        checkP99: percentile(checks, 99),
        waitP50: percentile(waits, 50),
        waitP99: percentile(waits, 99),
        readyP99: percentile(own, 99),
        sharedP99: percentile(st.times, 99) - sentAt,
        rawP50: percentile(rawRound, 50),
        rawLast: lastOf(rawRound),
        rawP99: percentile(rawRound, 99),
      };
      if (counted) {
        for (const k of Object.keys(split) as (keyof typeof split)[]) split[k].push(row[k]);
        requestMs.push(answeredAt - sentAt);
        run.stationMs.push(...own);
        for (const t of st.times) run.sharedMs.push(t - sentAt);
        run.messageBytes.push(bytes);
        if (started !== undefined) run.agentMs.push(started - sentAt);
        if (states.verified !== undefined) run.agentVerifiedMs.push(states.verified - sentAt);
        const active = agentLog.find((l) => l.msg === 'bundle active' && l.id === id);
        if (active) agentActiveMs.push(active.time - sentAt);
        const onAir = agentLog.find((l) => l.msg === 'on air' && l.time >= sentAt);
        if (onAir) agentOnAirMs.push(onAir.time - sentAt);
      }
      perRound.push(
        `round ${r}${counted ? '' : ' (warm-up, not counted)'}: ${st.arrived}/${st.expected} stations audio ready` +
          `${st.refused ? `, ${st.refused} refused` : ''}, p99 ${round(row.readyP99)} ms on their own CPU ` +
          `(${round(row.sharedP99)} ms in the shared threads); ` +
          `agent ${started !== undefined ? `playing at ${round(started - sentAt)} ms` : 'did NOT report playing'}; message ${bytes} B; ` +
          `split: request → publish starts ${round(row.toPublish)} ms (publish call ${round(row.publishCall)}), ` +
          `publish → delivered p50 ${round(row.deliverP50)} / last ${round(row.deliverLast)}, ` +
          `station checks p50 ${round(row.checkP50)} / p99 ${round(row.checkP99)}, ` +
          `waiting for other stations' checks in the thread p50 ${round(row.waitP50)} / p99 ${round(row.waitP99)}; ` +
          `raw publish → delivered p50 ${round(row.rawP50)} / p99 ${round(row.rawP99)} / last ${round(row.rawLast)}.`,
      );
      // let the clip finish before the next alert (an emergency cuts into whatever plays)
      const clipMs = info.clipDurationsMs[r % info.clipDurationsMs.length] ?? 5000;
      await sleep(Math.max(0, sentAt + clipMs + 1000 - now()));
    }
    const sp = server.stop();
    const gp = self.stop();
    for (const r of pool.refusals) notes.push(`stations refused (${r.set}): ${r.code} — ${r.message}`);
    const q = (xs: number[]) => `p50 ${round(percentile(xs, 50))} ms, p99 ${round(percentile(xs, 99))} ms`;
    notes.push(
      ...perRound,
      `${opts.rounds} emergencies counted, operator POST /api/v1/emergency with an uploaded spoken clip carried inline ` +
        `(message ${Math.min(...run.messageBytes)}–${Math.max(...run.messageBytes)} B; raw rounds use the same size).`,
      `profile: request answered (signed, stored durably, audited, published) ${q(requestMs)}; ` +
        `the pinned agent (its clock): "verified" status (received, manifest verified, inline audio checked and written durably) ${q(run.agentVerifiedMs)}, ` +
        `bundle active (manifest and pointer written durably) ${q(agentActiveMs)}, "on air" logged ${q(agentOnAirMs)}, ` +
        `start in its signed proof ${q(run.agentMs)}.`,
      `server ${Math.round(sp.cpuPercent)} % of a core (RSS peak ${Math.round(sp.rssPeakMb)} MB); ` +
        `this process (${opts.workers} workers with ${2 * opts.devices} clients) ${Math.round(gp.cpuPercent)} % (RSS peak ${Math.round(gp.rssPeakMb)} MB).`,
      `agent: compiled build (node ${COMPILED.join(' ')}), real ffmpeg audio driver into a null sink, pinned with taskset -c ${AGENT_CPU}; ` +
        'amplifier warm-up 0 here: a cold amplifier adds its configured warm-up (hardware.amplifier.warmupMs, default 2 s) ' +
        'on top, a warm one (within its idle tail) nothing.',
    );
    const med = (xs: number[]) => round(percentile(xs, 50));
    notes.push(
      `split (medians over the counted rounds): request → server publish starts ${med(split.toPublish)} ms ` +
        `(the publish call itself ${med(split.publishCall)} ms); publish → delivered to the median station client ${med(split.deliverP50)} ms, ` +
        `to the last ${med(split.deliverLast)} ms; each station's own checks p50 ${med(split.checkP50)} ms, ` +
        `p99 ${med(split.checkP99)} ms; waiting in the shared thread for other stations' checks p50 ${med(split.waitP50)} ms, ` +
        `p99 ${med(split.waitP99)} ms; request → ready p99 ${med(split.readyP99)} ms on each station's own CPU, ` +
        `${med(split.sharedP99)} ms in the shared threads. ` +
        `Raw aedes publish → delivered: median client ${med(split.rawP50)} ms, p99 ${med(split.rawP99)} ms, last ${med(split.rawLast)} ms.`,
    );
    run.profile = { server: sp, self: gp, requestMs, agentActiveMs, agentOnAirMs, split };
    return run;
  } finally {
    await agentProc?.stop();
    await pool?.close();
    await pub?.endAsync(true).catch(() => undefined);
    await sub?.stop();
    await aedes?.stop();
    await fleetChild.stop();
  }
}

async function waitArrivals(sub: BenchChild): Promise<{ at: number; bytes: number }[]> {
  const end = performance.now() + 10_000;
  for (;;) {
    const got = await sub.query<{ at: number; bytes: number }[]>('arrivals');
    if (got.length > 0 || performance.now() > end) return got;
    await sleep(5);
  }
}
