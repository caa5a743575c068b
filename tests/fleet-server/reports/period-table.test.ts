import { describe, expect, it } from 'vitest';
import { namedPeriod, periodName, periodOf } from '../../../fleet-server/src/domain/reports/period.js';
import { toCsv } from '../../../fleet-server/src/domain/reports/table.js';

describe('report periods', () => {
  it('names quarters, years and months in Vietnamese and covers whole Vietnamese days', () => {
    const q = namedPeriod('2026-Q4');
    expect([q.from, q.to, q.days.length]).toEqual(['2026-10-01', '2026-12-31', 92]);
    expect(periodName(q)).toBe('Quý IV năm 2026');
    expect(periodName(namedPeriod('2026'))).toBe('Năm 2026');
    expect(periodName(namedPeriod('2026-02'))).toBe('Tháng 2 năm 2026');
    expect(q.startMs).toBe(Date.parse('2026-10-01T00:00:00+07:00'));
    expect(q.endMs).toBe(Date.parse('2027-01-01T00:00:00+07:00'));
  });

  it('refuses reversed, malformed, impossible and too long periods with stable codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'none';
    };
    expect(code(() => periodOf('2026-11-25', '2026-11-24'))).toBe('REPORT_PERIOD_INVALID');
    expect(code(() => periodOf('2026-02-30', '2026-03-01'))).toBe('REPORT_PERIOD_INVALID');
    expect(code(() => namedPeriod('2026-Q5'))).toBe('REPORT_PERIOD_INVALID');
    expect(code(() => periodOf('2025-01-01', '2026-12-31'))).toBe('REPORT_PERIOD_TOO_LONG');
  });
});

describe('CSV export', () => {
  it('neutralises formulas, quotes separators, keeps shares to four decimals, starts with a BOM', () => {
    const csv = toCsv({
      name: 't',
      columns: [
        { key: 'a', header: 'Tên' },
        { key: 'b', header: 'Tỷ lệ', kind: 'percent' },
        { key: 'c', header: 'Số', kind: 'number' },
      ],
      rows: [
        ['=HYPERLINK("x")', 0.5, 3],
        ['Xã Tân Trào, Tuyên Quang', null, -1],
      ],
    });
    expect(csv).toBe(
      '\ufeffTên,Tỷ lệ,Số\r\n"\'=HYPERLINK(""x"")",0.5000,3\r\n"Xã Tân Trào, Tuyên Quang",,-1\r\n',
    );
  });
});
