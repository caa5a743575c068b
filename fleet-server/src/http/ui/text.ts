/** Text helpers for what operators type. */

/**
 * Lower case without Vietnamese diacritics ("Tân Trào" → "tan trao", "Đồng" → "dong"), so a
 * search typed on a keyboard without a Vietnamese input method still finds the place.
 */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
}
