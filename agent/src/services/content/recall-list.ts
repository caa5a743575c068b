/**
 * The bundles this station was told to withdraw (signed recalls, protocol/src/recall.ts), kept in
 * `recalled.json` beside the bundle pointer and written with writeJsonAtomic before the pointer
 * changes: after a power cut the recall is remembered, so a later notify, emergency or USB import
 * of that bundle is refused. Entries are kept until a day after the recalled bundle expires (it
 * cannot play after that anyway), at most MAX_RECALLS.
 */
import { type Manifest, type Recall, type Role, RoleSchema, recallCovers } from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readJsonFile } from '../system/data-dir.js';

export const MAX_RECALLS = 1000;
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

const RecallEntrySchema = z.object({
  recallId: z.string(),
  bundleId: z.string(),
  channel: z.string(),
  version: z.number().int(),
  roles: z.array(RoleSchema),
  reason: z.string(),
  expires: z.string(),
  digest: z.string(),
  at: z.string(),
});
export type RecallEntry = z.infer<typeof RecallEntrySchema>;
const RecallFileSchema = z.object({ format: z.literal(1), recalls: z.array(RecallEntrySchema) });

export class RecallList {
  #entries = new Map<string, RecallEntry>();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    try {
      const f = await readJsonFile(this.path, RecallFileSchema);
      this.#entries = new Map((f?.recalls ?? []).map((e) => [e.bundleId, e] as const));
    } catch (err) {
      // the server re-sends every live recall when the station reconnects
      this.log.error({ err, code: 'RECALLS_UNREADABLE' }, 'recall list unreadable; starting without it');
      this.#entries = new Map();
    }
  }

  get(bundleId: string): RecallEntry | undefined {
    return this.#entries.get(bundleId);
  }

  list(): RecallEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * The recall that forbids this bundle, if any. A recall whose roles do not cover what the
   * bundle needs (a content key naming an emergency bundle it never saw) does not count.
   */
  blocking(m: Pick<Manifest, 'id' | 'items'>): RecallEntry | undefined {
    const e = this.#entries.get(m.id);
    return e && recallCovers(e.roles as Role[], m) ? e : undefined;
  }

  /** Records a verified recall durably (then prunes expired entries). */
  async add(recall: Recall, digest: string, nowMs: number): Promise<RecallEntry> {
    const entry: RecallEntry = {
      recallId: recall.id,
      bundleId: recall.bundleId,
      channel: recall.channel,
      version: recall.version,
      roles: [...recall.roles],
      reason: recall.reason,
      expires: recall.expires,
      digest,
      at: new Date(nowMs).toISOString(),
    };
    const next = new Map(this.#entries);
    next.set(entry.bundleId, entry);
    for (const [id, e] of next)
      if (Date.parse(e.expires) + KEEP_AFTER_EXPIRY_MS <= nowMs && id !== entry.bundleId) next.delete(id);
    const kept = [...next.values()].sort((a, b) => a.at.localeCompare(b.at)).slice(-MAX_RECALLS);
    await writeJsonAtomic(this.path, { format: 1, recalls: kept }, 0o644);
    this.#entries = new Map(kept.map((e) => [e.bundleId, e] as const));
    return entry;
  }
}
