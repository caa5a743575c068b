import { describe, expect, it } from 'vitest';
import { computeKpis } from '../../../fleet-server/src/domain/reports/kpi.js';
import {
  parseStaffSheet,
  type StaffFields,
  trainingFigures,
} from '../../../fleet-server/src/domain/staff.js';

const staff = (id: string, unit: string, extra: Partial<StaffFields> = {}): StaffFields => ({
  id,
  unit,
  name: `Cán bộ ${id}`,
  position: 'Phụ trách đài truyền thanh xã',
  ...extra,
});
const course = (id: string, date: string, endDate?: string) => ({
  id,
  unit: '08',
  title: `Khóa ${id}`,
  date,
  ...(endDate ? { endDate } : {}),
  organiser: 'Sở Văn hóa, Thể thao và Du lịch',
  hours: 16,
  topics: ['Vận hành đài IP'],
});

describe('the training indicator (pure, on a given day)', () => {
  const people = [
    staff('a', '08/02500', { hiredOn: '2020-01-01' }),
    staff('b', '08/02500'),
    staff('c', '08/02503', { hiredOn: '2026-12-15' }), // not yet at work on 2026-12-01
    staff('d', '08/02503', { hiredOn: '2019-01-01', leftOn: '2026-06-30' }), // left
    staff('e', '08/02503'),
  ];
  const courses = [course('k1', '2026-03-10', '2026-03-12'), course('k2', '2026-11-28', '2026-12-05')];
  const attendance = [
    { courseId: 'k1', staffId: 'a', completed: true },
    { courseId: 'k1', staffId: 'd', completed: true },
    { courseId: 'k1', staffId: 'e', completed: false }, // attended, did not complete
    { courseId: 'k2', staffId: 'b', completed: true }, // ends after the day
    { courseId: 'gone', staffId: 'e', completed: true }, // course removed
  ];

  it.each([
    // day, staff at work, trained, untrained ids
    ['2026-03-11', 4, 0, ['a', 'b', 'd', 'e']], // k1 has not ended yet; d still at work
    ['2026-03-12', 4, 2, ['b', 'e']],
    ['2026-12-01', 3, 1, ['b', 'e']],
    ['2026-12-05', 3, 2, ['e']],
    ['2026-12-31', 4, 2, ['c', 'e']],
  ])('on %s: %i at work, %i trained', (day, n, trained, untrained) => {
    const f = trainingFigures({ staff: people, courses, attendance, from: '2026-01-01', day });
    expect(f.staff).toBe(n);
    expect(f.trained).toBe(trained);
    expect(f.share).toBeCloseTo(trained / n, 10);
    expect(f.untrained.map((s) => s.id).sort()).toEqual([...untrained].sort());
    expect(f.source).toContain(`${trained}/${n}`);
  });

  it('counts courses and completed hours held inside the period only', () => {
    const f = trainingFigures({ staff: people, courses, attendance, from: '2026-10-01', day: '2026-12-31' });
    expect(f.coursesInPeriod).toBe(1);
    expect(f.attendanceInPeriod).toBe(1);
    expect(f.hoursInPeriod).toBe(16);
  });

  it('has no share without staff, and the KPI says it is not measured', () => {
    const f = trainingFigures({ staff: [], courses, attendance, from: '2026-01-01', day: '2026-12-31' });
    expect(f.share).toBeNull();
  });

  it('feeds the plan indicator "100 % of staff trained"', () => {
    const training = trainingFigures({
      staff: people,
      courses,
      attendance,
      from: '2026-01-01',
      day: '2026-12-05',
    });
    const zero = { planned: 0, done: 0, rate: null };
    const totals = {
      unit: '08',
      unitName: 'Tuyên Quang',
      stations: 0,
      noticeboards: 0,
      audio: zero,
      display: zero,
      essential: { targeted: 0, reached: 0, share: null },
      uptime: { knownHours: 0, onlineHours: 0, uptime: null, outages: 0, longestOutageMinutes: 0 },
      completedPlays: 0,
      failedPlays: 0,
      interruptedPlays: 0,
      faults: 0,
    };
    const report = {
      unit: '08',
      unitName: 'Tuyên Quang',
      period: { from: '2026-10-01', to: '2026-12-31', name: 'Quý IV năm 2026' },
      generatedAt: '2026-12-05T00:00:00.000Z',
      totals,
      units: [],
      daily: [],
      essential: { targeted: 0, reached: 0, share: null, items: [] },
      airtime: { byCategory: [], byLanguage: [] },
      faults: [],
      feedback: null,
      training,
    } as unknown as Parameters<typeof computeKpis>[0]['report'];
    const k = computeKpis({ report, communes: [], devices: [], register: [] }).find(
      (x) => x.key === 'staff-trained',
    );
    expect(k).toMatchObject({ value: 2 / 3, target: 1, met: false });
    expect(k?.source).toContain('2/3');
    const none = computeKpis({
      report: { ...report, training: null },
      communes: [],
      devices: [],
      register: [],
    });
    expect(none.find((x) => x.key === 'staff-trained')).toMatchObject({ value: null, met: null });
  });
});

describe('staff spreadsheet rows', () => {
  const ctx = {
    unitExists: (u: string) => u.startsWith('08'),
    inScope: (u: string) => u.startsWith('08/02500'),
  };
  it('reads headers without diacritics and checks every line', () => {
    const rows = [
      ['Ma', 'Don vi', 'Ho va ten', 'Chuc danh', 'Dien thoai', 'Ngay nhan nhiem vu'],
      ['CB-1', '08/02500', 'Nguyễn Văn An', 'Phụ trách đài', '0912 345 678', '2024-02-01'],
      ['CB-2', '08/02500', '', 'Phụ trách đài', 'abc', '2024-02-30'],
      ['CB-3', '08/02503', 'Lê Thị Ba', 'Công chức VH-XH', '', ''],
      ['CB-1', '08/02500', 'Trùng mã', 'X', '', ''],
      ['', '', '', '', '', ''],
    ];
    const r = parseStaffSheet(rows, ctx);
    expect(r.entries.map((e) => e.id)).toEqual(['CB-1']);
    const at = (line: number) =>
      r.errors
        .filter((e) => e.line === line)
        .map((e) => e.field)
        .sort();
    expect(at(3)).toEqual(['Họ và tên', 'Ngày nhận nhiệm vụ', 'Điện thoại'].sort());
    expect(at(4)).toEqual(['Đơn vị']);
    expect(at(5)).toEqual(['Mã']);
    expect(r.errors.find((e) => e.line === 5)?.message).toBe('mã CB-1 trùng với dòng 2');
  });
  it('names a missing or unknown column on line 1 and reads no row', () => {
    const r = parseStaffSheet(
      [
        ['Mã', 'Đơn vị', 'Họ và tên', 'Quê quán'],
        ['x', '08/02500', 'A', 'B'],
      ],
      ctx,
    );
    expect(r.entries).toEqual([]);
    expect(r.errors).toEqual([
      { line: 1, field: 'Quê quán', message: 'cột "Quê quán" không có trong mẫu' },
      { line: 1, field: 'Chức danh', message: 'thiếu cột "Chức danh"' },
    ]);
  });
});
