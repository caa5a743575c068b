/**
 * Bundle distribution through the real server: a bundle of ten 1 MB blobs is published (signed
 * by editor and approver); N enrolled devices fetch its blobs from GET /blobs/<sha256> with
 * their credentials, all at once (same HTTP clients as the static-server baseline). Then real
 * agents install it, a second bundle changes one file, and the bytes each agent downloads for
 * the second bundle are counted at its link proxy.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetApi } from '../../sim/fleet-api.js';
import { LINK_PROFILES } from '../../sim/link-proxy.js';
import { concurrentFetch } from '../baselines/http-fetch.js';
import { startChild } from '../child.js';
import { enrolMany } from '../devices.js';
import { type BenchContext, type Figure, figure } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { benchStationFleet } from '../stations.js';
import { round } from '../stats.js';

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function realDistribution(
  ctx: BenchContext,
  opts: { devices: number },
): Promise<{ mbPerSecond: number; figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  const agents = ctx.quick ? 3 : 20;
  const child = await startChild(
    { kind: 'fleet', options: { dataDir: join(ctx.tmpDir, 'server'), devices: opts.devices + agents } },
    120_000,
  );
  const info = child.ready.info as {
    url: string;
    mqttUrl: string;
    tokens: string[];
    rootPublicKeyPem: string;
    editorToken: string;
    approverToken: string;
  };
  const editor = new FleetApi(info.url, info.editorToken);
  const approver = new FleetApi(info.url, info.approverToken);
  const publish = async (channelItems: { id: string }[]) => {
    const b = await editor.post<{ id: string }>('/bundles', {
      channel: 'bench-dist',
      targets: [{ unit: '08' }],
      items: channelItems.map((c, i) => ({ content: c.id, id: `file-${i}` })),
    });
    await editor.post(`/bundles/${b.id}/submit`, { sign: true });
    await approver.post(`/bundles/${b.id}/approve`, { sign: true });
    await approver.post(`/bundles/${b.id}/publish`);
    return b.id;
  };
  const rootPem = join(ctx.tmpDir, 'root.pub.pem');
  writeFileSync(rootPem, info.rootPublicKeyPem);
  const lan = LINK_PROFILES.lan ?? { name: 'lan', latencyMs: 0, jitterMs: 0, loss: 0, retransmitMs: 0 };
  // through a LAN link proxy: the agents' HTTP bytes are counted at their link
  const fleet = benchStationFleet({
    url: info.url,
    mqttUrl: info.mqttUrl,
    dir: join(ctx.tmpDir, 'sim'),
    rootPem,
    count: agents,
    token: () => info.tokens.at(-1) ?? '',
    extra: { profile: lan },
    startConcurrency: 8,
    seed: 2,
  });
  const { stations } = fleet;
  const notes: string[] = [];
  const figures: Figure[] = [];
  try {
    // the agents enrol first so they are notified of both bundles
    await fleet.start();
    const end = performance.now() + 120_000;
    while (fleet.summary().connected < agents && performance.now() < end) await sleep(200);
    const files = await child.query<{ id: string; sha256: string }[]>('importBlobs', {
      count: 10,
      bytes: MB,
      tag: 'v1',
    });
    const v1 = await publish(files);

    // 1. throughput: N devices fetch the ten blobs at once, with their own credentials
    const devices = await enrolMany(info.url, info.tokens, opts.devices);
    const sampler = new ProcessSampler(child.pid);
    sampler.start();
    const run = await concurrentFetch(
      opts.devices,
      () => files.map((f) => `${info.url}/blobs/${f.sha256}`),
      (c) => {
        const d = devices[c];
        return {
          authorization: `Basic ${Buffer.from(`${d?.mqtt.username}:${d?.mqtt.password}`).toString('base64')}`,
        };
      },
    );
    const prof = sampler.stop();
    notes.push(
      `fleet server: ${opts.devices} enrolled devices fetched ${round(run.bytes / MB)} MB from GET /blobs/<sha256> (HTTP Basic device auth) ` +
        `in ${round(run.seconds)} s, ${run.failures} failed requests; server ${Math.round(prof.cpuPercent)} % of a core, RSS peak ${Math.round(prof.rssPeakMb)} MB.`,
    );

    // 2. delta: agents hold v1; v2 changes one file; count what each agent downloads for v2
    const active = (bundleId: string) =>
      stations.filter((s) => s.runtime?.bundles.active().some((b) => b.id === bundleId)).length;
    const until1 = performance.now() + 120_000;
    while (active(v1) < agents && performance.now() < until1) await sleep(200);
    const v1Active = active(v1);
    const before = stations.map((s) => s.linkStats().http?.bytesDown ?? 0);
    const [changed] = await child.query<{ id: string; sha256: string }[]>('importBlobs', {
      count: 1,
      bytes: MB,
      tag: 'v2',
    });
    const v2 = await publish([...files.slice(0, 9), changed as { id: string }]);
    const until2 = performance.now() + 120_000;
    while (active(v2) < agents && performance.now() < until2) await sleep(200);
    const per = stations.map((s, i) => (s.linkStats().http?.bytesDown ?? 0) - (before[i] ?? 0));
    const meanMb = per.reduce((a, b) => a + b, 0) / per.length / MB;
    notes.push(
      `${agents} real agents installed v1 (${v1Active} active) then v2 with one of ten 1 MB files changed (${active(v2)} active): ` +
        `each downloaded ${per.map((b) => round(b / MB)).join(', ')} MB for v2 (HTTP bytes at its link, headers and manifest included).`,
    );
    figures.push(
      figure(
        'distribution.delta',
        'second bundle, one 1 MB file changed: downloaded per agent',
        meanMb,
        'MB',
        {
          // The changed file's size is known (1 MB), not measured: a goal, not a baseline.
          goal: { better: 'lower', limit: 1.1, text: '≤ 1.1 MB (1.1× the changed 1 MB file)' },
        },
      ),
    );
    return {
      mbPerSecond: run.mbPerSecond,
      figures,
      notes,
      details: { run, server: prof, perAgentBytes: per },
    };
  } finally {
    await fleet.stop();
    await child.stop();
  }
}
