import { en } from './en.js';
import { type MsgKey, vi } from './vi.js';

export type { MsgKey } from './vi.js';
export type Lang = 'vi' | 'en';
export const LANGS: readonly Lang[] = ['vi', 'en'];
export const LANG_COOKIE = 'loa_lang';

const tables: Record<Lang, Record<MsgKey, string>> = { vi, en };

export type Params = Record<string, string | number>;
export type T = (key: MsgKey, params?: Params) => string;

/** Picks the language: cookie first, Vietnamese by default (never the browser's Accept-Language). */
export function langFrom(cookie: string | undefined): Lang {
  return cookie === 'en' ? 'en' : 'vi';
}

/** Returns a translator; `{name}` placeholders are replaced by params (still escaped by JSX later). */
export function translator(lang: Lang): T {
  const table = tables[lang];
  return (key, params) => {
    const text = table[key] ?? vi[key] ?? key;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}

/** Numbers with Vietnamese grouping ("10.000") or English ("10,000"). */
export function formatNumber(lang: Lang, n: number, digits = 0): string {
  const fixed = n.toFixed(digits);
  const [int = '0', frac] = fixed.split('.');
  const sep = lang === 'vi' ? '.' : ',';
  const dec = lang === 'vi' ? ',' : '.';
  const neg = int.startsWith('-');
  const body = (neg ? int.slice(1) : int).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  return `${neg ? '-' : ''}${body}${frac ? dec + frac : ''}`;
}
