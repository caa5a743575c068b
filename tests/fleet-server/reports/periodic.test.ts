import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeriodicReport } from '../../../fleet-server/src/domain/reports/periodic.js';
import { periodsDue, placeOf } from '../../../fleet-server/src/domain/reports/periodic.js';
import { type ReportsPlugin, reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { FakeClock, loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';
import { BUNDLE, Chains, device, writeProofs } from './fixture.js';

/** The text of a PDF in reading order, as a reader would copy it (poppler's pdftotext), spaces folded. */
function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'loa-pdf-'));
  writeFileSync(join(dir, 'r.pdf'), pdf);
  execFileSync('pdftotext', [join(dir, 'r.pdf'), join(dir, 'r.txt')]);
  return readFileSync(join(dir, 'r.txt'), 'utf8').replace(/\s+/g, ' ');
}

describe('periodic report schedule (pure)', () => {
  it('owes the previous quarter in the first ten days of a quarter, and the year in January', () => {
    expect(periodsDue('2026-10-01')).toEqual(['2026-Q3']);
    expect(periodsDue('2026-10-10')).toEqual(['2026-Q3']);
    expect(periodsDue('2026-10-11')).toEqual([]);
    expect(periodsDue('2026-11-02')).toEqual([]);
    expect(periodsDue('2027-01-05')).toEqual(['2026-Q4', '2026']);
    expect(placeOf('Xã Tân Trào')).toBe('Tân Trào');
    expect(placeOf('Tỉnh Tuyên Quang')).toBe('Tuyên Quang');
  });
});

describe('periodic reports', () => {
  const clock = new FakeClock(Date.parse('2026-11-23T16:00:00Z'));
  let s: TestServer;
  let plugin: ReportsPlugin;
  let official: Session;

  beforeAll(async () => {
    plugin = reportsPlugin({ schedule: false });
    s = await startTestServer({ clock, plugins: [plugin] });
    const { store } = s.deps;
    await store.devices.insert(device('st1', '08/02503', 'station', 'Cụm loa Thôn Tân Lập'));
    await store.devices.insert(device('st2', '08/02503', 'station', 'Cụm loa Đình Hồng Thái'));
    await store.bundles.insert(BUNDLE);
    const chains = new Chains();
    for (const day of ['2026-11-24', '2026-11-25']) {
      clock.t = Date.parse(`${day}T06:00:00+07:00`);
      await writeProofs(store, [chains.proof('st1', day)], new Date(clock.t).toISOString());
    }
    clock.t = Date.parse('2027-01-03T09:00:00+07:00');
    official = await loginAs(s, 'xa.tantrao', 'viewer', ['08/02503']);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('issues a numbered quarterly report as a PDF in the administrative layout, archived', async () => {
    const res = await official.request('POST', '/api/v1/reports/periodic?period=2026-Q4&format=pdf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    writeFileSync(join(tmpdir(), 'loa-periodic-report.pdf'), pdf);
    const text = pdfText(pdf);
    for (const line of [
      'UBND TỈNH TUYÊN QUANG',
      'UBND XÃ TÂN TRÀO',
      'Số: 01/BC-UBND',
      'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM',
      'Độc lập - Tự do - Hạnh phúc',
      'Tân Trào, ngày 03 tháng 01 năm 2027',
      'BÁO CÁO',
      'Kết quả hoạt động thông tin cơ sở quý IV năm 2026',
      'I. KẾT QUẢ CHUNG',
      'Nơi nhận:',
      'TM. ỦY BAN NHÂN DÂN',
      'CHỦ TỊCH',
    ])
      expect(text).toContain(line);
    // two stations, a bulletin every morning from 20 November to 19 December (the bundle's validity): 60 due, 2 heard
    expect(text).toMatch(/đã phát 2\/60 lượt theo kế hoạch \(3,3%\)/);
    expect(text).toMatch(/Cụm loa Đình Hồng Thái \(30\)/);
    expect(text).toMatch(/Cụm loa Thôn Tân Lập \(28\)/);
    expect(text).toContain(
      'Nơi nhận: - UBND Tỉnh Tuyên Quang; - Sở Văn hóa, Thể thao và Du lịch; - Lưu: VT.',
    );

    const list = await official.json<PeriodicReport[]>('GET', '/api/v1/reports/archive');
    expect(list.body).toHaveLength(1);
    const r = list.body[0] as PeriodicReport;
    expect([r.unit, r.period, r.number, r.periodName, r.generatedBy !== 'schedule']).toEqual([
      '08/02503',
      '2026-Q4',
      '01/BC-UBND',
      'Quý IV năm 2026',
      true,
    ]);
    // the archived PDF is the same bytes; the workbook reads back cell by cell
    const again = Buffer.from(
      await (
        await official.request('GET', `/api/v1/reports/archive/${r.id}`, undefined, {
          accept: 'application/pdf',
        })
      ).arrayBuffer(),
    );
    expect(again.equals(pdf)).toBe(true);
    const xlsx = await official.request('GET', `/api/v1/reports/archive/${r.id}?format=xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    const units = wb.getWorksheet('Theo đơn vị');
    expect([1, 2, 3, 5, 6, 7].map((c) => units?.getRow(2).getCell(c).value)).toEqual([
      '08/02503',
      'Xã Tân Trào',
      2,
      60,
      2,
      0.0333, // the share, to four decimals
    ]);
    const csv = await (await official.request('GET', `/api/v1/reports/archive/${r.id}?format=csv`)).text();
    expect(csv.split('\r\n')[1]).toBe('2026-11-20,08/02503,Xã Tân Trào,Loa,2,0,0.0000');
    expect(csv.split('\r\n')[5]).toBe('2026-11-24,08/02503,Xã Tân Trào,Loa,2,1,0.5000');
  });

  it('numbers the next report of the year after it, and refuses a bad period', async () => {
    const r = await official.json<PeriodicReport>('POST', '/api/v1/reports/periodic?period=2026');
    expect(r.status).toBe(201);
    expect(r.body.number).toBe('02/BC-UBND');
    expect(r.body.periodName).toBe('Năm 2026');
    const bad = await official.json<{ error: { code: string } }>(
      'POST',
      '/api/v1/reports/periodic?period=2026-Q7',
    );
    expect(bad.status).toBe(400);
    const foreign = await official.json<{ error: { code: string } }>(
      'POST',
      '/api/v1/reports/periodic?period=2026&unit=08',
    );
    expect(foreign.body.error.code).toBe('FORBIDDEN_SCOPE');
  });

  it('the schedule issues what is owed once (the province and its communes), and not again', async () => {
    const periodic = plugin.periodic;
    if (!periodic) throw new Error('not started');
    // a small tree: keep only the province and one commune for the schedule's run
    const { store } = s.deps;
    for (const u of await store.units.list((x) => x.parent === '08' && x.path !== '08/02503'))
      await store.units.delete(u.path);
    const made = await periodic.runSchedule();
    expect(made.map((r) => `${r.unit} ${r.period} ${r.generatedBy}`).sort()).toEqual([
      '08 2026 schedule',
      '08 2026-Q4 schedule',
      '08/02503 2026 schedule',
      '08/02503 2026-Q4 schedule',
    ]);
    expect(await periodic.runSchedule()).toEqual([]);
  });
});
