/**
 * Damaged segment lines are never skipped silently: each one is copied (once) to
 * `<dir>/quarantine.ndjson` with where it was found, and reported to the owner (log + metric).
 * The original stays where it is: nothing already stored is deleted.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

export interface DamageReport {
  /** Segment directory (health, proofs, audit). */
  dir: string;
  file: string;
  offset: number;
  /** Why the line was set aside. */
  reason: 'unparsable' | 'torn-tail' | 'failed-write';
  bytes: number;
}

export const QUARANTINE_FILE = 'quarantine.ndjson';

export class Quarantine {
  private readonly seen = new Set<string>();
  private loaded = false;
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly dir: string,
    private readonly onDamage: (d: DamageReport) => void = () => {},
  ) {}

  get path(): string {
    return join(this.dir, QUARANTINE_FILE);
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    const text = await fsp.readFile(this.path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as { file?: string; offset?: number; reason?: string };
        this.seen.add(`${r.file}:${r.offset}:${r.reason}`);
      } catch {
        // a torn quarantine line: the next report rewrites its entry
      }
    }
  }

  /** Records a damaged line (once per file, offset and reason) and reports it. */
  report(file: string, offset: number, data: string | Buffer, reason: DamageReport['reason']): Promise<void> {
    const next = this.chain.then(async () => {
      await this.load();
      const key = `${file}:${offset}:${reason}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      const entry = {
        file,
        offset,
        reason,
        foundAt: new Date().toISOString(),
        bytes: buf.length,
        data: buf.toString('base64'),
      };
      await fsp.appendFile(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      this.onDamage({ dir: this.dir, file, offset, reason, bytes: buf.length });
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** Waits for pending reports. */
  async settle(): Promise<void> {
    await this.chain;
  }
}
