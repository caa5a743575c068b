import { isLoaError } from '@loa/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  combineRegistration,
  csqToDbm,
  parseCclk,
  parseCops,
  parseCsq,
  parseIccid,
  parseReg,
} from '../../../agent/src/drivers/modem/parse.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isLoaError(err) ? err.code : 'not-a-LoaError';
  }
  return undefined;
}

describe('AT+CSQ → dBm (3GPP TS 27.007 §8.5)', () => {
  it('maps the table end points and "not known"', () => {
    expect(csqToDbm(0)).toBe(-113);
    expect(csqToDbm(1)).toBe(-111);
    expect(csqToDbm(2)).toBe(-109);
    expect(csqToDbm(30)).toBe(-53);
    expect(csqToDbm(31)).toBe(-51);
    expect(csqToDbm(99)).toBeNull();
    expect(parseCsq(['+CSQ: 99,99'])).toEqual({ csq: null, dbm: null });
    expect(parseCsq(['+CSQ: 17,0'])).toEqual({ csq: 17, dbm: -79 });
  });

  it('is monotonic in 2 dB steps over 0..31', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), (n) => {
        expect((csqToDbm(n + 1) as number) - (csqToDbm(n) as number)).toBe(2);
      }),
    );
  });

  it('rejects out-of-range and malformed replies with MODEM_BAD_REPLY', () => {
    for (const bad of [
      ['+CSQ: 32,99'],
      ['+CSQ: 50,0'],
      ['+CSQ: -1,0'],
      ['+CSQ: abc'],
      [],
      ['\u00ff\u00fe'],
    ]) {
      expect(code(() => parseCsq(bad))).toBe('MODEM_BAD_REPLY');
    }
  });
});

describe('operator, registration, ICCID', () => {
  it('parses AT+COPS? with and without an operator', () => {
    expect(parseCops(['+COPS: 0,0,"Viettel",7'])).toEqual({ name: 'Viettel', tech: 'lte' });
    expect(parseCops(['+COPS: 0,2,"45202",2'])).toEqual({ name: '45202', tech: 'umts' });
    expect(parseCops(['+COPS: 1,0,"VINAPHONE"'])).toEqual({ name: 'VINAPHONE' });
    expect(parseCops(['+COPS: 0'])).toEqual({ name: null });
    expect(code(() => parseCops(['+COPS: 0,0,Viettel,7']))).toBe('MODEM_BAD_REPLY');
  });

  it('parses CREG/CEREG in their short and long forms', () => {
    expect(parseReg(['+CREG: 0,1'], '+CREG:')).toBe('home');
    expect(parseReg(['+CREG: 2,5,"1A2B","01C2D3E4",7'], '+CREG:')).toBe('roaming');
    expect(parseReg(['+CEREG: 0,2'], '+CEREG:')).toBe('searching');
    expect(parseReg(['+CEREG: 0,3'], '+CEREG:')).toBe('denied');
    expect(parseReg(['+CREG: 0,0'], '+CREG:')).toBe('not-registered');
    expect(code(() => parseReg(['+CREG: 0,9'], '+CREG:'))).toBe('MODEM_BAD_REPLY');
    // An unsolicited '+CREG: <stat>' next to the query's answer is not the answer.
    expect(parseReg(['+CREG: 2', '+CREG: 0,5'], '+CREG:')).toBe('roaming');
    expect(code(() => parseReg(['+CREG: 1'], '+CREG:'))).toBe('MODEM_BAD_REPLY');
    expect(combineRegistration('searching', 'home')).toBe('home');
    expect(combineRegistration('not-registered', 'denied')).toBe('denied');
  });

  it('parses ICCID from +QCCID, +CCID and a bare line (trailing F dropped)', () => {
    expect(parseIccid(['+QCCID: 89840480001234567890'])).toBe('89840480001234567890');
    expect(parseIccid(['+CCID: "8984048000123456789F"'])).toBe('8984048000123456789');
    expect(parseIccid(['8984048000123456789'])).toBe('8984048000123456789');
    expect(code(() => parseIccid(['+QCCID: 1234']))).toBe('MODEM_BAD_REPLY');
  });
});

describe('AT+CCLK? network time', () => {
  const opts = { minTrustedYear: 2024 };

  it('converts local time with the quarter-hour zone to UTC (Vietnam +28 = UTC+7)', () => {
    const t = parseCclk(['+CCLK: "26/11/26,14:17:13+28"'], opts);
    expect(new Date(t.utcMs).toISOString()).toBe('2026-11-26T07:17:13.000Z');
    expect(t.tzQuarterHours).toBe(28);
    expect(t.plausible).toBe(true);
  });

  it('handles negative and fractional-hour zones and midnight roll-over', () => {
    const t = parseCclk(['+CCLK: "26/01/01,01:30:00-14"'], opts); // UTC-3:30
    expect(new Date(t.utcMs).toISOString()).toBe('2026-01-01T05:00:00.000Z');
    const u = parseCclk(['+CCLK: "26/01/01,03:00:00+28"'], opts);
    expect(new Date(u.utcMs).toISOString()).toBe('2025-12-31T20:00:00.000Z');
  });

  it('marks the power-on default (80/01/06) and old years implausible', () => {
    expect(parseCclk(['+CCLK: "80/01/06,00:01:07+00"'], opts).plausible).toBe(false);
    expect(parseCclk(['+CCLK: "00/01/01,00:00:05+00"'], opts).plausible).toBe(false);
  });

  it('round-trips any instant and zone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2024, 0, 1) / 1000, max: Date.UTC(2069, 0, 1) / 1000 }),
        fc.integer({ min: -48, max: 56 }),
        (sec, tz) => {
          const local = new Date(sec * 1000 + tz * 15 * 60_000);
          const p = (n: number) => String(n).padStart(2, '0');
          const zone = tz >= 0 ? `+${p(tz)}` : `-${p(-tz)}`;
          const line = `+CCLK: "${p(local.getUTCFullYear() % 100)}/${p(local.getUTCMonth() + 1)}/${p(local.getUTCDate())},${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${zone}"`;
          const t = parseCclk([line], { minTrustedYear: 2000 });
          expect(t.utcMs).toBe(sec * 1000);
        },
      ),
    );
  });

  it('rejects impossible dates and malformed lines', () => {
    for (const l of [
      '+CCLK: "26/02/31,00:00:00+28"',
      '+CCLK: "26/13/01,00:00:00+28"',
      '+CCLK: 26/01/01',
      'garbage',
    ]) {
      expect(code(() => parseCclk([l], opts))).toBe('MODEM_BAD_REPLY');
    }
  });
});
