/**
 * Health ingest through the real server: enrolled devices publish real health reports (QoS 1)
 * on their own topics; throughput counts what the server validated and stored (its health
 * stream's append counter), not what the broker acknowledged.
 */
import { deviceTopic } from '@loa/protocol';
import { publishQos1 } from '../baselines/qos1.js';
import { startChild } from '../child.js';
import { connectDevices, enrolMany } from '../devices.js';
import { type BenchContext, deadline, type Figure, figure } from '../harness.js';
import { closeMany } from '../mqtt-fleet.js';
import { ProcessSampler } from '../proc-sampler.js';
import { round } from '../stats.js';
import { sampleHealth } from './samples.js';

interface Stats {
  store: {
    registryWrites: number;
    registryBytesWritten: number;
    healthAppended: number;
    segmentBytesWritten: number;
  };
  counts: Record<string, number>;
  online: number;
}

export async function realHealthIngest(
  ctx: BenchContext,
  opts: { publishers: number; total: number; payloadBytes: number },
): Promise<{
  perSecond: number;
  perCpuSecond: number;
  figures: Figure[];
  notes: string[];
  details: Record<string, unknown>;
}> {
  const fleetDevices = ctx.quick ? 200 : 10_000;
  const child = await startChild(
    {
      kind: 'fleet',
      // every report written to the history (the server's default thins it to one per device
      // per 5 minutes plus changes): the storage path is measured at its worst
      options: {
        dataDir: ctx.tmpDir,
        devices: fleetDevices,
        ratePerSecond: 100_000,
        burst: 100_000,
        healthHistoryEveryS: 0,
      },
    },
    120_000,
  );
  const notes: string[] = [];
  const figures: Figure[] = [];
  try {
    const info = child.ready.info as { url: string; tokens: string[] };
    ctx.log(`enrolling ${fleetDevices} devices through POST /api/v1/enrol`);
    const tEnrol = performance.now();
    const devices = await enrolMany(info.url, info.tokens, fleetDevices, 16, (n) =>
      ctx.log(`  ${n}/${fleetDevices} enrolled`),
    );
    notes.push(
      `${fleetDevices} devices enrolled through POST /api/v1/enrol (16 at a time) in ${round((performance.now() - tEnrol) / 1000)} s.`,
    );
    // --- maximum sustained ingest: the same publishers and window as the raw aedes baseline
    const pubs = devices.slice(0, opts.publishers);
    const clients = await connectDevices(pubs);
    // payloads prepared beforehand, as for the baseline: the load generator must not be the bottleneck
    const pool = Array.from({ length: 256 }, (_, i) => JSON.stringify(sampleHealth(i, new Date())));
    const before = await child.query<Stats>('stats');
    const sampler = new ProcessSampler(child.pid);
    const self = new ProcessSampler('self');
    sampler.start();
    self.start();
    const t0 = performance.now();
    const sent = await publishQos1({
      clients,
      total: opts.total,
      window: 8,
      topic: (c) => deviceTopic(pubs[c]?.deviceId ?? '', 'health'),
      payload: (i) => pool[i % pool.length] as string,
      stop: deadline(ctx, 0.3),
    });
    let stored = 0;
    const end = performance.now() + 60_000;
    while (performance.now() < end) {
      const s = await child.query<Stats>('stats');
      stored = s.store.healthAppended - before.store.healthAppended;
      if (stored >= sent.messages) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const prof = sampler.stop();
    const gen = self.stop();
    const after = await child.query<Stats>('stats');
    await closeMany(clients);
    const perSecond = stored / seconds;
    const perCpuSecond = stored / Math.max(prof.cpuMs / 1000, 1e-6);
    const regBytes = after.store.registryBytesWritten - before.store.registryBytesWritten;
    notes.push(
      `fleet server: ${sent.messages} health reports acknowledged, ${stored} validated and stored in ${round(seconds)} s; ` +
        `server ${Math.round(prof.cpuPercent)} % CPU (of one core), RSS peak ${Math.round(prof.rssPeakMb)} MB; ` +
        `load generator ${Math.round(gen.cpuPercent)} % of a core; ` +
        `per-client rate limit raised to 100,000/s for this run (field default 20/s); ` +
        'health history thinning off for this run (every report written; the default keeps one per device per 5 minutes plus changes).',
      `registry during the health flood: ${after.store.registryWrites - before.store.registryWrites} writes, ${regBytes} bytes.`,
    );
    figures.push(
      figure(
        'registry.bytes-per-health',
        'registry bytes written per health message',
        regBytes / Math.max(1, stored),
        'B',
        {
          note: 'registry stays untouched by telemetry',
        },
      ),
      figure('ingest.server.cpu', 'server CPU during max ingest', prof.cpuPercent, '% of a core'),
    );

    // --- a province: every device reports every 30 s, time-compressed to a shorter window
    const windowS = ctx.quick ? 10 : 30;
    ctx.log(`connecting all ${fleetDevices} devices for the 30 s reporting cycle`);
    const tConn = performance.now();
    const all = await connectDevices(devices, 100, (n) => ctx.log(`  ${n}/${devices.length} connected`));
    notes.push(
      `${devices.length} devices connected over MQTT with their own credentials (100 at a time) in ${round((performance.now() - tConn) / 1000)} s.`,
    );
    try {
      const b2 = await child.query<Stats>('stats');
      const s2 = new ProcessSampler(child.pid);
      s2.start();
      const tStart = performance.now();
      // The province's rate: 10,000 devices every 30 s = 333 reports/s. With fewer devices
      // (quick mode) each device reports several times in the window: time-compressed.
      const fieldRate = 10_000 / 30;
      const expected = Math.round(fieldRate * windowS);
      const perDevice = Math.max(1, Math.ceil(expected / devices.length));
      const gapMs = (windowS * 1000) / expected;
      const sends: Promise<void>[] = [];
      for (let k = 0; k < expected; k++) {
        const i = k % devices.length;
        const c = all[i];
        if (!c) continue;
        sends.push(
          new Promise<void>((resolve) => {
            setTimeout(() => {
              c.publishAsync(
                deviceTopic(devices[i]?.deviceId ?? '', 'health'),
                pool[k % pool.length] as string,
                { qos: 1 },
              ).then(
                () => resolve(),
                () => resolve(),
              );
            }, k * gapMs);
          }),
        );
      }
      await Promise.all(sends);
      let got = 0;
      const until = performance.now() + 60_000;
      while (performance.now() < until) {
        got = (await child.query<Stats>('stats')).store.healthAppended - b2.store.healthAppended;
        if (got >= expected) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const p2 = s2.stop();
      const elapsed = (performance.now() - tStart) / 1000;
      notes.push(
        `${devices.length} connected devices sent ${expected} health reports over ${windowS} s, the rate of 10,000 devices ` +
          `every 30 s (333/s)${perDevice > 1 ? `, time-compressed: each device reported about ${perDevice} times` : ''}; ` +
          `${got} stored in ${round(elapsed)} s.`,
      );
      figures.push(
        figure(
          'ingest.fleet.cpu',
          `server CPU, ${devices.length} devices reporting`,
          p2.cpuPercent,
          '% of a core',
        ),
        figure(
          'ingest.fleet.rss',
          `server RSS peak, ${devices.length} devices connected`,
          p2.rssPeakMb,
          'MB',
        ),
      );
    } finally {
      await closeMany(all);
    }
    return { perSecond, perCpuSecond, figures, notes, details: { before, after } };
  } finally {
    await child.stop();
  }
}
