/**
 * The pure parts of spoken content: which editor entries a bulletin is read with, what an entry
 * may be, the lexicon applied in one pass, espeak-ng's voice list, and the span a recording keeps
 * once its silent head and tail are cut (from silencedetect's own lines).
 */
import { describe, expect, it } from 'vitest';
import { checkLexiconEntry, lexiconFor, lexiconKey } from '../../../fleet-server/src/domain/lexicon.js';
import type { LexiconEntryRecord } from '../../../fleet-server/src/domain/model.js';
import { applyLexicon, spokenForm } from '../../../fleet-server/src/domain/speech-text.js';
import { previewPart } from '../../../fleet-server/src/services/speech-service.js';
import { speechSpan } from '../../../fleet-server/src/services/transcoder.js';
import { parseEspeakVoices } from '../../../fleet-server/src/services/tts/espeak-ng.js';

const entry = (unit: string, from: string, to: string, lang = 'vi'): LexiconEntryRecord => ({
  id: `${unit}-${from}`,
  unit,
  lang,
  from,
  to,
  key: lexiconKey(unit, lang, from),
  createdBy: 'u',
  createdAt: '2026-12-01T00:00:00.000Z',
});

describe('the pronunciation lexicon', () => {
  it('reads a bulletin with its unit’s entries over its parents’, in its language only', () => {
    const all = [
      entry('08', 'TX', 'thị xã'),
      entry('08/02500', 'TX', 'thị xã Sơn Dương'),
      entry('08/02503', 'TX', 'thị xã Tân Trào'),
      entry('08', 'Pác Bó', 'Pác Bó', 'tay'),
      entry('09', 'UBND', 'ủy ban'),
    ];
    expect(lexiconFor(all, '08/02500', 'vi')).toEqual([
      { from: 'TX', to: 'thị xã Sơn Dương' },
      { from: 'TX', to: 'thị xã' },
    ]);
    expect(spokenForm('TX mời họp', 'vi', lexiconFor(all, '08/02500', 'vi'))).toBe(
      'thị xã Sơn Dương mời họp',
    );
    expect(spokenForm('TX mời họp', 'vi-VN', lexiconFor(all, '08/02509', 'vi'))).toBe('thị xã mời họp');
    expect(lexiconFor(all, '08/02500', 'tay')).toEqual([{ from: 'Pác Bó', to: 'Pác Bó' }]);
    // other languages: the editors' entries, no Vietnamese numbers or built-in abbreviations
    expect(spokenForm('UBND 12', 'tay', [{ from: '12', to: 'sip song' }])).toBe('UBND sip song');
  });

  it('applies entries in one pass: a spoken form is never read again by another entry', () => {
    const lex = [
      { from: 'TP', to: 'thành phố' },
      { from: 'thành phố', to: 'SAI' },
      { from: 'TP.HCM', to: 'Thành phố Hồ Chí Minh' },
    ];
    expect(applyLexicon('TP Tuyên Quang, TP.HCM', lex).replace(/\s+/g, ' ').trim()).toBe(
      'thành phố Tuyên Quang, Thành phố Hồ Chí Minh',
    );
    // whole words only
    expect(applyLexicon('TPHCM', lex)).toBe('TPHCM');
  });

  it('checks an entry with stable codes and normalises its forms', () => {
    const others = [{ id: 'a', from: 'UBND' }];
    expect(checkLexiconEntry({ from: '  Tân   Trào ', to: ' Tân  Trào' }, others)).toEqual({
      from: 'Tân Trào',
      to: 'Tân Trào',
    });
    const code = (from: string, to: string, o = others) => {
      try {
        checkLexiconEntry({ from, to }, o);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect([
      code('', 'x'),
      code('x', ''),
      code('A'.repeat(61), 'x'),
      code('A'.repeat(60), 'x'),
      code('x', 'y'.repeat(201)),
      code('a\tb', 'x'),
      code('—', 'gạch'),
      code('UBND', 'x'),
      code('ubnd', 'x'),
      code(
        'HĐ',
        'x',
        Array.from({ length: 2000 }, (_, i) => ({ id: `${i}`, from: `w${i}` })),
      ),
    ]).toEqual([
      'LEXICON_FROM_EMPTY',
      'LEXICON_TO_EMPTY',
      'LEXICON_FROM_TOO_LONG',
      'ok',
      'LEXICON_TO_TOO_LONG',
      'LEXICON_CONTROL_CHARS',
      'LEXICON_FROM_NO_WORD',
      'LEXICON_DUPLICATE',
      'ok',
      'LEXICON_FULL',
    ]);
  });
});

describe('speech helpers', () => {
  it('parses espeak-ng’s voice list', () => {
    const out = [
      'Pty Language       Age/Gender VoiceName          File                 Other Languages',
      ' 5  vi              --/M      Vietnamese_(Northern) aav/vi               ',
      ' 5  vi-vn-x-central --/M      Vietnamese_(Central) aav/vi-VN-x-central  ',
    ].join('\n');
    expect(parseEspeakVoices(out)).toEqual([
      { id: 'vi', name: 'Vietnamese (Northern)' },
      { id: 'vi-vn-x-central', name: 'Vietnamese (Central)' },
    ]);
  });

  it('cuts a preview after a sentence or a word', () => {
    expect(previewPart('Câu thứ nhất khá dài. Câu hai.', 25)).toBe('Câu thứ nhất khá dài.');
    // a sentence that ends too early: cut at a word instead
    expect(previewPart('Một câu. Hai câu dài hơn nhiều.', 20)).toBe('Một câu. Hai câu');
    expect(previewPart('một hai ba bốn năm sáu bảy', 12)).toBe('một hai ba');
    expect(previewPart('ngắn', 100)).toBe('ngắn');
  });

  it('finds the speech between a silent head and tail, keeping pauses inside', () => {
    const lines = (pairs: [string, number][]) =>
      pairs.map(([k, v]) => `[silencedetect @ 0x1] silence_${k}: ${v}`).join('\n');
    // head 0–2 s, a pause inside, tail from 6 s closed at the end of the stream
    expect(
      speechSpan(
        lines([
          ['start', 0.0075],
          ['end', 2.0],
          ['start', 3.5],
          ['end', 4.5],
          ['start', 6.0],
          ['end', 8.5],
        ]),
        8500,
      ),
    ).toEqual({ startMs: 1750, endMs: 6250 });
    // no silence at all, and silence only inside: the whole file
    expect(speechSpan('', 4000)).toEqual({ startMs: 0, endMs: 4000 });
    expect(
      speechSpan(
        lines([
          ['start', 1],
          ['end', 2],
        ]),
        4000,
      ),
    ).toEqual({ startMs: 0, endMs: 4000 });
    // all silence: the whole file (the level check refuses it)
    expect(
      speechSpan(
        lines([
          ['start', 0],
          ['end', 3],
        ]),
        3000,
      ),
    ).toEqual({ startMs: 0, endMs: 3000 });
  });
});
