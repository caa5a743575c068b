import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { FakeClock, loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';

const HEAD = 'Mã,Đơn vị,Họ và tên,Chức danh,Điện thoại,Ngày nhận nhiệm vụ,Ngày thôi việc,Ghi chú';
type Err = {
  error: { code: string; details?: { errors?: { line: number; field: string; message: string }[] } };
};

describe('staff and training register API', () => {
  // 2026-12-10 10:00 in Vietnam, whatever the hour the test runs at
  const clock = new FakeClock(Date.parse('2026-12-10T03:00:00Z'));
  let s: TestServer;
  let op: Session;
  let viewer: Session;
  let other: Session;
  let admin: Session;
  const csv = (lines: string[]) => `\ufeff${[HEAD, ...lines].join('\r\n')}\r\n`;
  const importCsv = (who: Session, text: string) =>
    who.request('POST', '/api/v1/staff/import', text, { 'content-type': 'text/csv; charset=utf-8' });

  beforeAll(async () => {
    s = await startTestServer({ clock, plugins: [reportsPlugin({ schedule: false })] });
    op = await loginAs(s, 'vanhanh', 'operator', ['08/02500']);
    viewer = await loginAs(s, 'xem', 'viewer', ['08/02500']);
    other = await loginAs(s, 'xakhac', 'operator', ['08/02503']);
    admin = await loginAs(s, 'tinh', 'administrator', ['08']);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('imports a staff spreadsheet; phone numbers only for roles that need them, and their reading is audited', async () => {
    const r = await importCsv(
      op,
      csv([
        'CB-01,08/02500,Nguyễn Văn An,Phụ trách đài truyền thanh xã,+84 912 345 678,2021-03-01,,',
        'CB-02,08/02500,Trần Thị Bình,"Công chức Văn hóa - Xã hội",0987.654.321,2024-08-15,,"Kiêm nhiệm, bán thời gian"',
        'CB-03,08/02500,Lê Văn Cường,Kỹ thuật viên,,2019-01-01,2026-06-30,',
      ]),
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ imported: 3, created: 3, replaced: 0 });
    const seen = await op.json<Record<string, unknown>[]>('GET', '/api/v1/staff?unit=08/02500');
    expect(seen.body.map((x) => [x.id, x.phone, x.phoneHidden])).toEqual([
      ['CB-03', undefined, false],
      ['CB-01', '+84 912 345 678', false],
      ['CB-02', '0987.654.321', false],
    ]);
    const hidden = await viewer.json<Record<string, unknown>[]>('GET', '/api/v1/staff?unit=08/02500');
    expect(hidden.body.map((x) => [x.id, x.phone, x.phoneHidden])).toEqual([
      ['CB-03', undefined, true],
      ['CB-01', undefined, true],
      ['CB-02', undefined, true],
    ]);
    const csvOut = await (await viewer.request('GET', '/api/v1/staff?unit=08/02500&format=csv')).text();
    expect(csvOut).not.toContain('912');
    expect(csvOut.split('\r\n')[0]).not.toContain('Điện thoại');
    const reads = await s.deps.store.audit.query({ action: 'staff.contacts.read' });
    expect(reads.length).toBe(1);
    expect(reads[0]?.actor.name).toBe('vanhanh');
    expect(reads[0]?.details).toMatchObject({ phones: 2 });
  });

  it('exports XLSX that reads back cell by cell and imports again unchanged (replacing by code)', async () => {
    const res = await op.request('GET', '/api/v1/staff?unit=08/02500&format=xlsx');
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const buf = Buffer.from(await res.arrayBuffer());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Cán bộ');
    expect(ws?.getRow(1).values).toEqual([
      undefined,
      'Mã',
      'Đơn vị',
      'Họ và tên',
      'Chức danh',
      'Điện thoại',
      'Ngày nhận nhiệm vụ',
      'Ngày thôi việc',
      'Ghi chú',
      'Đã bồi dưỡng',
      'Số khóa đã hoàn thành',
    ]);
    expect(ws?.getRow(4).values).toEqual([
      undefined,
      'CB-02',
      '08/02500',
      'Trần Thị Bình',
      'Công chức Văn hóa - Xã hội',
      '0987.654.321',
      '2024-08-15',
      undefined,
      'Kiêm nhiệm, bán thời gian',
      'Chưa',
      0,
    ]);
    const before = await s.deps.store.staff.list();
    const again = await fetch(`${s.url}/api/v1/staff/import`, {
      method: 'POST',
      headers: {
        cookie: op.cookie,
        'x-csrf-token': op.csrf,
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      },
      body: buf,
    });
    expect(await again.json()).toEqual({ imported: 3, created: 0, replaced: 3 });
    const after = await s.deps.store.staff.list();
    const fields = (l: typeof before) =>
      l.map(({ createdAt, updatedAt, ...f }) => f).sort((a, b) => a.id.localeCompare(b.id));
    expect(fields(after)).toEqual(fields(before));
  });

  it('refuses a spreadsheet with bad rows: every line named, nothing stored', async () => {
    const before = await s.deps.store.staff.list();
    const r = await importCsv(
      op,
      csv([
        'CB-10,08/02500,Người mới,Phụ trách đài,,,,', // good, but the file has bad lines
        'CB-11,08/02500,,Phụ trách đài,0912,2026-02-30,,', // no name, short phone, no such day
        'CB-12,08/02503,Người xã khác,Phụ trách đài,,,,', // outside the operator's scope
        'CB-13,08/99999,Người lạ,Phụ trách đài,,,,', // no such unit
        'CB-14,08/02500,Người thôi việc sớm,Phụ trách đài,,2026-05-01,2026-04-01,', // left before hired
        'CB-10,08/02500,Trùng mã,Phụ trách đài,,,,',
      ]),
    );
    expect(r.status).toBe(400);
    const body = (await r.json()) as Err;
    expect(body.error.code).toBe('STAFF_IMPORT_INVALID');
    const errs = body.error.details?.errors ?? [];
    const at = (line: number) =>
      errs
        .filter((e) => e.line === line)
        .map((e) => e.field)
        .sort();
    expect(at(2)).toEqual([]);
    expect(at(3)).toEqual(['Họ và tên', 'Ngày nhận nhiệm vụ', 'Điện thoại'].sort());
    expect(at(4)).toEqual(['Đơn vị']);
    expect(errs.find((e) => e.line === 4)?.message).toContain('ngoài phạm vi');
    expect(at(5)).toEqual(['Đơn vị']);
    expect(at(6)).toEqual(['Ngày thôi việc']);
    expect(at(7)).toEqual(['Mã']);
    expect(await s.deps.store.staff.list()).toEqual(before);
    // not a spreadsheet, and a broken XLSX
    const txt = await op.request('POST', '/api/v1/staff/import', 'x', { 'content-type': 'text/plain' });
    expect(txt.status).toBe(415);
    const bad = await op.request('POST', '/api/v1/staff/import', 'PK not a zip', {
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    });
    expect(((await bad.json()) as Err).error.code).toBe('STAFF_FILE_UNREADABLE');
  });

  it('refuses bad single inputs with stable codes and keeps scope', async () => {
    const cases: [Session, string, string, unknown, number, string][] = [
      [op, 'POST', '/api/v1/staff', { id: 'x', unit: '08/02500', name: 'A' }, 400, 'VALIDATION_FAILED'],
      [
        op,
        'POST',
        '/api/v1/staff',
        { id: 'CB-01', unit: '08/02500', name: 'A', position: 'B' },
        409,
        'STAFF_EXISTS',
      ],
      [
        op,
        'POST',
        '/api/v1/staff',
        { id: 'y', unit: '08/02503', name: 'A', position: 'B' },
        403,
        'FORBIDDEN_SCOPE',
      ],
      [
        viewer,
        'POST',
        '/api/v1/staff',
        { id: 'z', unit: '08/02500', name: 'A', position: 'B' },
        403,
        'FORBIDDEN_ROLE',
      ],
      [other, 'PATCH', '/api/v1/staff/CB-01', { position: 'khác' }, 404, 'STAFF_NOT_FOUND'],
      [op, 'PATCH', '/api/v1/staff/CB-01', { hiredOn: '2026-13-01' }, 400, 'VALIDATION_FAILED'],
      [op, 'PATCH', '/api/v1/staff/CB-01', { leftOn: '2020-01-01' }, 400, 'STAFF_INVALID'],
      [
        op,
        'POST',
        '/api/v1/training/courses',
        {
          id: 'k',
          unit: '08/02500',
          title: 'T',
          date: '2026-12-01',
          endDate: '2026-11-01',
          organiser: 'O',
          hours: 8,
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        op,
        'POST',
        '/api/v1/training/courses',
        { id: 'k', unit: '08/02500', title: 'T', date: '2026-12-01', organiser: 'O', hours: -1 },
        400,
        'VALIDATION_FAILED',
      ],
      [op, 'PUT', '/api/v1/training/courses/none/attendance/CB-01', {}, 404, 'COURSE_NOT_FOUND'],
      [op, 'GET', '/api/v1/reports/training?unit=08/02503', undefined, 403, 'FORBIDDEN_SCOPE'],
    ];
    for (const [who, method, path, body, status, code] of cases) {
      const r = await who.request(method, path, body);
      expect([path, r.status]).toEqual([path, status]);
      expect([path, ((await r.json()) as Err).error.code]).toEqual([path, code]);
    }
    expect((await s.deps.store.staff.get('CB-01'))?.position).toBe('Phụ trách đài truyền thanh xã');
  });

  it('records courses, attendance and certificates, and measures "staff trained" in the KPI and the reports', async () => {
    // a province course seen by the commune, and the commune's own
    const k1 = await admin.json('POST', '/api/v1/training/courses', {
      id: 'TQ-2026-01',
      unit: '08',
      title: 'Bồi dưỡng vận hành đài truyền thanh ứng dụng CNTT-VT',
      date: '2026-10-05',
      endDate: '2026-10-07',
      organiser: 'Sở Văn hóa, Thể thao và Du lịch tỉnh Tuyên Quang',
      hours: 24,
      topics: ['Vận hành cụm loa IP', 'Biên tập tin bài'],
    });
    expect(k1.status).toBe(201);
    const k2 = await op.json('POST', '/api/v1/training/courses', {
      id: 'SD-2026-02',
      unit: '08/02500',
      title: 'Tập huấn sử dụng bảng tin điện tử',
      date: '2026-12-15',
      organiser: 'UBND xã',
      hours: 4,
    });
    expect(k2.status).toBe(201);
    const a = await op.json('PUT', '/api/v1/training/courses/TQ-2026-01/attendance/CB-01', {
      completed: true,
      certificateNo: 'CC-0123/2026',
      certificateDate: '2026-10-07',
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ unit: '08/02500', completed: true, certificateNo: 'CC-0123/2026' });
    // a certificate before the course began is refused; another commune cannot record this staff
    const early = await op.request('PUT', '/api/v1/training/courses/TQ-2026-01/attendance/CB-02', {
      certificateDate: '2026-01-01',
    });
    expect(((await early.json()) as Err).error.code).toBe('ATTENDANCE_INVALID');
    const foreign = await other.request('PUT', '/api/v1/training/courses/TQ-2026-01/attendance/CB-02', {});
    expect(((await foreign.json()) as Err).error.code).toBe('STAFF_NOT_FOUND');
    await op.json('PUT', '/api/v1/training/courses/SD-2026-02/attendance/CB-02', { completed: true });
    const courses = await viewer.json<Record<string, unknown>[]>('GET', '/api/v1/training/courses');
    expect(courses.body.map((c) => [c.id, c.attendees, c.completed])).toEqual([
      ['SD-2026-02', 1, 1],
      ['TQ-2026-01', 1, 1],
    ]);
    const list = await viewer.json<Record<string, unknown>[]>('GET', '/api/v1/staff?unit=08/02500');
    expect(list.body.map((x) => [x.id, x.trained, x.completedCourses])).toEqual([
      ['CB-03', false, 0],
      ['CB-01', true, 1],
      ['CB-02', false, 1], // its course has not ended yet (15/12)
    ]);

    // Q4 2026 measured today (10/12): CB-03 left in June; CB-01 of CB-01, CB-02 trained
    const tr = await viewer.json<{ training: Record<string, unknown> }>(
      'GET',
      '/api/v1/reports/training?unit=08/02500&period=2026-Q4',
    );
    expect(tr.body.training).toMatchObject({
      day: '2026-12-10',
      staff: 2,
      trained: 1,
      share: 0.5,
      coursesInPeriod: 1,
    });
    const kpi = await viewer.json<{
      kpis: { key: string; value: number | null; met: boolean | null; source: string }[];
    }>('GET', '/api/v1/reports/kpi?unit=08/02500&period=2026-Q4');
    const k = kpi.body.kpis.find((x) => x.key === 'staff-trained');
    expect(k).toMatchObject({ value: 0.5, met: false });
    expect(k?.source).toContain('1/2');
    const eff = await viewer.json<{ training: { trained: number; untrained: { id: string }[] } }>(
      'GET',
      '/api/v1/reports/effectiveness?unit=08/02500&period=2026-Q4',
    );
    expect(eff.body.training.untrained.map((x) => x.id)).toEqual(['CB-02']);
    // the XLSX of the effectiveness report carries the indicators and the staff still to train
    const x = await viewer.request(
      'GET',
      '/api/v1/reports/effectiveness?unit=08/02500&period=2026-Q4&format=xlsx',
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await x.arrayBuffer()) as unknown as ArrayBuffer);
    const kws = wb.getWorksheet('Chỉ tiêu');
    const row = kws
      ?.getRows(2, kws.rowCount - 1)
      ?.find((r) => String(r.getCell(1).value).includes('bồi dưỡng'));
    expect([row?.getCell(3).value, row?.getCell(4).value, row?.getCell(5).value]).toEqual([
      0.5,
      1,
      'Chưa đạt',
    ]);
    const uws = wb.getWorksheet('Cán bộ chưa bồi dưỡng');
    expect(uws?.getRow(2).values).toEqual([
      undefined,
      '08/02500',
      'CB-02',
      'Trần Thị Bình',
      'Công chức Văn hóa - Xã hội',
    ]);
    // the course export: one row per attendance line
    const cx = await viewer.request('GET', '/api/v1/training/courses?format=csv');
    const lines = (await cx.text()).trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('CC-0123/2026');
  });

  it('removes a staff member with their attendance, audited', async () => {
    const r = await op.request('DELETE', '/api/v1/staff/CB-02');
    expect(r.status).toBe(204);
    expect(await s.deps.store.trainingAttendance.list((a) => a.staffId === 'CB-02')).toEqual([]);
    const log = await s.deps.store.audit.query({ action: 'staff.' });
    expect(log.map((e) => e.action)).toEqual(
      expect.arrayContaining(['staff.delete', 'staff.import', 'staff.contacts.read']),
    );
  });
});
