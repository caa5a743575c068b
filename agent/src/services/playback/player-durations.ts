/**
 * Lengths of audio blobs whose items carry no durationMs, probed once per blob (the real driver:
 * ffprobe), so the planner knows how long they play.
 */
import type { Logger } from 'pino';
import type { PlanBundle } from '../../domain/scheduler/types.js';

export class DurationProbe {
  /** Probed lengths by blob sha256, ms. */
  readonly durations = new Map<string, number>();
  private readonly probing = new Set<string>();

  constructor(
    private readonly probe: ((path: string) => Promise<number | undefined>) | undefined,
    private readonly log: Logger,
    /** A length became known. */
    private readonly onProbed: () => void,
  ) {}

  /** Probes what the bundles' audio items lack (each blob once). */
  update(bundles: readonly PlanBundle[]): void {
    const probe = this.probe;
    if (!probe) return;
    for (const b of bundles) {
      for (const it of b.manifest.items) {
        if (it.kind !== 'audio' || it.durationMs !== undefined || !it.blob) continue;
        const sha = it.blob.sha256;
        if (this.durations.has(sha) || this.probing.has(sha)) continue;
        this.probing.add(sha);
        probe(`${b.blobDir.replace(/\/+$/, '')}/${sha}`)
          .then((ms) => {
            if (ms !== undefined && ms > 0) {
              this.durations.set(sha, ms);
              this.onProbed();
            }
          })
          .catch((err: unknown) => this.log.warn({ err, sha }, 'duration probe failed'))
          .finally(() => this.probing.delete(sha));
      }
    }
  }
}
