import { describe, expect, it } from 'vitest';
import { REASONS, REASONS_VI, type ReasonCode, reasonText } from '../../protocol/src/index.js';

describe('Vietnamese reason texts', () => {
  it('has a Vietnamese text for every reason code and no text for unknown codes', () => {
    expect(Object.keys(REASONS_VI).sort()).toEqual(Object.keys(REASONS).sort());
  });

  it.each(Object.keys(REASONS) as ReasonCode[])(
    '%s reads as Vietnamese, distinct from the English',
    (code) => {
      const vi = reasonText(code);
      expect(vi.length).toBeGreaterThan(10);
      expect(vi).not.toBe(REASONS[code]);
      expect(reasonText(code, 'en')).toBe(REASONS[code]);
      // Vietnamese text carries diacritics (or the letter đ); this catches untranslated copies.
      expect(/[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]/i.test(vi)).toBe(true);
    },
  );
});
