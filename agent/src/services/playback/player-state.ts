/**
 * What the player remembers between plans: items done (played, failed, skipped) and items
 * interrupted with their position, persisted atomically so a restart does not replay them.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@loa/protocol/fs';
import { z } from 'zod';

const StateSchema = z.strictObject({
  done: z.array(z.tuple([z.string(), z.number()])),
  partial: z.array(z.tuple([z.string(), z.number()])),
});

/** Keys older than this (by when they were recorded) are forgotten. */
const KEEP_MS = 3 * 86_400_000;

export class PlayerState {
  readonly done = new Map<string, number>();
  readonly partial = new Map<string, number>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly file?: string) {}

  async load(): Promise<'loaded' | 'absent' | 'corrupt'> {
    if (!this.file) return 'absent';
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch {
      return 'absent';
    }
    try {
      const s = StateSchema.parse(JSON.parse(raw));
      for (const [k, at] of s.done) this.done.set(k, at);
      for (const [k, pos] of s.partial) this.partial.set(k, pos);
      return 'loaded';
    } catch {
      return 'corrupt';
    }
  }

  markDone(key: string, at: number): void {
    this.done.set(key, at);
    this.partial.delete(key);
    this.dirty = true;
  }

  setPartial(key: string, positionMs: number): void {
    this.partial.set(key, Math.max(0, Math.round(positionMs)));
    this.dirty = true;
  }

  clearPartial(key: string): void {
    if (this.partial.delete(key)) this.dirty = true;
  }

  prune(now: number): void {
    for (const [k, at] of this.done) {
      if (now - at > KEEP_MS) {
        this.done.delete(k);
        this.dirty = true;
      }
    }
  }

  /** Writes the state if it changed (temp file, fsync, rename, fsync of the directory). */
  save(): Promise<void> {
    const file = this.file;
    if (!file || !this.dirty) return this.writing;
    this.dirty = false;
    const body = JSON.stringify({ done: [...this.done], partial: [...this.partial] });
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        await writeFileAtomic(file, body, 0o600);
      });
    return this.writing;
  }
}
