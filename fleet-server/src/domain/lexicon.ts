/**
 * The editors' pronunciation lexicon (pure): what an entry may be, when two entries are the same,
 * and which entries a bulletin of a unit is read with. An entry belongs to a unit and applies to
 * the bulletins of that unit's subtree; a deeper unit's entry wins over its parent's for the same
 * written form (a commune knows its own place names best), and every editor entry wins over the
 * built-in lexicon (domain/speech-text.ts).
 */
import { LoaError, unitCovers } from '@loa/protocol';
import type { LexiconEntryRecord } from './model.js';
import type { LexiconEntry } from './speech-text.js';

export const LEXICON_LIMITS = {
  /** Longest written form (characters). */
  fromMax: 60,
  /** Longest spoken form (characters). */
  toMax: 200,
  /** Entries per unit and language. */
  perUnit: 2000,
} as const;

/** Written and spoken forms as stored: NFC, inner whitespace collapsed, trimmed. */
export function normaliseForm(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** The duplicate key: one entry per unit, language and written form. */
export function lexiconKey(unit: string, lang: string, from: string): string {
  return `${unit}|${lang.toLowerCase()}|${normaliseForm(from)}`;
}

/**
 * Checks an entry's forms against the limits and the unit's other entries (in the same language,
 * the entry itself left out) and returns them normalised. Codes: LEXICON_FROM_EMPTY,
 * LEXICON_TO_EMPTY, LEXICON_FROM_TOO_LONG, LEXICON_TO_TOO_LONG, LEXICON_CONTROL_CHARS,
 * LEXICON_FROM_NO_WORD, LEXICON_DUPLICATE, LEXICON_FULL.
 */
export function checkLexiconEntry(
  input: { from: string; to: string },
  others: readonly Pick<LexiconEntryRecord, 'id' | 'from'>[],
): { from: string; to: string } {
  // a line break or another control character inside a form is a paste mistake
  const control = /[\u0000-\u001f\u007f]/;
  if (control.test(input.from.trim()) || control.test(input.to.trim()))
    throw new LoaError('LEXICON_CONTROL_CHARS', 'Cách viết và cách đọc phải nằm trên một dòng');
  const from = normaliseForm(input.from);
  const to = normaliseForm(input.to);
  if (!from) throw new LoaError('LEXICON_FROM_EMPTY', 'Cần nhập cách viết (ví dụ: UBND)');
  if (!to) throw new LoaError('LEXICON_TO_EMPTY', 'Cần nhập cách đọc (ví dụ: Ủy ban nhân dân)');
  if (from.length > LEXICON_LIMITS.fromMax)
    throw new LoaError(
      'LEXICON_FROM_TOO_LONG',
      `Cách viết dài quá ${LEXICON_LIMITS.fromMax} ký tự (mỗi mục là một từ hoặc cụm từ ngắn)`,
      { details: { max: LEXICON_LIMITS.fromMax } },
    );
  if (to.length > LEXICON_LIMITS.toMax)
    throw new LoaError('LEXICON_TO_TOO_LONG', `Cách đọc dài quá ${LEXICON_LIMITS.toMax} ký tự`, {
      details: { max: LEXICON_LIMITS.toMax },
    });
  if (!/[\p{L}\p{N}]/u.test(from))
    throw new LoaError('LEXICON_FROM_NO_WORD', 'Cách viết phải có ít nhất một chữ cái hoặc chữ số');
  if (others.some((o) => o.from === from))
    throw new LoaError('LEXICON_DUPLICATE', `Đã có cách đọc cho "${from}" ở đơn vị này`, {
      details: { from },
    });
  if (others.length >= LEXICON_LIMITS.perUnit)
    throw new LoaError(
      'LEXICON_FULL',
      `Đơn vị này đã có ${LEXICON_LIMITS.perUnit} mục, hãy xoá bớt mục không dùng`,
      { details: { max: LEXICON_LIMITS.perUnit } },
    );
  return { from, to };
}

/** The primary language subtag ("vi-VN" → "vi"). */
const primary = (lang: string) => lang.toLowerCase().split('-')[0] ?? '';

/**
 * The entries a bulletin of `unit` in `lang` is read with: those of the unit and its ancestors
 * in that language, the deepest unit's first (so its entry wins for the same written form).
 */
export function lexiconFor(
  entries: readonly LexiconEntryRecord[],
  unit: string,
  lang: string,
): LexiconEntry[] {
  return entries
    .filter((e) => primary(e.lang) === primary(lang) && unitCovers(e.unit, unit))
    .sort((a, b) => b.unit.length - a.unit.length || a.createdAt.localeCompare(b.createdAt))
    .map((e) => ({ from: e.from, to: e.to }));
}
