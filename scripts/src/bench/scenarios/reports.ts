/**
 * Reports on a generated province: the effectiveness report of one commune over a quarter and of
 * the province over the whole generated span, cold (folding the stream's windows) and warm (folds
 * kept), beside a raw scan (read + parse) of the same proof and presence lines. The default run is
 * small; `npm run bench:reports -- --full` generates 10,000 devices and a year.
 */
import { periodOf } from '@loa/fleet-server';
import { figure, type Scenario } from '../harness.js';
import { generateProvince, measureReports, type ProvinceSize } from '../report-province.js';
import { round } from '../stats.js';

export async function runReportBench(
  dir: string,
  size: ProvinceSize,
  log: (m: string) => void,
  cacheMaxBytes?: number,
): Promise<{ figures: ReturnType<typeof figure>[]; notes: string[] }> {
  const t0 = performance.now();
  const p = await generateProvince(dir, size, log);
  const genMs = performance.now() - t0;
  try {
    const f = await measureReports(p, periodOf, log, cacheMaxBytes);
    const raw = {
      label: 'raw scan (read + parse) of the same proofs and presence',
      value: f.rawScanMs,
      unit: 'ms',
    };
    return {
      notes: [
        `province: ${size.communes} communes × ${size.devicesPerCommune} devices = ${p.devices} (1 in 10 a noticeboard), ${size.days} days; ` +
          `${p.proofs} proofs and ${p.presence} presence events (${round(p.bytes / 1048576)} MiB of segments) generated in ${round(genMs / 1000)} s.`,
        `raw scan: ${f.rawLines} lines. Cold = a report service with nothing folded yet (it reads each closed day of the stream once and keeps its fold); warm = the folds kept.`,
        `check: province audio planned ${f.check.planned}, played ${f.check.played} (${round((100 * f.check.played) / Math.max(1, f.check.planned))} %), uptime ${round(100 * (f.check.uptime ?? 0))} %; heap after ${round(f.heapMb)} MiB.`,
      ],
      figures: [
        figure(
          'reports.commune-quarter.warm',
          'effectiveness, one commune × a quarter (folds kept)',
          f.communeQuarterWarmMs,
          'ms',
          {
            baseline: raw,
            goal: { better: 'lower', limit: 1000, text: '< 1 s' },
          },
        ),
        figure(
          'reports.commune-quarter.cold',
          'effectiveness, one commune × a quarter (cold)',
          f.communeQuarterColdMs,
          'ms',
          { baseline: raw },
        ),
        figure(
          'reports.province-year.warm',
          `effectiveness, province × ${size.days} days (folds kept)`,
          f.provinceYearWarmMs,
          'ms',
          {
            baseline: raw,
            goal: { better: 'lower', limit: 30_000, text: '< 30 s' },
          },
        ),
        figure(
          'reports.province-year.cold',
          `effectiveness, province × ${size.days} days (cold)`,
          f.provinceYearColdMs,
          'ms',
          {
            baseline: raw,
            goal: { better: 'lower', limit: 30_000, text: '< 30 s' },
          },
        ),
        figure('reports.raw-scan', 'raw scan of the proofs and presence', f.rawScanMs, 'ms'),
        figure(
          'reports.cache.heap',
          `heap kept by the fold cache after the province report, bounded at ${round(f.cache.boundBytes / 1048576)} MiB`,
          f.cache.bounded.heapMb,
          'MiB',
          {
            baseline: {
              label: 'the same with the cache unbounded',
              value: f.cache.unbounded.heapMb,
              unit: 'MiB',
            },
            note: `estimate ${round(f.cache.bounded.estimatedMb)} MiB (unbounded: ${round(f.cache.unbounded.estimatedMb)} MiB); ${f.cache.bounded.entries} folds kept, ${f.cache.bounded.evictions} dropped, ${f.cache.bounded.refused} not kept`,
          },
        ),
        figure(
          'reports.plays.pages',
          `plays of the province over a quarter, ${f.plays.pages} pages of ${f.plays.pageLines} lines, each resuming at its cursor`,
          f.plays.cursorMs,
          'ms',
          {
            baseline: {
              label: 'the same pages each read from the period’s start (before the cursor)',
              value: f.plays.fromStartMs,
              unit: 'ms',
            },
            note: `${f.plays.lines} lines`,
          },
        ),
        figure(
          'reports.cache.province-warm',
          `effectiveness, province × ${size.days} days, second run on the bounded cache`,
          f.cache.bounded.warmMs,
          'ms',
          {
            baseline: {
              label: 'the same with the cache unbounded',
              value: f.cache.unbounded.warmMs,
              unit: 'ms',
            },
          },
        ),
      ],
    };
  } finally {
    await p.store.stop();
  }
}

export const reports: Scenario = {
  name: 'reports',
  title: 'Effectiveness reports on a generated province, beside a raw scan of the same data',
  budgetMs: { quick: 60_000, full: 240_000 },
  async run(ctx) {
    const size = ctx.quick
      ? { communes: 10, devicesPerCommune: 20, days: 92 }
      : { communes: 20, devicesPerCommune: 50, days: 183 };
    return runReportBench(ctx.tmpDir, size, ctx.log);
  },
};
