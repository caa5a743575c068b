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

async function exists(path: string): Promise<boolean> {
  return fsp.stat(path).then(
    () => true,
    () => false,
  );
}

/** lowdb adapter with fsync'd atomic writes; counts writes and bytes for metrics. */
export class DurableJsonFile<T> implements Adapter<T> {
  writes = 0;
  bytes = 0;
  constructor(private readonly path: string) {}

  /**
   * The stored document, or null when the file does not exist (a fresh data dir). A file that
   * exists but holds no object (`null`, a number, an array) is corrupt, never "empty": taking it
   * as empty would start over (and print a new administrator password) on top of real data.
   */
  async read(): Promise<T | null> {
    await removeStaleTemps(this.path);
    const data = await readJsonFile<unknown>(this.path);
    if (data === null && !(await exists(this.path))) return null;
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new LoaError(
        'REGISTRY_CORRUPT',
        `tệp ${this.path} không chứa dữ liệu hợp lệ (${data === null ? 'null' : typeof data}); máy chủ không khởi động để không ghi đè dữ liệu — khôi phục từ bản sao lưu`,
      );
    return data as T;
  }

  async write(data: T): Promise<void> {
    this.bytes += await writeFileAtomic(this.path, JSON.stringify(data), { mode: 0o600 });
    this.writes++;
  }
}
