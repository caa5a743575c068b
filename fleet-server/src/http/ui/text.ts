/** Text helpers for what operators type. */

/**
 * Lower case without Vietnamese diacritics ("Tân Trào" → "tan trao", "Đồng" → "dong"), so a
 * search typed on a keyboard without a Vietnamese input method still finds the place.
 */
export function fold(s: string): string {
  return stripMarks(s).toLowerCase();
}

/** Without Vietnamese marks, case kept ("Đồng" → "Dong"). */
function stripMarks(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').replace(/Đ/g, 'D').replace(/đ/g, 'd');
}

/**
 * Whether a typed confirmation is the phrase: capitals as written, the Vietnamese marks optional
 * ("PHÁT KHẨN CẤP" typed with an input method is "PHAT KHAN CAP"), spaces around and between words
 * not counted. A word typed by mistake or in lower case is not the phrase.
 */
export function isPhrase(typed: string, phrase: string): boolean {
  const bare = (x: string) => stripMarks(x).trim().replace(/\s+/g, ' ');
  return bare(typed) === bare(phrase);
}
