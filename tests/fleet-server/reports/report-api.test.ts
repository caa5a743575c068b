import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EffectivenessReport } from '../../../fleet-server/src/domain/reports/effectiveness.js';
import { categoryName } from '../../../fleet-server/src/domain/reports/labels.js';
import type { PlayLine } from '../../../fleet-server/src/domain/reports/plays.js';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { FakeClock, loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';
import { alert, BUNDLE, Chains, device, writeProofs } from './fixture.js';

// The clock: Vietnamese days 24 and 25 November 2026 (UTC+7), the report read on the 27th.
const clock = new FakeClock(Date.parse('2026-11-23T16:00:00Z'));
const H = 3600_000;
type Plays = { lines: PlayLine[] };

describe('report API', () => {
  let s: TestServer;
  let admin: Session;
  let commune: Session;
  const chains = new Chains();
  const stored: { eventId: string; deviceId: string }[] = [];

  beforeAll(async () => {
    s = await startTestServer({ clock, plugins: [reportsPlugin()] });
    const { store } = s.deps;
    for (const d of [
      device('st1', '08/02500', 'station', 'Cụm loa Chợ'),
      device('st2', '08/02500', 'station', 'Cụm loa Đình'),
      device('nb1', '08/02500', 'noticeboard', 'Bảng tin UBND'),
      device('st9', '08/02503', 'station', 'Cụm loa Tân Trào'),
    ])
      await store.devices.insert(d);
    await store.bundles.insert(BUNDLE);
    // presence: the server started at 23:00 on the 23rd (its start mark, an hour before the period); stations connect, st2 drops for 6 h
    const presence = async (t: number, event: 'connect' | 'disconnect', deviceId: string) => {
      clock.t = t;
      await store.presence.append({ at: new Date(t).toISOString(), event, deviceId });
    };
    const start = clock.t;
    await presence(start + 10_000, 'connect', 'st1');
    await presence(start + 10_000, 'connect', 'st2');
    await presence(start + 10_000, 'connect', 'nb1');
    await presence(start + 10_000, 'connect', 'st9');
    await presence(start + 5 * H, 'disconnect', 'st2');
    await presence(start + 11 * H, 'connect', 'st2');
    // proofs of the 24th and 25th, received the same mornings; st2 missed the 24th, nb1 showed the text on the 24th
    clock.t = Date.parse('2026-11-24T06:00:00+07:00');
    const day1 = [
      chains.proof('st1', '2026-11-24'),
      chains.proof('nb1', '2026-11-24', {
        kind: 'display',
        itemId: 'n',
        priority: 'normal',
        endedAt: undefined,
        outcome: 'started',
        loudnessLufs: undefined,
      }),
      chains.proof('st9', '2026-11-24'),
    ];
    await writeProofs(store, day1, new Date(clock.t).toISOString());
    clock.t = Date.parse('2026-11-25T06:00:00+07:00');
    const day2 = [
      chains.proof('st1', '2026-11-25'),
      chains.proof('st2', '2026-11-25'),
      chains.proof('st9', '2026-11-25'),
    ];
    await writeProofs(store, day2, new Date(clock.t).toISOString());
    for (const p of [...day1, ...day2]) stored.push({ eventId: p.eventId, deviceId: p.deviceId });
    // start-up noise (30 s) and a real fault (1 h)
    await store.alerts.insert(
      alert('a1', 'st1', 'mains-lost', '2026-11-24T00:00:10+07:00', '2026-11-24T00:00:40+07:00'),
    );
    await store.alerts.insert(
      alert('a2', 'st2', 'amp-fault', '2026-11-24T10:00:00+07:00', '2026-11-24T11:00:00+07:00'),
    );
    // citizens' feedback: two in the unit and period (one answered), one after it, one elsewhere
    const feedback = (id: string, unit: string, createdAt: string, answeredAt?: string) =>
      store.feedback.insert({
        id,
        unit,
        topic: 'speaker',
        text: 'Loa ở thôn 3 không nghe rõ',
        status: answeredAt ? 'answered' : 'new',
        createdAt,
        dueAt: createdAt,
        sender: 'h',
        updatedAt: answeredAt ?? createdAt,
        ...(answeredAt ? { answer: 'Đã sửa', answeredAt } : {}),
      });
    await feedback('f1', '08/02500', '2026-11-24T01:00:00.000Z', '2026-11-24T08:00:00.000Z');
    await feedback('f2', '08/02500', '2026-11-25T13:00:00.000Z');
    await feedback('f3', '08/02500', '2026-11-26T01:00:00.000Z');
    await feedback('f4', '08/02503', '2026-11-24T01:00:00.000Z');
    clock.t = Date.parse('2026-11-27T09:00:00+07:00');
    admin = await loginAs(s, 'tinh', 'viewer', ['08']);
    commune = await loginAs(s, 'xa', 'viewer', ['08/02503']);
  });
  afterAll(async () => {
    await s?.close();
  });

  const q = '/api/v1/reports/effectiveness?unit=08/02500&from=2026-11-24&to=2026-11-25';

  it('gives planned vs played vs displayed, essential content with the stations that missed it, names in Vietnamese', async () => {
    const r = await admin.json<EffectivenessReport>('GET', q);
    expect(r.status).toBe(200);
    const rep = r.body;
    expect(rep.unitName).toBe('Thị trấn Sơn Dương');
    expect(rep.period.name).toBe('Từ 24/11/2026 đến 25/11/2026');
    // two stations × two days of audio; the text item is planned on the noticeboard only
    expect(rep.totals.audio).toEqual({ planned: 4, done: 3, rate: 0.75 });
    expect(rep.totals.display).toEqual({ planned: 2, done: 1, rate: 0.5 });
    expect(rep.totals.stations).toBe(2);
    expect(rep.totals.noticeboards).toBe(1);
    expect(rep.essential.targeted).toBe(4);
    expect(rep.essential.reached).toBe(3);
    const missed = rep.essential.items.filter((i: { missedCount: number }) => i.missedCount > 0);
    expect(missed).toHaveLength(1);
    expect(missed[0]?.title).toBe('Bản tin nông nghiệp');
    expect(missed[0]?.priorityName).toBe('Ưu tiên');
    expect(missed[0]?.missed).toEqual([{ deviceId: 'st2', name: 'Cụm loa Đình', unit: '08/02500' }]);
    expect(rep.airtime.byCategory).toEqual([
      { key: 'agriculture', name: 'Nông nghiệp', minutes: 6, plays: 3 },
    ]);
    expect(rep.airtime.byLanguage).toEqual([{ key: 'vi', name: 'Tiếng Việt', minutes: 6, plays: 3 }]);
    // the 30 s start-up alert is apart from the faults
    expect(rep.faults).toEqual([
      { rule: 'amp-fault', name: 'Lỗi ampli', faults: 1, brief: 0, openMinutes: 60 },
      { rule: 'mains-lost', name: 'Mất điện lưới', faults: 0, brief: 1, openMinutes: 0.5 },
    ]);
    expect(rep.feedback).toMatchObject({ received: 2, answered: 1 });
  });

  it('gives the same figures with a fold cache too small to keep anything (every fold refolded)', async () => {
    const { ReportService } = await import('../../../fleet-server/src/services/report-service.js');
    const { periodOf } = await import('../../../fleet-server/src/domain/reports/period.js');
    const period = periodOf('2026-11-24', '2026-11-25');
    const q = { unit: '08', period, groupBy: 'children' as const };
    // the raw-stream path keeps folds; the rollup path keeps read rollup parts: both bounded
    const roomy = new ReportService({ store: s.deps.store, clock, source: 'raw' });
    const tiny = new ReportService({ store: s.deps.store, clock, cacheMaxBytes: 1, source: 'raw' });
    const a = await roomy.effectiveness(q);
    await roomy.effectiveness(q);
    const b = await tiny.effectiveness(q);
    const b2 = await tiny.effectiveness(q);
    expect(b).toEqual(a);
    expect(b2).toEqual(a);
    expect(tiny.cacheStats().entries).toBe(0);
    expect(roomy.cacheStats().entries).toBeGreaterThan(0);
    const rolled = new ReportService({ store: s.deps.store, clock });
    const rolledTiny = new ReportService({ store: s.deps.store, clock, cacheMaxBytes: 1 });
    expect(await rolled.effectiveness(q)).toEqual(a);
    expect(await rolled.effectiveness(q)).toEqual(a);
    expect(await rolledTiny.effectiveness(q)).toEqual(a);
    expect(await rolledTiny.effectiveness(q)).toEqual(a);
    expect(rolledTiny.rollups.cache.size).toBe(0);
    expect(rolled.rollups.cacheHits).toBeGreaterThan(0);
  });

  it('measures uptime from presence intervals: st2 was offline 6 hours of the 48', async () => {
    const r = await admin.json<EffectivenessReport>('GET', q);
    const u = r.body.totals.uptime;
    // three devices observed the whole 48 h (the server started before the period)
    expect(u.knownHours).toBe(144);
    expect(u.onlineHours).toBe(138);
    expect(u.outages).toBe(1);
    expect(u.longestOutageMinutes).toBe(360);
    expect(u.uptime).toBeCloseTo(138 / 144, 6);
  });

  it('rolls the province up by commune', async () => {
    const r = await admin.json<EffectivenessReport>(
      'GET',
      '/api/v1/reports/effectiveness?unit=08&from=2026-11-24&to=2026-11-25&groupBy=children&daily=false',
    );
    expect(r.status).toBe(200);
    expect(r.body.units.map((u: { unit: string }) => u.unit)).toEqual(['08/02500', '08/02503']);
    expect(r.body.totals.audio).toEqual({ planned: 6, done: 5, rate: 5 / 6 });
    expect(r.body.daily).toEqual([]);
  });

  it('exports one CSV row per day, unit and output', async () => {
    const res = await admin.request('GET', q.replace('?', '?format=csv&'));
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    const lines = text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('Ngày,Mã đơn vị,Đơn vị,Đầu ra,Theo kế hoạch,Đã phát/hiển thị,Tỷ lệ');
    expect(lines.slice(1)).toEqual([
      '2026-11-24,08/02500,Thị trấn Sơn Dương,Loa,2,1,0.5000',
      '2026-11-24,08/02500,Thị trấn Sơn Dương,Bảng tin,1,1,1.0000',
      '2026-11-25,08/02500,Thị trấn Sơn Dương,Loa,2,2,1.0000',
      '2026-11-25,08/02500,Thị trấn Sơn Dương,Bảng tin,1,0,0.0000',
    ]);
  });

  it('exports an XLSX workbook read back cell by cell (Accept header)', async () => {
    const res = await admin.request('GET', q, undefined, {
      accept: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      'Chỉ tiêu',
      'Theo đơn vị',
      'Theo ngày',
      'Tin thiết yếu',
      'Thời lượng',
      'Sự cố',
    ]);
    const units = wb.getWorksheet('Theo đơn vị');
    expect(units?.getCell('A1').value).toBe('Mã đơn vị');
    expect(units?.getCell('B2').value).toBe('Thị trấn Sơn Dương');
    expect(units?.getCell('E2').value).toBe(4);
    expect(units?.getCell('F2').value).toBe(3);
    expect(units?.getCell('G2').value).toBe(0.75);
    expect(units?.getCell('G2').numFmt).toBe('0.0%');
    expect(units?.getCell('B3').value).toBe('Tổng cộng: Thị trấn Sơn Dương');
    const daily = wb.getWorksheet('Theo ngày');
    expect([1, 2, 3, 4, 5, 6, 7].map((c) => daily?.getRow(2).getCell(c).value)).toEqual([
      '2026-11-24',
      '08/02500',
      'Thị trấn Sơn Dương',
      'Loa',
      2,
      1,
      0.5,
    ]);
    const air = wb.getWorksheet('Thời lượng');
    expect([1, 2, 3, 4].map((c) => air?.getRow(2).getCell(c).value)).toEqual([
      'Thể loại',
      'Nông nghiệp',
      6,
      3,
    ]);
    const essential = wb.getWorksheet('Tin thiết yếu');
    expect(essential?.getRow(2).getCell(6).value).toBe('Cụm loa Đình (1)');
  });

  it('lists what played where and when with the signed proof behind each line, filterable', async () => {
    const r = await admin.json<Plays>(
      'GET',
      '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25',
    );
    expect(r.status).toBe(200);
    const lines = r.body.lines;
    expect(lines).toHaveLength(4);
    const ids = stored
      .filter((p) => p.deviceId !== 'st9')
      .map((p) => p.eventId)
      .sort();
    expect(lines.map((l) => l.eventId).sort()).toEqual(ids);
    const first = lines.find((l) => l.deviceId === 'st1') as PlayLine;
    expect(first.deviceName).toBe('Cụm loa Chợ');
    expect(first.title).toBe('Bản tin nông nghiệp');
    expect(first.categoryName).toBe('Nông nghiệp');
    expect(categoryName('emergency')).toBe('Tin khẩn cấp');
    expect(first.outcomeName).toBe('Phát xong');
    expect(first.loudnessLufs).toBe(-16.5);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    const only = await admin.json<Plays>(
      'GET',
      '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&deviceId=st2',
    );
    expect(only.body.lines.map((l: { deviceId: string }) => l.deviceId)).toEqual(['st2']);
    const shown = await admin.json<Plays>(
      'GET',
      '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&output=display',
    );
    expect(shown.body.lines.map((l: { deviceName: string }) => l.deviceName)).toEqual(['Bảng tin UBND']);
    // pages of one line, each resuming where the last ended, give the same lines in the same order
    const paged: string[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const p = await admin.json<Plays & { next: string | null; truncated: boolean }>(
        'GET',
        `/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      paged.push(...p.body.lines.map((l) => l.eventId));
      expect(p.body.truncated).toBe(p.body.next !== null);
      if (p.body.next === null) break;
      cursor = p.body.next;
    }
    expect(paged).toEqual(lines.map((l) => l.eventId));
    const whole = await admin.json<{ next: string | null; truncated: boolean }>(
      'GET',
      '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&limit=4',
    );
    expect([whole.body.truncated, whole.body.next]).toEqual([false, null]);
    const bad = await admin.json<{ error: { code: string } }>(
      'GET',
      '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&cursor=bm90LWEtY3Vyc29y',
    );
    expect([bad.status, bad.body.error.code]).toEqual([400, 'STREAM_CURSOR_INVALID']);
    const bytes = Buffer.from(
      await (
        await admin.request(
          'GET',
          '/api/v1/reports/plays?unit=08/02500&from=2026-11-24&to=2026-11-25&format=csv',
        )
      ).arrayBuffer(),
    );
    // UTF-8 with a BOM, so that spreadsheet programs read the Vietnamese headers
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(csv[0]).toBe(
      'Thời điểm,Đơn vị,Cụm loa / bảng tin,Đầu ra,Nội dung,Thể loại,Ngôn ngữ,Mức ưu tiên,Kết quả,Thời lượng (giây),Độ lớn (LUFS),Mã sự kiện,Mã băm bằng chứng',
    );
    expect(csv).toHaveLength(6); // the header, four lines and the last line break
  });

  it('refuses a bad period with a stable code, and a unit outside the caller’s scope', async () => {
    const bad = await admin.json<{ error: { code: string } }>(
      'GET',
      '/api/v1/reports/effectiveness?unit=08&from=2026-11-25&to=2026-11-24',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('REPORT_PERIOD_INVALID');
    const q5 = await admin.json<{ error: { code: string } }>(
      'GET',
      '/api/v1/reports/effectiveness?unit=08&period=2026-Q5',
    );
    expect(q5.body.error.code).toBe('REPORT_PERIOD_INVALID');
    const out = await commune.json<{ error: { code: string } }>('GET', q);
    expect(out.status).toBe(403);
    expect(out.body.error.code).toBe('FORBIDDEN_SCOPE');
    // the commune user's own unit is the default
    const own = await commune.json<EffectivenessReport>(
      'GET',
      '/api/v1/reports/effectiveness?period=2026-11',
    );
    expect(own.body.unit).toBe('08/02503');
    expect(own.body.period.name).toBe('Tháng 11 năm 2026');
  });

  it('documents both routes in the OpenAPI document', async () => {
    type Op = {
      responses: Record<
        string,
        { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
      >;
      parameters: { name: string }[];
    };
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { get: Op }>;
    };
    const eff = doc.paths['/api/v1/reports/effectiveness']?.get;
    expect(eff?.responses['200']?.content['application/json']?.schema.properties.totals).toBeDefined();
    expect(doc.paths['/api/v1/reports/plays']?.get.parameters.map((p) => p.name)).toContain('format');
  });
});

describe('indicators against the plan', () => {
  let s: TestServer;
  let official: Session;
  const chains = new Chains();
  const clock2 = new FakeClock(Date.parse('2026-11-23T16:00:00Z'));

  beforeAll(async () => {
    s = await startTestServer({ clock: clock2, plugins: [reportsPlugin({ schedule: false })] });
    const { store } = s.deps;
    await store.devices.insert(device('st1', '08/02500', 'station', 'Cụm loa Chợ'));
    await store.devices.insert(device('nb1', '08/02500', 'noticeboard', 'Bảng tin UBND'));
    await store.bundles.insert(BUNDLE);
    clock2.t = Date.parse('2026-11-24T06:00:00+07:00');
    await writeProofs(store, [chains.proof('st1', '2026-11-24')], new Date(clock2.t).toISOString());
    clock2.t = Date.parse('2026-11-26T09:00:00+07:00');
    official = await loginAs(s, 'tinh2', 'technician', ['08']);
    // a legacy FM cluster due for replacement, and a noticeboard known only to the register
    const add = (body: Record<string, unknown>) => official.json('POST', '/api/v1/register', body);
    expect(
      (
        await add({
          id: 'FM-1',
          unit: '08/02503',
          name: 'Cụm FM',
          type: 'fm-cluster',
          condition: 'poor',
          replacement: 'planned',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await add({
          id: 'BT-9',
          unit: '08/02506',
          name: 'Bảng LED',
          type: 'noticeboard-led',
          condition: 'good',
        })
      ).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('gives each indicator with its period, figure, target and source; what is not measured says so', async () => {
    const r = await official.json<{
      period: string;
      kpis: {
        key: string;
        value: number | null;
        target: number | null;
        met: boolean | null;
        source: string;
        period: string;
      }[];
    }>('GET', '/api/v1/reports/kpi?unit=08&from=2026-11-24&to=2026-11-25');
    expect(r.status).toBe(200);
    const by = Object.fromEntries(r.body.kpis.map((k) => [k.key, k]));
    expect(by['essential-reached']).toMatchObject({
      value: 0.5,
      target: 1,
      met: false,
      period: 'Từ 24/11/2026 đến 25/11/2026',
    });
    expect(by['essential-reached']?.source).toContain('1/2 lượt');
    expect(by['planned-displayed']?.value).toBe(0);
    // hours written as Vietnamese numbers (decimal comma), never 7.45
    expect(by.uptime?.source).toMatch(/: [\d.]+(,\d+)?\/[\d.]+(,\d+)? giờ quan sát/);
    expect(by.uptime?.source).not.toMatch(/\d\.\d{1,2}\//);
    const communes = (await s.deps.store.units.list((u) => u.parent === '08')).length;
    expect(by['noticeboard-coverage']?.value).toBeCloseTo(2 / communes, 9);
    expect(by['noticeboard-coverage']?.source).toContain(`2/${communes} xã, phường`);
    expect(by['legacy-to-replace']).toMatchObject({ value: 1, target: null, met: null });
    expect(by['staff-trained']).toMatchObject({ value: null, met: null });
    expect(by['staff-trained']?.source).toContain('Chưa đo');
    const csv = await (
      await official.request('GET', '/api/v1/reports/kpi?unit=08&from=2026-11-24&to=2026-11-25&format=csv')
    ).text();
    expect(csv.split('\r\n')[0]).toBe('Chỉ tiêu,Kỳ,Kết quả,Chỉ tiêu đặt ra,Đạt,Nguồn số liệu');
  });
});
