/**
 * `npm run bench:reports [-- --full]`: the report benchmark alone. Default: 20 communes × 50
 * devices × 183 days; `--full`: 100 communes × 100 devices (10,000) × 365 days. Writes nothing
 * outside a temporary directory, which it removes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateProvince, openProvince } from './report-province.js';
import { runReportBench } from './scenarios/reports.js';
import { round } from './stats.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean' },
    communes: { type: 'string' },
    devices: { type: 'string' },
    days: { type: 'string' },
    'raw-source': { type: 'boolean' },
    'cache-mib': { type: 'string' },
    data: { type: 'string' },
    'generate-only': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: npm run bench:reports -- [--full] [--cache-mib N]\n  --full         10,000 devices and a year (~7 GB of segments; an hour or more on a loaded machine)\n  --communes N --devices N --days N   another size (devices per commune)\n  --raw-source   also time the commune-quarter report from the raw streams (default except --full)\n  --cache-mib N  bound of the fold cache in the bounded run (default: the report service's)\n  --data DIR     generate into DIR and keep it; a later run with the same size reuses it (removed by hand)\n  --generate-only  with --data: generate (or check) the province, measure nothing\n",
  );
  process.exit(0);
}
const base = values.full
  ? { communes: 100, devicesPerCommune: 100, days: 365 }
  : { communes: 20, devicesPerCommune: 50, days: 183 };
const num = (v: string | undefined, d: number) => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive whole number: ${v}`);
  return n;
};
const size = {
  communes: num(values.communes, base.communes),
  devicesPerCommune: num(values.devices, base.devicesPerCommune),
  days: num(values.days, base.days),
};
const kept = values.data;
const dir = kept ?? mkdtempSync(join(tmpdir(), 'loa-bench-reports-'));
if (kept !== undefined) mkdirSync(kept, { recursive: true });
if (values['generate-only']) {
  if (kept === undefined) throw new Error('--generate-only needs --data DIR');
  const t = performance.now();
  const p =
    (await openProvince(kept, size)) ??
    (await generateProvince(kept, size, (m) => process.stdout.write(`  ${m}\n`)));
  await p.store.stop();
  process.stdout.write(
    `province in ${kept}: ${p.devices} devices, ${p.proofs} proofs, ${p.presence} presence events, ${round(p.bytes / 1048576)} MiB (${round((performance.now() - t) / 1000)} s)\n`,
  );
  process.exit(0);
}
try {
  const mib = values['cache-mib'] === undefined ? undefined : Number(values['cache-mib']);
  if (mib !== undefined && !(mib > 0)) throw new Error('--cache-mib takes a positive number');
  const r = await runReportBench(dir, size, (m) => process.stdout.write(`  ${m}\n`), {
    // the raw-stream path's own figures (fold cache, plays from the start) take hours at the full size
    extras: !values.full && values.communes === undefined && values.days === undefined,
    rawSource: values['raw-source'] === true || !values.full,
    ...(mib === undefined ? {} : { cacheMaxBytes: mib * 1048576 }),
    reuse: kept !== undefined,
  });
  for (const n of r.notes) process.stdout.write(`${n}\n`);
  for (const f of r.figures)
    process.stdout.write(
      `${f.label}: ${round(f.value)} ${f.unit}` +
        (f.baseline
          ? ` (${f.baseline.label.startsWith('raw scan') ? 'raw scan' : f.baseline.label} ${round(f.baseline.value)} ${f.baseline.unit ?? f.unit}, ×${round(f.ratio ?? 0)})`
          : '') +
        (f.note ? ` [${f.note}]` : '') +
        (f.goal ? ` goal ${f.goal.text}: ${f.met ? 'met' : 'NOT met'}` : '') +
        '\n',
    );
} finally {
  if (kept === undefined) rmSync(dir, { recursive: true, force: true });
}
