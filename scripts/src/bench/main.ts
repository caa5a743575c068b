/**
 * `npm run bench [-- --quick] [--only a,b] [--out DIR]`: runs the benchmark scenarios, each figure
 * beside a baseline measured in the same run, and writes results/latest.json and latest.md
 * (or results/only.json/.md with --only). Loopback only; every scenario is bounded in count and
 * time and the process exits by itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Scenario, Unavailable } from './harness.js';
import { type BenchReport, machineInfo, type ScenarioRecord, writeReport } from './report.js';
import { SCENARIOS } from './scenarios/index.js';
import { round } from './stats.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const HELP = `Usage: npm run bench -- [options]

Runs Loa's benchmarks on 127.0.0.1, each figure beside a baseline measured in the same run.

Options:
  --quick          smaller counts, the whole run under two minutes
  --only NAMES     comma-separated scenario names (see --list)
  --out DIR        results directory (default scripts/bench/results)
  --list           list the scenarios and exit
  -h, --help       this help

Examples:
  npm run bench -- --quick
  npm run bench -- --only fanout,verify
`;

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

async function runScenario(s: Scenario, quick: boolean): Promise<ScenarioRecord> {
  const tmpDir = mkdtempSync(join(tmpdir(), `loa-bench-${s.name}-`));
  const budgetMs = quick ? s.budgetMs.quick : s.budgetMs.full;
  const started = performance.now();
  const log = (m: string) => process.stdout.write(`  [${s.name}] ${m}\n`);
  const hardLimit = budgetMs * 3 + 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      s.run({ quick, log, tmpDir, budgetMs }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`scenario exceeded its hard limit of ${hardLimit} ms`)),
          hardLimit,
        );
      }),
    ]);
    return { name: s.name, title: s.title, status: 'ok', durationMs: performance.now() - started, ...result };
  } catch (e) {
    const durationMs = performance.now() - started;
    if (e instanceof Unavailable)
      return { name: s.name, title: s.title, status: 'partial', durationMs, error: e.message, ...e.partial };
    const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { name: s.name, title: s.title, status: 'failed', durationMs, error, figures: [], notes: [] };
  } finally {
    clearTimeout(timer);
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  const options = {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  try {
    args = parseArgs({ options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    usage((e as Error).message);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(14)} ${s.title}\n`);
    return;
  }
  let selected = SCENARIOS;
  if (args.only !== undefined) {
    const names = args.only
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (!names.length || unknown.length)
      usage(
        `unknown scenario ${unknown.join(', ') || '(none given)'}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
      );
    selected = SCENARIOS.filter((s) => names.includes(s.name));
  }
  const quick = args.quick === true;
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  process.stdout.write(
    `Loa benchmarks (${quick ? 'quick' : 'full'}), ${machine.cpus} CPUs, load ${machine.loadavgStart.join(' ')}\n`,
  );
  const records: ScenarioRecord[] = [];
  for (const s of selected) {
    process.stdout.write(`• ${s.name}: ${s.title}\n`);
    const rec = await runScenario(s, quick);
    records.push(rec);
    for (const f of rec.figures ?? [])
      process.stdout.write(
        `  ${f.label}: ${round(f.value)} ${f.unit}${f.baseline ? ` vs ${round(f.baseline.value)} ${f.baseline.unit}` : ''}` +
          `${f.ratio !== undefined ? ` → ${round(f.ratio)}×` : ''}${f.goal ? ` (goal ${f.goal.text}: ${f.met ? 'met' : 'MISSED'})` : ''}\n`,
      );
    if (rec.status !== 'ok') process.stdout.write(`  ${rec.status}: ${(rec.error ?? '').split('\n')[0]}\n`);
  }
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { ...machine, loadavgEnd: loadavg().map(round) },
    scenarios: records,
  };
  const out = args.out ? resolve(args.out) : join(repoRoot, 'scripts/bench/results');
  const written = writeReport(out, args.only ? 'only' : 'latest', report);
  process.stdout.write(`Results: ${written.json}\n         ${written.md}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
