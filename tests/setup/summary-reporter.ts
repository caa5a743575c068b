/**
 * Repeats, on the last lines of a run, what failed and what was skipped (with the reason, when the
 * test gave one): a CI log is read from the bottom, and the default reporter prints the failing
 * test names in the middle, before the error details. Added after 'default' in vitest.config.ts.
 */
import { relative } from 'node:path';
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private text = '';

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): void {
    const failed: string[] = [];
    const skipped: string[] = [];
    for (const m of modules) {
      const file = relative(process.cwd(), m.moduleId);
      // Errors outside a test: the file failed to load, or a beforeAll/afterAll hook failed.
      for (const e of m.errors()) failed.push(`${file}: ${e.name ?? 'Error'}: ${oneLine(e.message)}`);
      for (const s of m.children.allSuites()) {
        for (const e of s.errors()) failed.push(`${file} > ${s.fullName}: ${oneLine(e.message)}`);
      }
      for (const t of m.children.allTests()) {
        const r = t.result();
        const name = `${file} > ${t.fullName}`;
        if (r.state === 'failed') {
          const e = r.errors?.[0];
          failed.push(`${name}${e ? `  (${oneLine(e.message)})` : ''}`);
        } else if (r.state === 'skipped') {
          skipped.push(`${name}${r.note ? `  (${r.note})` : ''}`);
        }
      }
    }
    const out: string[] = [];
    if (skipped.length > 0) {
      out.push(
        `SKIPPED ${skipped.length} test(s) (skipped here, or not run because a hook before them failed):`,
      );
      for (const s of skipped) out.push(`  SKIP ${s}`);
    }
    if (unhandledErrors.length > 0) {
      out.push(`UNHANDLED ${unhandledErrors.length} error(s) outside any test (details above):`);
      for (const e of unhandledErrors) out.push(`  ${e.name ?? 'Error'}: ${oneLine(e.message)}`);
    }
    if (failed.length > 0) {
      out.push(`FAILED ${failed.length}:`);
      for (const f of failed) out.push(`  FAIL ${f}`);
    }
    this.text = out.length > 0 ? `\n${out.join('\n')}\n` : '';
  }

  /** Called after onTestRunEnd, in reporter order: after the default reporter's summary. */
  onFinished(): void {
    if (this.text) process.stdout.write(this.text);
  }
}

function oneLine(s: string | undefined): string {
  // The message on one line (a multi-line message often has its point on the second line).
  const line = (s ?? '').replace(/\s*\n\s*/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
