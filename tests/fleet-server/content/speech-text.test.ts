/**
 * Spoken bulletins read the Vietnamese way: dates, times, numbers and abbreviations expanded
 * before espeak-ng speaks, checked on the text and on espeak-ng's own phoneme output.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { expandForSpeech, numberToWords } from '../../../fleet-server/src/domain/speech-text.js';

const phonemes = (text: string) =>
  execFileSync('espeak-ng', ['-q', '-x', '-v', 'vi', text], { encoding: 'utf8' }).replace(/\s+/g, ' ').trim();

describe('Vietnamese speech text', () => {
  it('numbers in words, the Vietnamese way', () => {
    expect(
      [0, 5, 10, 11, 15, 21, 24, 25, 105, 110, 2026, 1_000_005, 350_000].map((n) => numberToWords(n)),
    ).toEqual([
      'không',
      'năm',
      'mười',
      'mười một',
      'mười lăm',
      'hai mươi mốt',
      'hai mươi tư',
      'hai mươi lăm',
      'một trăm lẻ năm',
      'một trăm mười',
      'hai nghìn không trăm hai mươi sáu',
      'một triệu không trăm lẻ năm',
      'ba trăm năm mươi nghìn',
    ]);
  });

  it('dates, times, abbreviations and units; an editor entry wins', () => {
    const text =
      'UBND xã thông báo: ngày 15/12/2026 lúc 17:30, gió mạnh 60 km/h, mưa 2,5 mm. Họp tại nhà văn hóa thôn Tân Trào.';
    const out = expandForSpeech(text, [{ from: 'Tân Trào', to: 'Tân Trào' }]);
    expect(out).toBe(
      'Ủy ban nhân dân xã thông báo: ngày mười lăm tháng mười hai năm hai nghìn không trăm hai mươi sáu lúc mười bảy giờ ba mươi phút, gió mạnh sáu mươi ki-lô-mét trên giờ, mưa hai phẩy năm mi-li-mét. Họp tại nhà văn hóa thôn Tân Trào.',
    );
    expect(expandForSpeech('HĐND họp', [{ from: 'HĐND', to: 'Hội đồng nhân dân huyện' }])).toBe(
      'Hội đồng nhân dân huyện họp',
    );
    // Not a date: left alone; a word containing an abbreviation is not touched.
    expect(expandForSpeech('tỷ lệ 45/60')).toBe('tỷ lệ bốn mươi lăm/sáu mươi');
    expect(expandForSpeech('TPHCM')).toBe('TPHCM');
  });

  it("espeak-ng's phonemes of the expanded text are those of the words, not of the digits", () => {
    const raw = phonemes('15/12/2026');
    const expanded = phonemes(expandForSpeech('15/12/2026'));
    expect(expanded).toBe(phonemes('ngày mười lăm tháng mười hai năm hai nghìn không trăm hai mươi sáu'));
    expect(expanded).not.toBe(raw);
    expect(phonemes(expandForSpeech('UBND'))).toBe(phonemes('Ủy ban nhân dân'));
  });
});
