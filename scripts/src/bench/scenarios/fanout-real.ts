/**
 * Emergency fan-out through the real system: N simulated stations (the real agent: fleet link,
 * manifest verification against the trust policy, blob download and hash check, scheduler,
 * player on simulated audio timing, signed proof) enrolled with the real server. The operator
 * POSTs /api/v1/emergency with an uploaded clip; latency per device = the audio start the agent
 * signs in its "started" proof − the moment the request was sent (same machine clock).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetApi } from '../../sim/fleet-api.js';
import { type BenchChild, startChild } from '../child.js';
import type { BenchContext } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { benchStationFleet, benchStationSpec } from '../stations.js';
import { percentile, round } from '../stats.js';

export interface RealFanout {
  latenciesMs: number[];
  /** The same path for the one agent that runs in a process of its own (a station's own CPU). */
  isolatedMs: number[];
  notes: string[];
  profile?: Record<string, unknown>;
}

interface Start {
  deviceId: string;
  startedAt: number;
  receivedAt: number;
}

export async function realEmergencyFanout(
  ctx: BenchContext,
  opts: { devices: number; messages: number },
): Promise<RealFanout> {
  const child = await startChild(
    {
      kind: 'fleet',
      options: {
        dataDir: join(ctx.tmpDir, 'server'),
        // one more for the agent in its own process
        devices: opts.devices + 1,
        emergencyClips: opts.messages,
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
  const where = { url: info.url, mqttUrl: info.mqttUrl, dir: join(ctx.tmpDir, 'sim'), rootPem };
  const fleet = benchStationFleet({
    ...where,
    count: opts.devices,
    token: (i) => info.tokens[Math.floor(i / 500)] ?? '',
    extra: { warmupMs: 0 },
    startConcurrency: 16,
    seed: 1,
  });
  const notes: string[] = [];
  /** One more agent in a process of its own (a station has its own CPU). */
  let iso: BenchChild | undefined;
  try {
    const t0 = performance.now();
    ctx.log(`starting ${opts.devices} real agents (enrolment, trust, MQTT link) in this process`);
    await fleet.start();
    const end = performance.now() + 180_000;
    while (fleet.summary().connected < opts.devices && performance.now() < end)
      await new Promise((r) => setTimeout(r, 200));
    iso = await startChild(
      {
        kind: 'station',
        spec: {
          ...benchStationSpec(where, 'tram-own-cpu', info.tokens[Math.floor(opts.devices / 500)] ?? '', {
            warmupMs: 0,
          }),
          server: info.url,
          mqtt: info.mqttUrl,
        },
      },
      90_000,
    );
    const connected = fleet.summary().connected;
    notes.push(
      `${connected}/${opts.devices} agents enrolled and connected in ${round((performance.now() - t0) / 1000)} s, ` +
        'plus one more agent in a process of its own (as a station has its own CPU).',
    );
    const isoId = (iso.ready.info as { deviceId: string }).deviceId;
    const isolated: number[] = [];
    const operator = new FleetApi(info.url, info.operatorToken);
    const latencies: number[] = [];
    const serverSeen: number[] = [];
    const requestMs: number[] = [];
    const receivedMs: number[] = [];
    const server = new ProcessSampler(child.pid);
    const self = new ProcessSampler('self');
    server.start();
    self.start();
    let rounds = 0;
    for (let r = 0; r < opts.messages; r++) {
      const sentAt = performance.timeOrigin + performance.now();
      const res = await operator.post<{ bundle: { id: string } }>('/emergency', {
        unit: '08',
        title: `Cảnh báo lũ quét ${r + 1}`,
        // a different clip each round, as every alert in the field: every station downloads it
        content: info.clipIds[r % info.clipIds.length],
        repeat: 1,
        gapSeconds: 0,
        validMinutes: 30,
      });
      const id = res.bundle.id;
      requestMs.push(performance.timeOrigin + performance.now() - sentAt);
      let starts: Start[] = [];
      const until = performance.now() + 60_000;
      while (performance.now() < until) {
        starts = await child.query<Start[]>('emergencyStarts', id);
        if (starts.length >= connected + 1) break;
        await new Promise((r2) => setTimeout(r2, 50));
      }
      rounds++;
      for (const t of await child.query<number[]>('emergencyReceived', id)) receivedMs.push(t - sentAt);
      for (const s of starts) {
        if (s.deviceId === isoId) {
          isolated.push(s.startedAt - sentAt);
          continue;
        }
        latencies.push(s.startedAt - sentAt);
        serverSeen.push(s.receivedAt - sentAt);
      }
      const iso0 = starts.find((s) => s.deviceId === isoId);
      const isoStarted = iso0 !== undefined;
      notes.push(
        `round ${r + 1}: ${starts.length - (isoStarted ? 1 : 0)}/${connected} agents started playing` +
          `${iso0 ? `, and the agent with its own process (${round(iso0.startedAt - sentAt)} ms after the request)` : '; the agent with its own process did NOT'}.`,
      );
      // let the clip (a few seconds of speech) finish before the next alert interrupts it
      await new Promise((r2) => setTimeout(r2, 6000));
    }
    const sp = server.stop();
    const gp = self.stop();
    notes.push(
      `${rounds} emergencies, operator POST /api/v1/emergency with an uploaded clip (no text-to-speech in the path); ` +
        'amplifier warm-up set to 0 (a cold amplifier adds its warm-up, 1–2 s, on top).',
      `server ${Math.round(sp.cpuPercent)} % of a core (RSS peak ${Math.round(sp.rssPeakMb)} MB); the ${connected} agents in one process ` +
        `${Math.round(gp.cpuPercent)} % (RSS peak ${Math.round(gp.rssPeakMb)} MB, ${round(gp.rssPeakMb / Math.max(1, connected))} MB per agent).`,
    );
    const q = (xs: number[]) => `p50 ${round(percentile(xs, 50))} ms, p99 ${round(percentile(xs, 99))} ms`;
    notes.push(
      `profile (ms after the request was sent): operator request answered (signed, stored, published) ${q(requestMs)}; ` +
        `agent reported the bundle verified — manifest checked, audio blob downloaded and hashed — (server clock, status message) ${q(receivedMs)}; ` +
        `audio started (agent's signed proof; between the two: activation with fsyncs, re-planning, output gate) ${q(latencies)}; ` +
        `server received that proof ${q(serverSeen)}. All agents share one event loop on a loaded 2-core machine.`,
    );
    return {
      latenciesMs: latencies,
      isolatedMs: isolated,
      notes,
      profile: { server: sp, agents: gp, requestMs, receivedMs, serverSeenMs: serverSeen },
    };
  } finally {
    if (iso) await iso.stop();
    await fleet.stop();
    await child.stop();
  }
}
