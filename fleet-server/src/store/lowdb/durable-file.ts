/**
 * The registry file as a lowdb adapter with crash-safe writes (`writeFileAtomic` of
 * `@loa/protocol/fs`: temp file, fsync, rename, fsync dir). lowdb's own TextFile adapter renames
 * without fsync, so a power cut could leave an empty or old file; this adapter never leaves a
 * torn registry.
 */
import { promises as fsp } from 'node:fs';
import { LoaError } from '@loa/protocol';
import { removeStaleTemps, writeFileAtomic } from '@loa/protocol/fs';
import type { Adapter } from 'lowdb';

/** Reads JSON, or null when the file does not exist; REGISTRY_CORRUPT when it is not JSON. */
export async function readJsonFile<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new LoaError(
      'REGISTRY_CORRUPT',
      `tệp ${path} bị hỏng (không phải JSON); khôi phục từ bản sao lưu`,
      {
        cause,
      },
    );
  }
}

/** lowdb adapter with fsync'd atomic writes; counts writes and bytes for metrics. */
export class DurableJsonFile<T> implements Adapter<T> {
  writes = 0;
  bytes = 0;
  constructor(private readonly path: string) {}

  async read(): Promise<T | null> {
    await removeStaleTemps(this.path);
    return readJsonFile<T>(this.path);
  }

  async write(data: T): Promise<void> {
    this.bytes += await writeFileAtomic(this.path, JSON.stringify(data), { mode: 0o600 });
    this.writes++;
  }
}
