/** Types shared by the benchmark runner and its scenarios. */

export type Better = 'lower' | 'higher';

/**
 * A goal is judged either on the ratio to a baseline measured in the same run (`ratio`), or, for
 * a figure with no baseline to compare with, on the value itself (`limit`, in the figure's unit).
 * A constant limit is a goal, never a baseline: the table shows it in the Goal column only.
 */
export type Goal = {
  better: Better;
  text: string;
} & (
  | {
      /** For `lower`: figure ÷ baseline must be ≤ this; for `higher`: ≥ this. */
      ratio: number;
      limit?: undefined;
    }
  | {
      /** For `lower`: the figure must be ≤ this; for `higher`: ≥ this. */
      limit: number;
      ratio?: undefined;
    }
);

export interface Measure {
  label: string;
  value: number;
  unit: string;
}

export interface Figure {
  id: string;
  label: string;
  value: number;
  unit: string;
  baseline?: Measure;
  /** value / baseline.value */
  ratio?: number;
  goal?: Goal;
  met?: boolean;
  note?: string;
}

export function figure(
  id: string,
  label: string,
  value: number,
  unit: string,
  extra: { baseline?: Measure; goal?: Goal; note?: string } = {},
): Figure {
  const f: Figure = { id, label, value, unit };
  if (extra.note) f.note = extra.note;
  if (extra.baseline) {
    f.baseline = extra.baseline;
    if (extra.baseline.value > 0 && Number.isFinite(value)) f.ratio = value / extra.baseline.value;
  }
  const goal = extra.goal;
  if (goal) {
    f.goal = goal;
    const judged =
      goal.limit !== undefined
        ? { v: value, bound: goal.limit }
        : f.ratio !== undefined
          ? { v: f.ratio, bound: goal.ratio }
          : undefined;
    if (judged && Number.isFinite(judged.v))
      f.met = goal.better === 'lower' ? judged.v <= judged.bound : judged.v >= judged.bound;
  }
  return f;
}

export interface BenchContext {
  quick: boolean;
  log(message: string): void;
  /** Scratch directory for this scenario, removed afterwards. */
  tmpDir: string;
  /** Wall-clock budget for the scenario (ms); loops stop when it runs out. */
  budgetMs: number;
}

export interface ScenarioResult {
  figures: Figure[];
  /** Free-form details: profiles, parameters, what was compressed or missing. */
  notes: string[];
  details?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  title: string;
  /** Budget in quick and full mode (ms). */
  budgetMs: { quick: number; full: number };
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/** Thrown by a scenario whose system under test is not available; the baseline figures stand. */
export class Unavailable extends Error {
  constructor(
    message: string,
    readonly partial?: ScenarioResult,
  ) {
    super(message);
    this.name = 'Unavailable';
  }
}

/** Resolves when `cond()` is true, polling; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function deadline(ctx: BenchContext, share = 1): () => boolean {
  const end = performance.now() + ctx.budgetMs * share;
  return () => performance.now() > end;
}
