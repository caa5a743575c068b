/**
 * The editors' pronunciation lexicon: add, edit and remove entries (validated by
 * domain/lexicon.ts, audited), and the entries a bulletin of a unit is read with. Writes are
 * serialised so that the duplicate check and the write see the same entries; the PostgreSQL
 * store's unique key is the backstop across processes.
 */
import { randomBytes } from 'node:crypto';
import { IdSchema, LanguageSchema, LoaError, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import { checkLexiconEntry, lexiconFor, lexiconKey } from '../domain/lexicon.js';
import type { LexiconEntryRecord } from '../domain/model.js';
import type { LexiconEntry } from '../domain/speech-text.js';
import type { Store } from '../store/ports.js';

/** Forms are checked by the domain (stable codes); the schema only bounds what is read. */
const Form = z.string().max(2000);

export const LexiconInputSchema = z.strictObject({
  unit: UnitPathSchema,
  lang: LanguageSchema.default('vi'),
  from: Form,
  to: Form,
});
export type LexiconInput = z.infer<typeof LexiconInputSchema>;

export const LexiconPatchSchema = z.strictObject({ from: Form.optional(), to: Form.optional() });
export type LexiconPatch = z.infer<typeof LexiconPatchSchema>;

export interface LexiconActor {
  id: string;
  username: string;
}

export class LexiconService {
  readonly #store: Store;
  readonly #now: () => number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(d: { store: Store; now: () => number }) {
    this.#store = d.store;
    this.#now = d.now;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Entries matching `filter`, sorted by unit, language and written form. */
  async list(filter: (e: LexiconEntryRecord) => boolean = () => true): Promise<LexiconEntryRecord[]> {
    return (await this.#store.lexicon.list(filter)).sort(
      (a, b) =>
        a.unit.localeCompare(b.unit) || a.lang.localeCompare(b.lang) || a.from.localeCompare(b.from, 'vi'),
    );
  }

  async get(id: string): Promise<LexiconEntryRecord> {
    const rec = IdSchema.safeParse(id).success ? await this.#store.lexicon.get(id) : undefined;
    if (!rec) throw new LoaError('LEXICON_NOT_FOUND', 'Không tìm thấy mục trong từ điển đọc');
    return rec;
  }

  /** The editors' entries a bulletin of `unit` in `lang` is read with (deepest unit first). */
  async entriesFor(unit: string, lang: string): Promise<LexiconEntry[]> {
    const primary = lang.toLowerCase().split('-')[0];
    const all = await this.#store.lexicon.list((e) => e.lang.toLowerCase().split('-')[0] === primary);
    return lexiconFor(all, unit, lang);
  }

  add(input: LexiconInput, actor: LexiconActor, ip?: string): Promise<LexiconEntryRecord> {
    return this.#serial(async () => {
      const lang = input.lang.toLowerCase();
      const others = await this.#store.lexicon.list((e) => e.unit === input.unit && e.lang === lang);
      const forms = checkLexiconEntry(input, others);
      const rec: LexiconEntryRecord = {
        id: `lx-${randomBytes(8).toString('hex')}`,
        unit: input.unit,
        lang,
        ...forms,
        key: lexiconKey(input.unit, lang, forms.from),
        createdBy: actor.id,
        createdAt: new Date(this.#now()).toISOString(),
      };
      await this.#write(() => this.#store.lexicon.insert(rec), forms.from);
      await this.#audit(actor, 'lexicon.create', rec, ip);
      return rec;
    });
  }

  update(id: string, patch: LexiconPatch, actor: LexiconActor, ip?: string): Promise<LexiconEntryRecord> {
    return this.#serial(async () => {
      const rec = await this.get(id);
      const others = await this.#store.lexicon.list(
        (e) => e.unit === rec.unit && e.lang === rec.lang && e.id !== rec.id,
      );
      // the size cap counts the entry itself: an edit never fails for a full unit
      const forms = checkLexiconEntry({ from: patch.from ?? rec.from, to: patch.to ?? rec.to }, others);
      const next = await this.#write(
        () =>
          this.#store.lexicon.update(rec.id, {
            ...forms,
            key: lexiconKey(rec.unit, rec.lang, forms.from),
            updatedBy: actor.id,
            updatedAt: new Date(this.#now()).toISOString(),
          }),
        forms.from,
      );
      await this.#audit(actor, 'lexicon.update', next, ip, { before: { from: rec.from, to: rec.to } });
      return next;
    });
  }

  remove(id: string, actor: LexiconActor, ip?: string): Promise<void> {
    return this.#serial(async () => {
      const rec = await this.get(id);
      await this.#store.lexicon.delete(rec.id);
      await this.#audit(actor, 'lexicon.delete', rec, ip);
    });
  }

  /** A unique-key refusal of the store (another process wrote the same form) is a duplicate. */
  async #write<T>(fn: () => Promise<T>, from: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: string }).code === 'LEXICON_EXISTS')
        throw new LoaError('LEXICON_DUPLICATE', `Đã có cách đọc cho "${from}" ở đơn vị này`, {
          cause: e,
          details: { from },
        });
      throw e;
    }
  }

  async #audit(
    actor: LexiconActor,
    action: string,
    rec: LexiconEntryRecord,
    ip?: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.#store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action,
      target: { type: 'lexicon', id: rec.id },
      unit: rec.unit,
      ...(ip ? { ip } : {}),
      details: { lang: rec.lang, from: rec.from, to: rec.to, ...extra },
    });
  }
}
