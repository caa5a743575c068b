/** The benchmark harness's own pieces: percentiles, figures against baselines, the report, /proc sampling. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { figure } from '../../scripts/src/bench/harness.js';
import { ProcessSampler, readProcess, readProcessTree } from '../../scripts/src/bench/proc-sampler.js';
import { type BenchReport, toMarkdown } from '../../scripts/src/bench/report.js';
import { median, percentile, summarize } from '../../scripts/src/bench/stats.js';

describe('bench statistics', () => {
  it('interpolates percentiles between ranks', () => {
    const xs = Array.from({ length: 101 }, (_, i) => i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([1, 2], 50)).toBe(1.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    const s = summarize([4, 1, 3, 2]);
    expect(s).toMatchObject({ n: 4, min: 1, max: 4, mean: 2.5, p50: 2.5 });
  });
});

describe('figures beside baselines', () => {
  it('computes the ratio and judges the goal in the right direction', () => {
    const latency = figure('x.p99', 'p99', 30, 'ms', {
      baseline: { label: 'raw', value: 20, unit: 'ms' },
      goal: { better: 'lower', ratio: 1.5, text: '≤ 1.5×' },
    });
    expect(latency.ratio).toBe(1.5);
    expect(latency.met).toBe(true);
    const throughput = figure('y', 'msg/s', 400, 'msg/s', {
      baseline: { label: 'raw', value: 1000, unit: 'msg/s' },
      goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5×' },
    });
    expect(throughput.ratio).toBe(0.4);
    expect(throughput.met).toBe(false);
    expect(figure('z', 'alone', 1, 'ms').met).toBeUndefined();
  });

  it('judges a fixed goal on the figure itself, with no baseline or ratio made up for it', () => {
    const rss = figure('agent.rss', 'idle RSS', 64.8, 'MB', {
      goal: { better: 'lower', limit: 70, text: '≤ 70 MB' },
    });
    expect(rss).toMatchObject({ met: true, goal: { limit: 70 } });
    expect(rss.baseline).toBeUndefined();
    expect(rss.ratio).toBeUndefined();
    expect(figure('a', 'b', 71, 'MB', { goal: { better: 'lower', limit: 70, text: '' } }).met).toBe(false);
    expect(figure('a', 'b', 9, 'x/s', { goal: { better: 'higher', limit: 10, text: '' } }).met).toBe(false);
  });

  it('renders every figure with its baseline, ratio and goal in the Markdown table', () => {
    const report: BenchReport = {
      startedAt: '2026-11-26T08:00:00.000Z',
      finishedAt: '2026-11-26T08:01:00.000Z',
      mode: 'quick',
      machine: {
        cpus: 2,
        cpuModel: 'test',
        memGb: 4,
        node: 'v20',
        platform: 'linux x64',
        loadavgStart: [1, 1, 1],
        loadavgEnd: [2, 2, 2],
      },
      scenarios: [
        {
          name: 'ingest',
          title: 'Health ingest',
          status: 'ok',
          durationMs: 1000,
          notes: ['a note'],
          figures: [
            figure('ingest.max', 'health ingest', 400, 'msg/s', {
              baseline: { label: 'raw aedes QoS 1', value: 1000, unit: 'msg/s' },
              goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw aedes' },
            }),
          ],
        },
        {
          name: 'agent',
          title: 'Agent',
          status: 'failed',
          durationMs: 5,
          error: 'Error: boom\n  at x',
          figures: [],
          notes: [],
        },
      ],
    };
    const md = toMarkdown(report);
    expect(md).toContain(
      '| ingest | health ingest | 400 msg/s | 1000 msg/s (raw aedes QoS 1) | 0.4× | ≥ 0.5× raw aedes | **no** |',
    );
    expect(md).toContain('| agent | failed: Error: boom |');
    // A fixed goal shows in the Goal column only.
    report.scenarios[1]!.figures = [
      figure('agent.rss', 'idle RSS', 64.8, 'MB', { goal: { better: 'lower', limit: 70, text: '≤ 70 MB' } }),
    ];
    expect(toMarkdown(report)).toContain('| agent | idle RSS | 64.8 MB | — | — | ≤ 70 MB | yes |');
    expect(md).toContain('- a note');
    expect(md).toContain('load average at start 1 / 1 / 1');
  });
});

describe('process sampling', () => {
  it('reads this process and a child (with its children) from /proc', { timeout: 60_000 }, async () => {
    const self = readProcess('self');
    expect(self.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    // a shell that starts a busy child: the tree reading must see the child's CPU and memory. The
    // child spins until it has used 1 s of CPU (not for a wall-clock time: on a loaded machine a
    // wall-clock loop may get little CPU), so the sampler sees most of it.
    const sh = spawn(
      'sh',
      ['-c', 'node -e "while(process.cpuUsage().user+process.cpuUsage().system<1000000){}" & wait'],
      { stdio: 'ignore' },
    );
    try {
      const pid = sh.pid as number;
      const sampler = new ProcessSampler(pid, 100, true);
      sampler.start();
      await new Promise((r) => sh.once('exit', r));
      const p = sampler.stop();
      expect(p.samples).toBeGreaterThan(2);
      // the shell alone uses a few ms: at least 300 ms means the child was counted (all but what the
      // last, possibly late, sampling interval missed)
      expect(p.cpuMs).toBeGreaterThan(300);
      expect(p.rssPeakMb).toBeGreaterThan(10);
      expect(() => readProcessTree(pid)).toThrow();
    } finally {
      sh.kill();
    }
  });
});
