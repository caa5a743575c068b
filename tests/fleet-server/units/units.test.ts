import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvToUnitInputs, parseCsv, planUnitImport } from '../../../fleet-server/src/domain/units.js';
import { DEMO_UNITS_FILE } from '../../../fleet-server/src/seed.js';
import { loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';

const NOW = '2026-11-26T00:00:00.000Z';

describe('unit import rules (pure)', () => {
  it('builds paths from parents, accepts a legacy district level, checks code lengths per level', () => {
    const { units, errors } = planUnitImport(
      [
        { code: '08', name: 'Tuyên Quang' },
        { code: '070', name: 'Huyện Sơn Dương (cũ)', parent: '08', level: 'district' },
        { code: '02500', name: 'Xã A', parent: '08/070' },
        { code: '02503', name: 'Xã B', parent: '070' },
      ],
      [],
      NOW,
    );
    expect(errors).toEqual([]);
    expect(units.map((u) => [u.path, u.level])).toEqual([
      ['08', 'province'],
      ['08/070', 'district'],
      ['08/070/02500', 'commune'],
      ['08/070/02503', 'commune'],
    ]);
  });

  it('reports every bad line with its number and imports nothing', () => {
    const csv =
      'code,name,level,parent\n08,Tỉnh,province,\n8,Sai mã,,08\n02500,,commune,08\n02503,Xã,commune,99\n123,Xã,commune,08\n02506,"Xã ""Ngoặc"", có phẩy",commune,08\n';
    const { inputs, lineOf } = csvToUnitInputs(csv);
    const { errors, units } = planUnitImport(inputs, [], NOW, lineOf);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(errors[2]?.message).toContain('không tìm thấy đơn vị cha 99');
    expect(units.find((u) => u.code === '02506')?.name).toBe('Xã "Ngoặc", có phẩy');
  });

  it('parses RFC 4180 CSV with a BOM and CRLF', () => {
    expect(parseCsv('\ufeffa,b\r\n"x,1","y""z"\r\n')).toEqual([
      ['a', 'b'],
      ['x,1', 'y"z'],
    ]);
  });

  it('the demo seed is valid and marked as demo data', () => {
    const { inputs, lineOf } = csvToUnitInputs(readFileSync(DEMO_UNITS_FILE, 'utf8'));
    const { units, errors } = planUnitImport(inputs, [], NOW, lineOf);
    expect(errors).toEqual([]);
    expect(units[0]).toMatchObject({ path: '08', name: 'Tỉnh Tuyên Quang', level: 'province', demo: true });
    expect(units.length).toBeGreaterThan(10);
    expect(units.every((u) => u.demo === true)).toBe(true);
  });
});

describe('units API', () => {
  let s: TestServer;
  let admin: Session;
  beforeAll(async () => {
    s = await startTestServer({ seed: false });
    admin = await loginAs(s, 'root', 'administrator', ['*']);
  });
  afterAll(async () => {
    await s.close();
  });

  it('imports CSV all-or-nothing with errors per line (400) and then a valid file', async () => {
    const bad = await admin.json<{ error: { code: string; details: { errors: { line: number }[] } } }>(
      'POST',
      '/api/v1/units/import',
      {
        format: 'csv',
        data: 'code,name,parent\n08,Tuyên Quang,\n02500,Xã A,08\n1,Xã sai,08\n',
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('UNIT_IMPORT_INVALID');
    expect(bad.body.error.details.errors.map((e) => e.line)).toEqual([4]);
    expect(await s.deps.store.units.count()).toBe(0);
    const ok = await admin.json('POST', '/api/v1/units/import', {
      format: 'csv',
      data: readFileSync(DEMO_UNITS_FILE, 'utf8'),
    });
    expect(ok.status).toBe(200);
    expect(await s.deps.store.units.count()).toBeGreaterThan(10);
  });

  it('imports JSON, lists units within scope only, keeps HTML in names as data', async () => {
    const r = await admin.json('POST', '/api/v1/units/import', {
      format: 'json',
      data: [{ code: '02599', name: '<b>Xã</b> Thử', parent: '08' }],
    });
    expect(r.status).toBe(200);
    const commune = await loginAs(s, 'c', 'viewer', ['08/02599']);
    const list = await commune.json<{ path: string; name: string }[]>('GET', '/api/v1/units');
    expect(list.body).toEqual([expect.objectContaining({ path: '08/02599', name: '<b>Xã</b> Thử' })]);
    expect((await commune.json('GET', '/api/v1/units/08/02500')).status).toBe(403);
    const one = await commune.json<{ unit: { path: string } }>('GET', '/api/v1/units/08/02599');
    expect(one.body.unit.path).toBe('08/02599');
  });

  it('creates groups and zones inside a unit; refuses them outside the scope; deletes empty units only', async () => {
    const g = await admin.json('POST', '/api/v1/units/08/02500/groups', { id: 'cho', name: 'Cụm chợ' });
    expect(g.status).toBe(201);
    expect(
      (await admin.json('POST', '/api/v1/units/08/02500/groups', { id: 'cho', name: 'again' })).status,
    ).toBe(409);
    expect(
      (await admin.json('POST', '/api/v1/units/08/02500/zones', { id: 'zone-1', name: 'Trường học' })).status,
    ).toBe(201);
    const detail = await admin.json<{ groups: unknown[]; zones: unknown[]; children: unknown[] }>(
      'GET',
      '/api/v1/units/08/02500',
    );
    expect(detail.body.groups).toHaveLength(1);
    expect(detail.body.zones).toHaveLength(1);
    // the same unit with its slash encoded, as a client generated from the OpenAPI document sends it
    for (const encoded of ['08%2F02500', '08%2f02500']) {
      const same = await admin.json<{ unit: { path: string }; groups: unknown[] }>(
        'GET',
        `/api/v1/units/${encoded}`,
      );
      expect(same.status).toBe(200);
      expect(same.body.unit.path).toBe('08/02500');
      expect(same.body.groups).toHaveLength(1);
    }
    expect(
      (
        await admin.json('POST', `/api/v1/units/${encodeURIComponent('08/02500')}/zones`, {
          id: 'zone-2',
          name: 'Chợ',
        })
      ).status,
    ).toBe(201);
    const commune = await loginAs(s, 'ca', 'administrator', ['08/02503']);
    expect((await commune.json('POST', '/api/v1/units/08/02500/groups', { id: 'x', name: 'x' })).status).toBe(
      403,
    );
    expect((await admin.json('DELETE', '/api/v1/units/08')).status).toBe(409);
    expect((await admin.json('DELETE', '/api/v1/units/08/02599')).status).toBe(200);
  });

  it('lets a commune administrator create units only under their own unit', async () => {
    const commune = await loginAs(s, 'cb', 'administrator', ['08/02503']);
    expect(
      (await commune.json('POST', '/api/v1/units', { code: '02700', name: 'Khác', parent: '08' })).status,
    ).toBe(403);
    expect(
      (
        await commune.json('POST', '/api/v1/units', {
          code: '12345',
          name: 'Thôn',
          parent: '08/02503',
          level: 'village',
        })
      ).status,
    ).toBe(201);
    expect(await s.deps.store.units.get('08/02700')).toBeUndefined();
  });
});
