/**
 * Progress of a long copy: on a terminal a bar redrawn in place (at most ten times a second);
 * elsewhere (a log, CI, a pipe) one line when a phase starts and one when it ends, so a log
 * stays short.
 */
import type { Io } from '../cli/spec.js';
import { tr } from '../cli/spec.js';
import type { Progress } from './write.js';

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const WIDTH = 30;

export class ProgressReporter {
  private phase: Progress['phase'] | undefined;
  private phaseStart = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly io: Io) {}

  private label(phase: Progress['phase']): string {
    return phase === 'write'
      ? tr(this.io, { vi: 'Ghi     ', en: 'Writing ' })
      : tr(this.io, { vi: 'Kiểm tra', en: 'Verifying' });
  }

  update(p: Progress): void {
    const now = this.io.now().getTime();
    if (p.phase !== this.phase) {
      this.finishLine();
      this.phase = p.phase;
      this.phaseStart = now;
      if (!this.io.isTty)
        this.io.err(
          p.phase === 'write'
            ? tr(this.io, {
                vi: `đang ghi ảnh${p.total ? ` (${formatBytes(p.total)})` : ''}…`,
                en: `writing the image${p.total ? ` (${formatBytes(p.total)})` : ''}…`,
              })
            : tr(this.io, {
                vi: `đang đọc lại để kiểm tra (${formatBytes(p.total ?? 0)})…`,
                en: `reading back to verify (${formatBytes(p.total ?? 0)})…`,
              }),
        );
    }
    if (!this.io.isTty || !this.io.errRaw) return;
    const complete = p.total !== undefined && p.done >= p.total;
    if (!complete && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const secs = Math.max((now - this.phaseStart) / 1000, 0.001);
    const rate = `${formatBytes(p.done / secs)}/s`;
    let bar: string;
    if (p.total) {
      const f = Math.min(1, p.done / p.total);
      const n = Math.round(f * WIDTH);
      bar = `[${'#'.repeat(n)}${'.'.repeat(WIDTH - n)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${formatBytes(p.done)} / ${formatBytes(p.total)}`;
    } else bar = `${formatBytes(p.done)}`;
    this.io.errRaw(`\r${this.label(p.phase)} ${bar}  ${rate}\x1b[K`);
    this.drawn = true;
  }

  /** Ends the bar's line (call before printing anything else). */
  finishLine(): void {
    if (this.drawn && this.io.errRaw) this.io.errRaw('\n');
    this.drawn = false;
  }

  /** Milliseconds since the current phase started. */
  elapsedMs(): number {
    return this.io.now().getTime() - this.phaseStart;
  }
}
