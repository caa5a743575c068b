/** The last time retention ran on a trusted clock, one small file per segment directory. */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '@loa/protocol/fs';

export const RETENTION_MARKER = 'retention.json';

export async function readRetentionMarker(dir: string): Promise<{ lastRunAt: number } | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(join(dir, RETENTION_MARKER), 'utf8')) as { lastRunAt?: string };
    const t = Date.parse(m.lastRunAt ?? '');
    return Number.isFinite(t) ? { lastRunAt: t } : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRetentionMarker(dir: string, at: number): Promise<void> {
  await writeJsonAtomic(
    join(dir, RETENTION_MARKER),
    { lastRunAt: new Date(at).toISOString() },
    { mode: 0o600 },
  );
}
