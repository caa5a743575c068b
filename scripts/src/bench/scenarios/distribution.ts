/**
 * Scenario 4: 200 devices fetch a 10 MB bundle. Server MB/s beside a plain Node static-file
 * server (child process, same clients, same file); then a second bundle with one changed file
 * must move only that file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concurrentFetch } from '../baselines/http-fetch.js';
import { startChild } from '../child.js';
import { figure, type Scenario, Unavailable } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { realDistribution } from './distribution-real.js';

export const distribution: Scenario = {
  name: 'distribution',
  title: 'Bundle distribution: 200 devices fetch a 10 MB bundle',
  budgetMs: { quick: 40_000, full: 150_000 },
  async run(ctx) {
    const devices = ctx.quick ? 20 : 200;
    const dir = join(ctx.tmpDir, 'static');
    mkdirSync(dir);
    // Ten 1 MB blobs: the same shape as the bundle the real server will serve.
    const names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `blob-${i}`;
      writeFileSync(join(dir, name), randomBytes(1024 * 1024));
      names.push(name);
    }
    const notes = [
      `${devices} concurrent clients each fetch 10 files of 1 MB (10 MB) over HTTP/1.1 on 127.0.0.1.`,
    ];
    const child = await startChild({ kind: 'static', dir });
    const sampler = new ProcessSampler(child.pid);
    let base: Awaited<ReturnType<typeof concurrentFetch>>;
    try {
      sampler.start();
      base = await concurrentFetch(devices, () =>
        names.map((n) => `http://127.0.0.1:${child.ready.httpPort}/${n}`),
      );
      const p = sampler.stop();
      notes.push(
        `static server: ${Math.round(p.cpuPercent)} % CPU, RSS peak ${Math.round(p.rssPeakMb)} MB, ${base.failures} failed requests.`,
      );
    } finally {
      sampler.stop();
      await child.stop();
    }
    const baseFig = figure('distribution.static', 'plain Node static server', base.mbPerSecond, 'MB/s');
    try {
      const real = await realDistribution(ctx, { devices });
      notes.push(...real.notes);
      return {
        notes,
        figures: [
          figure('distribution.server', 'fleet server bundle download', real.mbPerSecond, 'MB/s', {
            baseline: { label: 'static server', value: base.mbPerSecond, unit: 'MB/s' },
            goal: { better: 'higher', ratio: 0.8, text: '≥ 0.8× static server' },
          }),
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
