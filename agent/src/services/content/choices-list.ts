/**
 * The programme choices this station applies (signed `loa-choices` documents of its unit and its
 * ancestors, protocol/src/choices.ts), kept in `choices.json` beside the bundle pointer and
 * written with writeJsonAtomic before the programme changes: after a power cut the station keeps
 * applying the choices it last verified, offline for weeks included. One document per unit, the
 * highest version verified.
 */
import { type Choices, ChoicesSchema } from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readJsonFile } from '../system/data-dir.js';

const EntrySchema = z.object({ choices: ChoicesSchema, digest: z.string(), at: z.string() });
export type ChoicesEntry = z.infer<typeof EntrySchema>;
const FileSchema = z.object({ format: z.literal(1), units: z.array(EntrySchema).max(16) });

export class ChoicesList {
  #entries = new Map<string, ChoicesEntry>();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    try {
      const f = await readJsonFile(this.path, FileSchema);
      this.#entries = new Map((f?.units ?? []).map((e) => [e.choices.unit, e] as const));
    } catch (err) {
      // the server re-sends the unit's choices when the station reconnects
      this.log.error(
        { err, code: 'CHOICES_UNREADABLE' },
        'programme choices unreadable; starting without them',
      );
      this.#entries = new Map();
    }
  }

  /** The version held for a unit (undefined: none). */
  version(unit: string): number | undefined {
    return this.#entries.get(unit)?.choices.version;
  }

  list(): ChoicesEntry[] {
    return [...this.#entries.values()];
  }

  /** The documents, ordered from the top unit down (the scheduler applies every one). */
  documents(): Choices[] {
    return this.list()
      .map((e) => e.choices)
      .sort((a, b) => a.unit.length - b.unit.length || a.unit.localeCompare(b.unit));
  }

  /**
   * Records a verified document durably; units that no longer cover the station (it moved) are
   * dropped.
   */
  async put(choices: Choices, digest: string, nowMs: number, keep: (unit: string) => boolean): Promise<void> {
    const next = new Map([...this.#entries].filter(([unit]) => keep(unit)));
    next.set(choices.unit, { choices, digest, at: new Date(nowMs).toISOString() });
    await writeJsonAtomic(this.path, { format: 1, units: [...next.values()] }, 0o644);
    this.#entries = next;
  }
}
