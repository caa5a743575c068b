/**
 * Uploading the province's boundaries (API and the administration form) on a real server: every
 * feature names a known unit, a refusal has a stable code and a Vietnamese message and keeps the
 * old file byte for byte, an accepted file is what the map serves at once, and the upload is
 * audited.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BOUNDARIES_BYTES } from '../../../fleet-server/src/domain/boundaries.js';
import { BOUNDARIES_FILE } from '../../../fleet-server/src/services/boundaries-file.js';
import { demoBoundaries } from '../../../scripts/src/demo/boundaries.js';
import { Browser, type Harness, loginAs, startHarness } from '../ui/harness.js';

const ADMIN_PW = 'Quan-tri-Thu-2026!';
let h: Harness;
let admin: Browser;

const square = (unit: string | undefined, name: string, lon = 105.3, lat = 21.7) => ({
  type: 'Feature',
  properties: { name, ...(unit !== undefined ? { unit } : {}) },
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [lon, lat],
        [lon + 0.02, lat],
        [lon + 0.02, lat + 0.02],
        [lon, lat],
      ],
    ],
  },
});
const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

interface Answer {
  features?: number;
  units?: string[];
  error?: { code: string; message: string };
}

async function put(body: string, type = 'application/json'): Promise<{ status: number; data: Answer }> {
  const res = await fetch(new URL('/api/v1/boundaries', h.server.url), {
    method: 'PUT',
    headers: {
      cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'content-type': type,
      'x-csrf-token': await admin.csrf(),
    },
    body,
  });
  return { status: res.status, data: (await res.json()) as Answer };
}

const onDisk = () => readFile(join(h.dir, BOUNDARIES_FILE), 'utf8');

beforeAll(async () => {
  h = await startHarness();
  const boot = h.server.bootstrap;
  if (!boot) throw new Error('no bootstrap admin');
  admin = new Browser(h.server.url);
  await loginAs(admin, boot.username, boot.password, ADMIN_PW);
  const csv =
    'code,name,level,parent\n08,Tuyên Quang,province,\n02500,Thị trấn Sơn Dương,commune,08\n02503,Xã Tân Trào,commune,08\n';
  const r = await admin.api('POST', '/units/import', { format: 'csv', data: csv });
  expect(r.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("the province's boundaries upload", () => {
  it('stores a collection of known units (path or commune code) and the map serves it at once', async () => {
    const r = await put(
      JSON.stringify(collection(square('08/02500', 'Sơn Dương'), square('02503', 'Tân Trào', 105.4))),
    );
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ features: 2, units: ['08/02500', '08/02503'] });
    const map = await admin.get('/ui/fleet/boundaries.geojson');
    expect(map.status).toBe(200);
    expect(map.headers.get('cache-control')).toContain('no-cache');
    const served = (await map.json()) as { features: { properties: { name: string } }[] };
    expect(served.features.map((f) => f.properties.name)).toEqual(['Sơn Dương', 'Tân Trào']);
    const audit = await h.server.deps.store.audit.query({ limit: 5 });
    expect(audit.find((a) => a.action === 'boundaries.upload')?.details).toEqual(r.data);
  });

  it.each([
    [
      'a unit the server does not know',
      JSON.stringify(collection(square('08/09999', 'Xã lạ'))),
      422,
      'BOUNDARIES_UNIT_UNKNOWN',
      'Xã lạ',
    ],
    [
      'a feature without a unit',
      JSON.stringify(collection(square(undefined, 'Không mã'))),
      422,
      'BOUNDARIES_UNIT_MISSING',
      'thiếu mã đơn vị',
    ],
    [
      'a point instead of an area',
      JSON.stringify(
        collection({
          type: 'Feature',
          properties: { unit: '08/02500' },
          geometry: { type: 'Point', coordinates: [105, 21] },
        }),
      ),
      422,
      'BOUNDARIES_INVALID',
      'GeoJSON',
    ],
    [
      'a Feature, not a FeatureCollection',
      JSON.stringify(square('08/02500', 'x')),
      422,
      'BOUNDARIES_INVALID',
      'FeatureCollection',
    ],
    ['broken JSON', '{"type": "FeatureCollection", ', 400, 'BAD_JSON', 'JSON'],
  ])('refuses %s with a stable code and keeps the old file', async (_n, body, status, code, words) => {
    const before = await onDisk();
    const r = await put(body);
    expect(r.status).toBe(status);
    expect(r.data.error?.code).toBe(code);
    expect(r.data.error?.message).toContain(words);
    expect(await onDisk()).toBe(before);
  });

  it('refuses a file past the cap before reading it, and keeps the old file', async () => {
    const before = await onDisk();
    const r = await put(' '.repeat(MAX_BOUNDARIES_BYTES + 1));
    expect(r.status).toBe(413);
    expect(r.data.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await onDisk()).toBe(before);
  });

  it('is refused to a role that may not manage units', async () => {
    const viewer = new Browser(h.server.url);
    const created = await admin.api<{ oneTimePassword: string }>('POST', '/users', {
      username: 'nguoidoc',
      displayName: 'Người xem',
      role: 'viewer',
      scope: ['08'],
    });
    expect(created.status).toBe(201);
    await loginAs(viewer, 'nguoidoc', created.data.oneTimePassword, 'Chi-doc-Bao-cao-2026!');
    const before = await onDisk();
    const r = await viewer.api<{ error: { code: string } }>(
      'PUT',
      '/boundaries',
      collection(square('08/02500', 'x')),
    );
    expect(r.status).toBe(403);
    expect(await onDisk()).toBe(before);
  });

  it('the administration form: a refusal says why next to the field, an accepted file says what was stored', async () => {
    const csrf = await admin.csrf('/ui/admin');
    const before = await onDisk();
    const bad = new File([JSON.stringify(collection(square('99/12345', 'Tỉnh khác')))], 'ranh-gioi.geojson', {
      type: 'application/geo+json',
    });
    const refused = await admin.post('/ui/admin/boundaries', { _csrf: csrf, geojson: bad }, true);
    expect(refused.status).toBe(422);
    const html = await refused.text();
    expect(html).toContain('data-error-for="geojson"');
    expect(html).toContain('BOUNDARIES_UNIT_UNKNOWN');
    expect(html).toContain('không có trong danh mục đơn vị hành chính');
    expect(await onDisk()).toBe(before);

    const empty = await admin.post('/ui/admin/boundaries', { _csrf: csrf }, true);
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Hãy chọn tệp GeoJSON.');

    const good = new File([JSON.stringify(demoBoundaries())], 'ranh-gioi.geojson', {
      type: 'application/geo+json',
    });
    // the demo's four communes are not all in this server's units: import them first
    const units = demoBoundaries().features.map((f) => String(f.properties.unit));
    const missing = units.filter((u) => !['08/02500', '08/02503'].includes(u));
    await admin.api('POST', '/units/import', {
      format: 'csv',
      data: `code,name,level,parent\n${missing.map((u) => `${u.slice(3)},Xã ${u.slice(3)},commune,08`).join('\n')}\n`,
    });
    const ok = await admin.post('/ui/admin/boundaries', { _csrf: csrf, geojson: good }, true);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Đã lưu 4 vùng của 4 đơn vị');
    expect(JSON.parse(await onDisk()).features).toHaveLength(4);
  });
});
