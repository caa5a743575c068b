/**
 * Pure parsers for modem replies (3GPP TS 27.007 and Quectel EC2x). Each returns a value or
 * throws LoaError MODEM_BAD_REPLY with the offending line.
 */
import { LoaError } from '@loa/protocol';
import type { NetworkTime, Operator, Registration, Signal } from './types.js';

function bad(what: string, lines: readonly string[]): LoaError {
  return new LoaError('MODEM_BAD_REPLY', `Modem trả lời không đúng dạng (${what})`, {
    details: { what, lines: lines.slice(0, 4).map((l) => l.slice(0, 80)) },
  });
}

function find(lines: readonly string[], prefix: string): string | undefined {
  return lines.find((l) => l.startsWith(prefix));
}

/** RSSI index → dBm (27.007 §8.5): 0 → -113, 1 → -111, 2..30 → -109..-53, 31 → -51, 99 → null. */
export function csqToDbm(rssi: number): number | null {
  if (rssi === 99) return null;
  if (!Number.isInteger(rssi) || rssi < 0 || rssi > 31) throw new RangeError(`rssi ${rssi}`);
  return -113 + 2 * rssi;
}

export function parseCsq(lines: readonly string[]): Signal {
  const m = /^\+CSQ:\s*(\d{1,2}),\s*(\d{1,2})$/.exec(find(lines, '+CSQ:') ?? '');
  const rssi = m ? Number(m[1]) : Number.NaN;
  if (!m || !((rssi >= 0 && rssi <= 31) || rssi === 99)) throw bad('CSQ', lines);
  return { csq: rssi === 99 ? null : rssi, dbm: csqToDbm(rssi) };
}

const ACT: Record<string, string> = {
  '0': 'gsm',
  '2': 'umts',
  '3': 'gsm-egprs',
  '4': 'umts-hsdpa',
  '5': 'umts-hsupa',
  '6': 'umts-hspa',
  '7': 'lte',
  '8': 'lte-m',
  '9': 'nb-iot',
};

/** '+COPS: 0,0,"Viettel",7' → { name: 'Viettel', tech: 'lte' }; '+COPS: 0' → { name: null }. */
export function parseCops(lines: readonly string[]): Operator {
  const line = find(lines, '+COPS:');
  if (line === undefined) throw bad('COPS', lines);
  const full = /^\+COPS:\s*(\d)\s*,\s*(\d)\s*,\s*"([^"]{0,64})"\s*(?:,\s*(\d+))?$/.exec(line);
  if (full) {
    const tech = full[4] === undefined ? undefined : (ACT[full[4]] ?? `act-${full[4]}`);
    return tech === undefined ? { name: full[3] || null } : { name: full[3] || null, tech };
  }
  if (/^\+COPS:\s*\d$/.test(line)) return { name: null };
  throw bad('COPS', lines);
}

const REG: Record<string, Registration> = {
  '0': 'not-registered',
  '1': 'home',
  '2': 'searching',
  '3': 'denied',
  '4': 'unknown',
  '5': 'roaming',
  '6': 'home', // registered for SMS only, home
  '7': 'roaming', // SMS only, roaming
};

/** '+CREG: 0,1' / '+CEREG: 2,5,"1A2B","01C2D3E4",7' → 'home' / 'roaming' … */
export function parseReg(lines: readonly string[], prefix: '+CREG:' | '+CEREG:' | '+CGREG:'): Registration {
  // The query's answer is '<n>,<stat>[,…]'; an unsolicited '+CREG: <stat>' may sit beside it.
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    const m = /^\+C[EG]?REG:\s*\d\s*,\s*(\d)(?:\s*,.*)?$/.exec(line);
    const reg = m?.[1] === undefined ? undefined : REG[m[1]];
    if (reg) return reg;
  }
  throw bad(prefix.slice(1, -1), lines);
}

/** Registered on either domain wins; otherwise the more informative state. */
export function combineRegistration(a: Registration, b: Registration): Registration {
  const rank: Registration[] = ['home', 'roaming', 'denied', 'searching', 'unknown', 'not-registered'];
  return rank.indexOf(a) <= rank.indexOf(b) ? a : b;
}

/** '+QCCID: 8984…' or '+CCID: …' or a bare number line. 19–20 digits, maybe a trailing F. */
export function parseIccid(lines: readonly string[]): string {
  for (const l of lines) {
    const m = /^(?:\+Q?CCID:\s*)?"?(\d{18,20})F?"?$/i.exec(l.trim());
    if (m?.[1]) return m[1];
  }
  throw bad('ICCID', lines);
}

export interface ClockParseOptions {
  /** A year earlier than this means the modem has not had network time (power-on default). */
  minTrustedYear: number;
}

/**
 * '+CCLK: "26/11/26,14:17:13+28"': local time with the zone in quarter-hours (+28 = UTC+7).
 * UTC = local − zone. `trusted` is only the plausibility of the value; the caller also
 * requires registration.
 */
export function parseCclk(
  lines: readonly string[],
  opts: ClockParseOptions,
): Omit<NetworkTime, 'trusted'> & {
  plausible: boolean;
} {
  const line = find(lines, '+CCLK:') ?? '';
  const m = /^\+CCLK:\s*"(\d{2})\/(\d{2})\/(\d{2}),(\d{2}):(\d{2}):(\d{2})([+-]\d{1,2})?"$/.exec(line);
  if (!m) throw bad('CCLK', lines);
  const [yy, mo, dd, hh, mi, ss] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const tz = m[7] === undefined ? 0 : Number(m[7]);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 60 || Math.abs(tz) > 56) {
    throw bad('CCLK', lines);
  }
  // Two-digit years: 00–69 are 2000–2069; 70–99 are the 1970s–90s power-on defaults (e.g. 80/01/06).
  const year = yy < 70 ? 2000 + yy : 1900 + yy;
  const localMs = Date.UTC(year, mo - 1, dd, hh, mi, ss);
  const check = new Date(localMs);
  if (check.getUTCDate() !== dd) throw bad('CCLK', lines); // 31 February and friends
  return { utcMs: localMs - tz * 15 * 60_000, tzQuarterHours: tz, plausible: year >= opts.minTrustedYear };
}
