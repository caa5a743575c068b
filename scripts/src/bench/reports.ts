/**
 * `npm run bench:reports [-- --full]`: the report benchmark alone. Default: 20 communes × 50
 * devices × 183 days; `--full`: 100 communes × 100 devices (10,000) × 365 days. Writes nothing
 * outside a temporary directory, which it removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runReportBench } from './scenarios/reports.js';
import { round } from './stats.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean' },
    'cache-mib': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: npm run bench:reports -- [--full] [--cache-mib N]\n  --full         10,000 devices and a year (several minutes, ~6 GB of segments)\n  --cache-mib N  bound of the fold cache in the bounded run (default: the report service's)\n",
  );
  process.exit(0);
}
const size = values.full
  ? { communes: 100, devicesPerCommune: 100, days: 365 }
  : { communes: 20, devicesPerCommune: 50, days: 183 };
const dir = mkdtempSync(join(tmpdir(), 'loa-bench-reports-'));
try {
  const mib = values['cache-mib'] === undefined ? undefined : Number(values['cache-mib']);
  if (mib !== undefined && !(mib > 0)) throw new Error('--cache-mib takes a positive number');
  const r = await runReportBench(
    dir,
    size,
    (m) => process.stdout.write(`  ${m}\n`),
    mib === undefined ? undefined : mib * 1048576,
  );
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
  rmSync(dir, { recursive: true, force: true });
}
