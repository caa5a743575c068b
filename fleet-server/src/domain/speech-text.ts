/**
 * Text as a Vietnamese voice should read it (pure): dates "15/12/2026" → "ngày mười lăm tháng
 * mười hai năm hai nghìn không trăm hai mươi sáu", times "17:30" → "mười bảy giờ ba mươi phút",
 * numbers in words, and a lexicon of abbreviations and names ("UBND" → "Ủy ban nhân dân",
 * "km/h" → "ki-lô-mét trên giờ"). espeak-ng reads digits and abbreviations letter by letter or
 * in English otherwise. Editors' entries come first and win over the defaults.
 */

export interface LexiconEntry {
  /** Written form, matched as a whole word (case-sensitive for abbreviations). */
  from: string;
  /** Spoken form. */
  to: string;
}

export const DEFAULT_VI_LEXICON: readonly LexiconEntry[] = [
  { from: 'UBND', to: 'Ủy ban nhân dân' },
  { from: 'HĐND', to: 'Hội đồng nhân dân' },
  { from: 'MTTQ', to: 'Mặt trận Tổ quốc' },
  { from: 'BCH', to: 'Ban chỉ huy' },
  { from: 'PCTT', to: 'phòng chống thiên tai' },
  { from: 'TKCN', to: 'tìm kiếm cứu nạn' },
  { from: 'THCS', to: 'trung học cơ sở' },
  { from: 'THPT', to: 'trung học phổ thông' },
  { from: 'CSGT', to: 'cảnh sát giao thông' },
  { from: 'TP.', to: 'thành phố' },
  { from: 'TP', to: 'thành phố' },
  { from: 'QL', to: 'quốc lộ' },
  { from: 'km/h', to: 'ki-lô-mét trên giờ' },
  { from: 'km', to: 'ki-lô-mét' },
  { from: 'mm', to: 'mi-li-mét' },
  { from: 'm3/s', to: 'mét khối trên giây' },
  { from: '°C', to: 'độ C' },
  { from: '%', to: 'phần trăm' },
];

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];

/** 0–999 in words; `full` reads a leading "không trăm" (inner groups of a larger number). */
function hundreds(n: number, full: boolean): string {
  const h = Math.floor(n / 100);
  const t = Math.floor((n % 100) / 10);
  const u = n % 10;
  const out: string[] = [];
  if (h > 0 || full) out.push(DIGITS[h]!, 'trăm');
  if (t === 0) {
    if (u > 0 && out.length) out.push('lẻ');
    if (u > 0) out.push(DIGITS[u]!);
    return out.join(' ');
  }
  if (t === 1) out.push('mười');
  else out.push(DIGITS[t]!, 'mươi');
  if (u === 1) out.push(t === 1 ? 'một' : 'mốt');
  else if (u === 5) out.push('lăm');
  else if (u === 4 && t > 1) out.push('tư');
  else if (u > 0) out.push(DIGITS[u]!);
  return out.join(' ');
}

const SCALES = ['', 'nghìn', 'triệu', 'tỷ'];

/** A whole number 0 … 999 999 999 999 in Vietnamese words. */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999_999_999_999) return String(n);
  if (n === 0) return 'không';
  const groups: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 1000)) groups.push(v % 1000);
  const words: string[] = [];
  for (let i = groups.length - 1; i >= 0; i--) {
    const g = groups[i]!;
    if (g === 0) continue;
    words.push(hundreds(g, i < groups.length - 1));
    if (SCALES[i]) words.push(SCALES[i]!);
  }
  return words.join(' ');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Lexicon entries applied in one pass (a spoken form is never read again by another entry): the
 * longest written form first, the first of equal written forms wins (editors' entries are listed
 * before the built-in ones). Whole words only where the written form starts or ends with a letter
 * or digit.
 */
export function applyLexicon(text: string, lexicon: readonly LexiconEntry[]): string {
  const byFrom = new Map<string, string>();
  for (const e of lexicon) if (e.from && !byFrom.has(e.from)) byFrom.set(e.from, e.to);
  if (byFrom.size === 0) return text;
  const alts = [...byFrom.keys()]
    .sort((a, b) => b.length - a.length)
    .map((from) => {
      const word = /^[\p{L}\p{N}]/u.test(from) ? '(?<![\\p{L}\\p{N}])' : '';
      const tail = /[\p{L}\p{N}]$/u.test(from) ? '(?![\\p{L}\\p{N}])' : '';
      return `${word}${escapeRe(from)}${tail}`;
    });
  const re = new RegExp(alts.join('|'), 'gu');
  return text.replace(re, (m) => ` ${byFrom.get(m) ?? m} `);
}

/** The text with dates, times, numbers and lexicon entries written as they are spoken. */
export function expandForSpeech(text: string, lexicon: readonly LexiconEntry[] = []): string {
  let out = text.normalize('NFC');
  // Dates and times before numbers; the lexicon before numbers too ("m3/s").
  // "ngày 15/12/2026" and "15/12/2026" both read "ngày mười lăm tháng …" (one "ngày").
  out = out.replace(/(?:ngày\s+)?\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g, (m, d, mo, y) => {
    const [dd, mm] = [Number(d), Number(mo)];
    if (dd < 1 || dd > 31 || mm < 1 || mm > 12) return m;
    return `ngày ${numberToWords(dd)} tháng ${numberToWords(mm)} năm ${numberToWords(Number(y))}`;
  });
  out = out.replace(/(?:ngày\s+)?\b(\d{1,2})\/(\d{1,2})\b/g, (m, d, mo) => {
    const [dd, mm] = [Number(d), Number(mo)];
    if (dd < 1 || dd > 31 || mm < 1 || mm > 12) return m;
    return `ngày ${numberToWords(dd)} tháng ${numberToWords(mm)}`;
  });
  out = out.replace(/\b([01]?\d|2[0-3])[:h]([0-5]\d)\b/g, (_m, h, mi) =>
    Number(mi) === 0
      ? `${numberToWords(Number(h))} giờ`
      : `${numberToWords(Number(h))} giờ ${numberToWords(Number(mi))} phút`,
  );
  out = applyLexicon(out, [...lexicon.map(nfc), ...DEFAULT_VI_LEXICON]);
  // Decimal numbers with a comma ("2,5") and grouped thousands ("1.200").
  out = out.replace(/\b\d{1,3}(?:\.\d{3})+\b/g, (m) => m.replace(/\./g, ''));
  out = out.replace(
    /\b(\d+),(\d+)\b/g,
    (_m, a, b) => `${numberToWords(Number(a))} phẩy ${numberToWords(Number(b))}`,
  );
  out = out.replace(/\b\d{1,12}\b/g, (m) => numberToWords(Number(m)));
  return tidy(out);
}

const nfc = (e: LexiconEntry): LexiconEntry => ({ from: e.from.normalize('NFC'), to: e.to.normalize('NFC') });

const tidy = (s: string) =>
  s
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ ([,.;:!?])/g, '$1')
    .trim();

/**
 * The spoken form of a text in `lang`: Vietnamese gets dates, numbers and the built-in lexicon
 * as well; other languages (ethnic-minority languages, whose numbers espeak-ng cannot say the
 * Vietnamese way) get the editors' entries alone.
 */
export function spokenForm(text: string, lang: string, lexicon: readonly LexiconEntry[] = []): string {
  if (lang.split('-')[0] === 'vi') return expandForSpeech(text, lexicon);
  return tidy(applyLexicon(text.normalize('NFC'), lexicon.map(nfc)));
}
