/** Writes benchmark results as JSON and as a Markdown table (figure, baseline, ratio, goal). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Figure, ScenarioResult } from './harness.js';
import { round } from './stats.js';

export interface ScenarioRecord extends Partial<ScenarioResult> {
  name: string;
  title: string;
  status: 'ok' | 'partial' | 'failed';
  durationMs: number;
  error?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: {
    cpus: number;
    cpuModel: string;
    memGb: number;
    node: string;
    platform: string;
    loadavgStart: number[];
    loadavgEnd: number[];
  };
  scenarios: ScenarioRecord[];
}

export function machineInfo(): Omit<BenchReport['machine'], 'loadavgEnd'> {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGb: round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavgStart: loadavg().map(round),
  };
}

function fmt(v: number, unit: string): string {
  return `${round(v)} ${unit}`.trim();
}

/** Table cells must not contain a bare "|". */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function row(scenario: string, f: Figure): string {
  const baseline = f.baseline ? `${fmt(f.baseline.value, f.baseline.unit)} (${f.baseline.label})` : '—';
  const ratio = f.ratio !== undefined ? `${round(f.ratio)}×` : '—';
  const goal = f.goal ? f.goal.text : '—';
  const met = f.met === undefined ? '—' : f.met ? 'yes' : '**no**';
  const label = f.note ? `${f.label} (${f.note})` : f.label;
  return `| ${scenario} | ${cell(label)} | ${fmt(f.value, f.unit)} | ${cell(baseline)} | ${ratio} | ${cell(goal)} | ${met} |`;
}

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# Loa benchmarks (${report.mode})`,
    '',
    `Run ${report.startedAt} → ${report.finishedAt}; ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB, Node ${m.node}, ` +
      `${m.platform}; load average at start ${m.loadavgStart.join(' / ')}, at end ${m.loadavgEnd.join(' / ')}.`,
    'Every baseline was measured in the same run on the same machine. Ratio = figure ÷ baseline. ' +
      'A goal without a baseline is a fixed limit on the figure itself.',
    '',
    '| Scenario | Figure | Value | Baseline (same run) | Ratio | Goal | Met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const s of report.scenarios) {
    for (const f of s.figures ?? []) lines.push(row(s.name, f));
    if (s.status === 'failed' && !(s.figures ?? []).length)
      lines.push(`| ${s.name} | failed: ${(s.error ?? '').split('\n')[0]} | — | — | — | — | — |`);
  }
  lines.push('', '## Notes per scenario', '');
  for (const s of report.scenarios) {
    lines.push(`### ${s.name}: ${s.title}`, '', `Status: ${s.status}, ${round(s.durationMs / 1000)} s.`);
    if (s.error) lines.push('', `Error or missing part: ${s.error.split('\n')[0]}`);
    for (const n of s.notes ?? []) lines.push(`- ${n}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

export function writeReport(dir: string, base: string, report: BenchReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${base}.json`);
  const md = join(dir, `${base}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, toMarkdown(report));
  return { json, md };
}
