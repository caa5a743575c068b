/**
 * Reports on a generated province: the effectiveness report of one commune over a quarter and of
 * the province over the whole generated span, read from the stored rollups (first call on a new
 * report service, and the same call again), beside a raw scan (read + parse) of the same proof and
 * presence lines, with the rollups' build time from scratch and for one day as it closes. The
 * default run is 1,000 devices × 183 days (and also times the raw-stream path it replaces);
 * `npm run bench:reports -- --full` generates 10,000 devices and a year.
 */
import { availableParallelism } from 'node:os';
import { periodOf } from '@loa/fleet-server';
import { figure, type Scenario } from '../harness.js';
import { generateProvince, measureReports, openProvince, type ProvinceSize } from '../report-province.js';
import { round } from '../stats.js';

export async function runReportBench(
  dir: string,
  size: ProvinceSize,
  log: (m: string) => void,
  opts: { extras: boolean; rawSource?: boolean; cacheMaxBytes?: number; reuse?: boolean } = { extras: true },
): Promise<{ figures: ReturnType<typeof figure>[]; notes: string[] }> {
  const t0 = performance.now();
  const kept = opts.reuse ? await openProvince(dir, size) : null;
  if (kept) log(`opened the province generated before in ${dir}`);
  const p = kept ?? (await generateProvince(dir, size, log));
  const genMs = performance.now() - t0;
  log(
    `${kept ? 'opened' : 'generated'} in ${round(genMs / 1000)} s: ${p.proofs} proofs, ${p.presence} presence events, ${round(p.bytes / 1048576)} MiB`,
  );
  try {
    const repeats =
      size.communes * size.devicesPerCommune >= 5000
        ? { commune: 5, province: 2 }
        : { commune: 5, province: 3 };
    const f = await measureReports(p, dir, periodOf, log, {
      extras: opts.extras,
      rawSource: opts.rawSource ?? opts.extras,
      repeats,
      ...(opts.cacheMaxBytes !== undefined ? { cacheMaxBytes: opts.cacheMaxBytes } : {}),
    });
    const raw = {
      label: 'raw scan (read + parse) of the same proofs and presence',
      value: f.rawScanMs,
      unit: 'ms',
    };
    const notes = [
      `province: ${size.communes} communes × ${size.devicesPerCommune} devices = ${p.devices} (1 in 10 a noticeboard), ${size.days} days; ` +
        `${p.proofs} proofs and ${p.presence} presence events (${round(p.bytes / 1048576)} MiB of segments) ${kept ? 'generated before, opened' : 'generated'} in ${round(genMs / 1000)} s.`,
      `raw scan: ${f.rawLines} lines. Rollups: ${f.rollupFiles} files, ${round(f.rollupBytes / 1048576)} MiB. ` +
        `First call = a new report service (nothing in memory; rollups built), median of ${f.repeats.commune} (commune) and ${f.repeats.province} (province) runs; cached = the same call again on that service.`,
      `CPU time (process, user + system): raw scan ${round(f.cpu.rawScanMs)} ms, rollups from scratch ${round(f.cpu.rollupScratchMs)} ms, ` +
        `province first call ${round(f.cpu.provinceYearFirstMs)} ms (from every device's figures ${round(f.cpu.provinceYearDevicesMs)} ms); ` +
        `load average (1 min) ${round(f.loadRange[0])}–${round(f.loadRange[1])} on ${availableParallelism()} cores.`,
      `check: province audio planned ${f.check.planned}, played ${f.check.played} (${round((100 * f.check.played) / Math.max(1, f.check.planned))} %), uptime ${round(100 * (f.check.uptime ?? 0))} %; heap after ${round(f.heapMb)} MiB.`,
    ];
    const figures = [
      figure(
        'reports.commune-quarter.first',
        'effectiveness, one commune × a quarter, first call (rollups)',
        f.communeQuarterFirstMs,
        'ms',
        {
          baseline: raw,
          goal: { better: 'lower', limit: 1000, text: '< 1 s' },
        },
      ),
      figure(
        'reports.commune-quarter.cached',
        'effectiveness, one commune × a quarter, the same call again',
        f.communeQuarterCachedMs,
        'ms',
        {
          baseline: raw,
        },
      ),
      figure(
        'reports.province-year.first',
        `effectiveness, province × ${size.days} days, first call (rollups)`,
        f.provinceYearFirstMs,
        'ms',
        {
          baseline: raw,
          goal: { better: 'lower', limit: 30_000, text: '< 30 s' },
        },
      ),
      figure(
        'reports.province-year.devices',
        `effectiveness, province × ${size.days} days, first call reading every device's figures (before the part totals)`,
        f.provinceYearDevicesMs,
        'ms',
        { baseline: raw },
      ),
      figure(
        'reports.province-year.cached',
        `effectiveness, province × ${size.days} days, the same call again`,
        f.provinceYearCachedMs,
        'ms',
        {
          baseline: raw,
        },
      ),
      figure(
        'reports.rollups.scratch',
        `rollups built from scratch (${size.days - 1} days)`,
        f.rollupScratchMs,
        'ms',
        { baseline: raw },
      ),
      figure(
        'reports.rollups.day',
        'rollups of one day as it closes (at ingest)',
        f.rollupIngestDayMs,
        'ms',
        {
          baseline: {
            label: 'raw scan of one day (the scan ÷ days)',
            value: f.rawScanMs / size.days,
            unit: 'ms',
          },
        },
      ),
      figure('reports.raw-scan', 'raw scan of the proofs and presence', f.rawScanMs, 'ms'),
    ];
    if (f.communeQuarterRawSourceMs !== null)
      figures.push(
        figure(
          'reports.commune-quarter.raw-source',
          'effectiveness, one commune × a quarter, from the raw streams (before the rollups), cold',
          f.communeQuarterRawSourceMs,
          'ms',
          {
            baseline: raw,
          },
        ),
      );
    if (f.cache)
      figures.push(
        figure(
          'reports.cache.heap',
          `heap kept by the raw path's fold cache after the province report, bounded at ${round(f.cache.boundBytes / 1048576)} MiB`,
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
      );
    if (f.plays)
      figures.push(
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
      );
    return { notes, figures };
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
    return runReportBench(ctx.tmpDir, size, ctx.log, { extras: true });
  },
};
