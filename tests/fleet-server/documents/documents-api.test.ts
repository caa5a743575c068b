import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportsPlugin } from '../../../fleet-server/src/plugins/reports.js';
import { FakeClock, loginAs, type Session, startTestServer, type TestServer } from '../app/harness.js';
import { docx, pdf } from './office-files.js';

type Err = { error: { code: string } };
type Doc = {
  id: string;
  title: string;
  unit: string;
  kindName: string;
  file: { sha256: string; type: string };
};

describe('document library API', () => {
  const clock = new FakeClock(Date.parse('2026-12-10T03:00:00Z'));
  let s: TestServer;
  let province: Session;
  let commune: Session;
  let neighbour: Session;
  let viewer: Session;
  let decree: Buffer;
  const meta = (m: Record<string, string>) => new URLSearchParams(m).toString();
  const upload = (
    who: Session,
    m: Record<string, string>,
    body: Buffer | string,
    type = 'application/octet-stream',
  ) =>
    fetch(`${s.url}/api/v1/documents?${meta(m)}`, {
      method: 'POST',
      headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, 'content-type': type },
      body,
    });
  const DECREE = {
    unit: '08',
    title: 'Nghị định quy định về hoạt động thông tin cơ sở',
    number: '49/2024/NĐ-CP',
    issuer: 'Chính phủ',
    issuedOn: '2024-05-10',
    kind: 'legal',
    name: 'Nghị định 49-2024.pdf',
  };

  beforeAll(async () => {
    s = await startTestServer({
      clock,
      plugins: [reportsPlugin({ schedule: false, documentMaxBytes: 64 * 1024 })],
    });
    province = await loginAs(s, 'tinh.bientap', 'editor', ['08']);
    commune = await loginAs(s, 'xa.vanhanh', 'operator', ['08/02500']);
    neighbour = await loginAs(s, 'xa.khac', 'operator', ['08/02503']);
    viewer = await loginAs(s, 'xa.xem', 'viewer', ['08/02500']);
    decree = await pdf('Nghị định 49/2024/NĐ-CP');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('takes a PDF and a Word file with their metadata; a commune sees the province’s, not its neighbour’s', async () => {
    const r = await upload(province, DECREE, decree);
    expect(r.status).toBe(201);
    const d = (await r.json()) as Doc;
    expect(d).toMatchObject({ unit: '08', kindName: 'Văn bản quy phạm (nghị định, quyết định, thông tư)' });
    expect(d.file.type).toBe('application/pdf');
    const plan = await upload(
      neighbour,
      {
        unit: '08/02503',
        title: 'Kế hoạch tuyên truyền quý IV',
        issuer: 'UBND xã Tân Trào',
        issuedOn: '2026-10-01',
        kind: 'plan',
        name: 'ke-hoach.docx',
      },
      docx('Kế hoạch'),
    );
    expect(plan.status).toBe(201);
    const seen = await viewer.json<Doc[]>('GET', '/api/v1/documents');
    expect(seen.body.map((x) => x.title)).toEqual([DECREE.title]);
    const both = await province.json<Doc[]>('GET', '/api/v1/documents');
    expect(both.body.map((x) => x.unit)).toEqual(['08/02503', '08']); // newest issue first
    // search without diacritics; by kind
    expect(
      (await province.json<Doc[]>('GET', '/api/v1/documents?q=nghi%20dinh%20co%20so')).body,
    ).toHaveLength(1);
    expect(
      (await province.json<Doc[]>('GET', '/api/v1/documents?kind=plan')).body.map((x) => x.unit),
    ).toEqual(['08/02503']);
    // download: the same bytes, as an attachment that is never sniffed
    const f = await viewer.request('GET', `/api/v1/documents/${d.id}/file`);
    expect(f.status).toBe(200);
    expect(f.headers.get('content-type')).toBe('application/pdf');
    expect(f.headers.get('x-content-type-options')).toBe('nosniff');
    expect(f.headers.get('content-disposition')).toContain("filename*=UTF-8''Ngh%E1%BB%8B");
    expect(Buffer.from(await f.arrayBuffer()).equals(decree)).toBe(true);
    const hidden = await viewer.request('GET', `/api/v1/documents/${((await plan.json()) as Doc).id}/file`);
    expect(hidden.status).toBe(404);
  });

  it('refuses bad files and metadata with stable codes and stores nothing', async () => {
    const before = await s.deps.store.documents.count();
    const cases: [Session, Record<string, string>, Buffer | string, number, string][] = [
      [
        province,
        { ...DECREE, name: 'trang.pdf' },
        '<html><script>alert(1)</script></html>',
        415,
        'DOCUMENT_TYPE_REFUSED',
      ],
      [
        province,
        { ...DECREE, name: 'anh.pdf' },
        Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
        415,
        'DOCUMENT_TYPE_REFUSED',
      ],
      [province, DECREE, Buffer.concat([decree, Buffer.alloc(64 * 1024)]), 413, 'DOCUMENT_TOO_LARGE'],
      [province, DECREE, Buffer.alloc(0), 422, 'DOCUMENT_EMPTY'],
      [province, { ...DECREE, issuedOn: '2024-02-30' }, decree, 400, 'DOCUMENT_INVALID'],
      [province, { ...DECREE, kind: 'poem' }, decree, 400, 'DOCUMENT_INVALID'],
      [province, { ...DECREE, name: '../../etc/passwd' }, decree, 400, 'DOCUMENT_INVALID'],
      [province, { ...DECREE, title: '' }, decree, 400, 'DOCUMENT_INVALID'],
      [commune, DECREE, decree, 403, 'FORBIDDEN_SCOPE'],
      [viewer, { ...DECREE, unit: '08/02500' }, decree, 403, 'FORBIDDEN_ROLE'],
      [province, { ...DECREE, unit: '08/99999' }, decree, 404, 'UNIT_NOT_FOUND'],
      [province, { ...DECREE, colour: 'đỏ' }, decree, 400, 'VALIDATION_FAILED'],
    ];
    for (const [who, m, body, status, code] of cases) {
      const r = await upload(who, m, body);
      expect([code, r.status]).toEqual([code, status]);
      expect(((await r.json()) as Err).error.code).toBe(code);
    }
    expect(await s.deps.store.documents.count()).toBe(before);
  });

  it('removes a document within the remover’s scope only, audited', async () => {
    const [d] = (await province.json<Doc[]>('GET', '/api/v1/documents?unit=08&kind=legal')).body;
    const no = await commune.request('DELETE', `/api/v1/documents/${d?.id}`);
    expect([no.status, ((await no.json()) as Err).error.code]).toEqual([403, 'FORBIDDEN_SCOPE']);
    expect((await province.request('DELETE', `/api/v1/documents/${d?.id}`)).status).toBe(204);
    expect((await viewer.request('GET', `/api/v1/documents/${d?.id}/file`)).status).toBe(404);
    const log = await s.deps.store.audit.query({ action: 'document.' });
    expect(log.map((e) => e.action).sort()).toEqual([
      'document.delete',
      'document.upload',
      'document.upload',
    ]);
  });
});
