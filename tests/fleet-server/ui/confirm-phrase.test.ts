/** The emergency form's second confirmation: the phrase in capitals, with or without its marks. */
import { describe, expect, it } from 'vitest';
import { vi } from '../../../fleet-server/src/http/ui/i18n/vi.js';
import { isPhrase } from '../../../fleet-server/src/http/ui/text.js';

describe('typed confirmation phrase', () => {
  const phrase = vi['emg.phrase'];
  it('takes the phrase as shown, typed without marks, or with spaces around and between words', () => {
    expect(phrase).toBe('PHÁT KHẨN CẤP');
    for (const typed of [
      'PHÁT KHẨN CẤP',
      'PHAT KHAN CAP',
      '  PHAT  KHẨN CAP ',
      'PHÁT KHẨN CẤP'.normalize('NFD'),
    ])
      expect(isPhrase(typed, phrase), typed).toBe(true);
  });
  it('refuses lower case, another word or a part of the phrase', () => {
    for (const typed of [
      'phát khẩn cấp',
      'Phat Khan Cap',
      'PHAT KHAN',
      'PHAT KHAN CAP NGAY',
      '',
      'PHÁT KHẨN CẤP.',
    ])
      expect(isPhrase(typed, phrase), typed).toBe(false);
  });
});
