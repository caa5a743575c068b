import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';
import { device } from './fixture.js';

const CSV_HEAD =
  'Mã,Đơn vị,Tên,Loại,Địa chỉ,Vĩ độ,Kinh độ,Năm lắp đặt,Tình trạng,Kiểm tra gần nhất,Thay thế,Thiết bị,Lịch sử sửa chữa,Ghi chú';

describe('station register', () => {
  let s: TestServer;
  let tech: Session;
  let viewer: Session;
  let other: Session;
  const csv = (lines: string[]) => `\ufeff${[CSV_HEAD, ...lines].join('\r\n')}\r\n`;
  const importCsv = (who: Session, text: string) =>
    who.request('POST', '/api/v1/register/import', text, { 'content-type': 'text/csv; charset=utf-8' });

  beforeAll(async () => {
    s = await startTestServer({ plugins: [reportsPlugin()] });
    await s.deps.store.devices.insert(device('st-02500-01', '08/02500', 'station', 'Cụm loa Chợ'));
    tech = await loginAs(s, 'kythuat', 'technician', ['08/02500']);
    viewer = await loginAs(s, 'xem', 'viewer', ['08']);
    other = await loginAs(s, 'xakhac', 'technician', ['08/02503']);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('imports a spreadsheet with legacy FM and wired clusters, linked to an enrolled device, names or codes', async () => {
    const r = await importCsv(
      tech,
      csv([
        'TT-01,08/02500,Cụm loa Chợ,Cụm loa IP/4G,Chợ Sơn Dương,21.7,105.4,2024,Tốt,2026-10-02,Tiếp tục sử dụng,st-02500-01,,',
        'FM-07,08/02500,Cụm FM thôn 7,cum loa fm khong day,Thôn 7,,,2009,Kém,2026-09-15,Dự kiến thay thế,,2024-05-02: thay ampli: 1.500.000; 2025-08-10: sửa anten: 300000,"Gỉ sét, hay mất sóng"',
        'DAY-02,08/02500,Cụm loa có dây khu 2,wired-cluster,,,,1998,broken,,replaced,,,',
      ]),
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ imported: 3, created: 3, replaced: 0 });
    const list = await viewer.json<Record<string, unknown>[]>('GET', '/api/v1/register?unit=08/02500');
    expect(
      list.body.map((e) => [e.id, e.typeName, e.conditionName, e.replacementName, e.repairCostVnd]),
    ).toEqual([
      ['DAY-02', 'Cụm loa có dây', 'Hỏng', 'Đã thay thế', 0],
      ['FM-07', 'Cụm loa FM không dây', 'Kém', 'Dự kiến thay thế', 1_800_000],
      ['TT-01', 'Cụm loa IP/4G', 'Tốt', 'Tiếp tục sử dụng', 0],
    ]);
    expect(list.body.find((e) => e.id === 'TT-01')?.deviceId).toBe('st-02500-01');
    expect(list.body.find((e) => e.id === 'FM-07')?.notes).toBe('Gỉ sét, hay mất sóng');
  });

  it('refuses a spreadsheet with bad rows: every bad line named, nothing imported, nothing stored changed', async () => {
    const before = await viewer.json<unknown[]>('GET', '/api/v1/register?unit=08');
    const r = await importCsv(
      tech,
      csv([
        'NEW-1,08/02500,Cụm loa mới,Cụm loa IP/4G,,,,2026,Tốt,,,,,', // good, but the file has bad lines
        'NEW-2,08/02500,,Cụm loa IP/4G,,,,2026,Tốt,,,,,', // no name
        'NEW-3,08/02500,Cụm 3,Loa phóng thanh,,,,20x6,Rất tốt,2026-13-45,,,,', // type, year, condition, date
        'NEW-4,08/02503,Cụm 4,Cụm loa IP/4G,,,,2020,Tốt,,,,,', // outside the technician's scope
        'NEW-5,08/02500,Cụm 5,Cụm loa IP/4G,,,,2020,Tốt,,,không-có,,', // unknown device
        'NEW-1,08/02500,Cụm trùng,Cụm loa IP/4G,,,,2020,Tốt,,,,,', // duplicate id
        'NEW-6,08/02500,Cụm 6,Cụm loa IP/4G,,,,2020,Tốt,,,,2025-01-01 thay loa 100,', // repair format
      ]),
    );
    expect(r.status).toBe(400);
    const body = (await r.json()) as {
      error: { code: string; details: { errors: { line: number; field: string; message: string }[] } };
    };
    expect(body.error.code).toBe('REGISTER_IMPORT_INVALID');
    const errs = body.error.details.errors;
    const at = (line: number) => errs.filter((e) => e.line === line).map((e) => e.field);
    expect(at(2)).toEqual([]);
    expect(at(3)).toEqual(['Tên']);
    expect(at(4).sort()).toEqual(['Kiểm tra gần nhất', 'Loại', 'Năm lắp đặt', 'Tình trạng'].sort());
    expect(at(5)).toEqual(['Đơn vị']);
    expect(errs.find((e) => e.line === 5)?.message).toContain('ngoài phạm vi');
    expect(at(6)).toEqual(['Thiết bị']);
    expect(at(7)).toEqual(['Mã']);
    expect(errs.find((e) => e.line === 7)?.message).toBe('mã NEW-1 trùng với dòng 2');
    expect(at(8)).toEqual(['Lịch sử sửa chữa']);
    const after = await viewer.json<unknown[]>('GET', '/api/v1/register?unit=08');
    expect(after.body).toEqual(before.body);
    // a header the template does not have is refused before any row
    const head = await importCsv(
      tech,
      'Mã,Đơn vị,Tên,Loại,Tình trạng,Màu sơn\r\nX,08/02500,X,other,good,đỏ\r\n',
    );
    const hb = (await head.json()) as { error: { details: { errors: { line: number; field: string }[] } } };
    expect(hb.error.details.errors).toEqual([
      { line: 1, field: 'Màu sơn', message: 'cột "Màu sơn" không có trong mẫu sổ' },
    ]);
  });

  it('exports XLSX that reads back cell by cell and imports again unchanged (replacing by id)', async () => {
    const res = await viewer.request('GET', '/api/v1/register?unit=08/02500&format=xlsx');
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const buf = Buffer.from(await res.arrayBuffer());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Sổ thiết bị');
    expect(ws?.getRow(1).getCell(1).value).toBe('Mã');
    expect(ws?.getRow(1).getCell(14).value).toBe('Tổng chi phí sửa chữa (đồng)');
    const fm = ws?.getRow(3);
    expect([1, 2, 3, 4, 8, 9, 11, 13, 14].map((c) => fm?.getCell(c).value)).toEqual([
      'FM-07',
      '08/02500',
      'Cụm FM thôn 7',
      'Cụm loa FM không dây',
      2009,
      'Kém',
      'Dự kiến thay thế',
      '2024-05-02: thay ampli: 1500000; 2025-08-10: sửa anten: 300000',
      1_800_000,
    ]);
    const again = await fetch(`${s.url}/api/v1/register/import`, {
      method: 'POST',
      headers: {
        cookie: tech.cookie,
        'x-csrf-token': tech.csrf,
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      },
      body: buf,
    });
    const againBody = await again.json();
    expect(againBody, JSON.stringify(againBody)).toEqual({ imported: 3, created: 0, replaced: 3 });
    const list = await viewer.json<{ id: string; repairs: unknown[] }[]>(
      'GET',
      '/api/v1/register?unit=08/02500',
    );
    expect(list.body.find((e) => e.id === 'FM-07')?.repairs).toHaveLength(2);
  });

  it('records a repair and a new condition; another commune cannot see or change the entry', async () => {
    const r = await tech.json<{ repairCostVnd: number }>('POST', '/api/v1/register/FM-07/repairs', {
      date: '2026-11-30',
      description: 'Thay loa nén',
      costVnd: 2_000_000,
    });
    expect(r.status).toBe(201);
    expect(r.body.repairCostVnd).toBe(3_800_000);
    const p = await tech.json<{ conditionName: string }>('PATCH', '/api/v1/register/FM-07', {
      condition: 'fair',
      lastInspection: '2026-11-30',
    });
    expect(p.body.conditionName).toBe('Trung bình');
    const foreign = await other.json<{ error: { code: string } }>('PATCH', '/api/v1/register/FM-07', {
      condition: 'good',
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('REGISTER_NOT_FOUND');
    const bad = await tech.json<{ error: { code: string } }>('PATCH', '/api/v1/register/TT-01', {
      deviceId: 'khong-co',
    });
    expect(bad.body.error.code).toBe('DEVICE_NOT_FOUND');
    const denied = await viewer.json<{ error: { code: string } }>('DELETE', '/api/v1/register/DAY-02');
    expect(denied.status).toBe(403);
  });
});
