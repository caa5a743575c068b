/**
 * The public page of a commune on a real server: only published, public-flagged bulletins (and
 * emergencies) appear, unpublished or private ids answer 404, listen-again audio is a small Opus
 * copy made by ffmpeg (Range, immutable), caching headers let phones and proxies share the page,
 * text typed by editors is escaped, and an emergency reaches the page live over SSE.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type CitizensHarness, startCitizens } from './harness.js';

const run = promisify(execFile);
let c: CitizensHarness;
let pub: ContentRecord;
let priv: ContentRecord;
let hmong: ContentRecord;
let evil: ContentRecord;
let other: ContentRecord;
let programme: BundleRecord;
const U = '08/02509';

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${c.h.server.url}${path}`, { headers, redirect: 'manual' });

beforeAll(async () => {
  c = await startCitizens();
  pub = await c.speech('Bản tin nông nghiệp: bà con chuẩn bị gieo mạ vụ đông xuân.', {
    title: 'Lịch gieo mạ vụ đông xuân',
    unit: U,
    public: true,
    category: 'nong-nghiep',
  });
  priv = await c.speech('Nội dung nội bộ của xã, không công khai.', {
    title: 'Họp nội bộ cán bộ xã',
    unit: U,
  });
  hmong = await c.text({
    title: 'Tshaj tawm txog kev txhaj tshuaj',
    unit: U,
    lang: 'hmn',
    text: 'Cov me nyuam yuav tsum mus txhaj tshuaj hnub Monday.',
    public: true,
  });
  evil = await c.text({
    title: '<script>alert("x")</script> Thông báo',
    unit: U,
    text: '<img src=x onerror=alert(1)> lịch cắt điện',
    public: true,
  });
  other = await c.text({
    title: 'Bản tin của Tân Trào',
    unit: '08/02503',
    text: 'Chỉ cho Tân Trào',
    public: true,
  });
  programme = await c.publish({
    channel: 'xa-02509',
    items: [{ content: pub.id }, { content: priv.id }, { content: hmong.id }, { content: evil.id }],
    targets: [{ unit: U }],
    schedule: [
      { id: 'sang', items: [pub.id, priv.id], rule: { type: 'daily', times: ['05:30'] } },
      { id: 'chieu', items: [hmong.id], rule: { type: 'daily', times: ['17:00'] } },
    ],
  });
  await c.publish({ channel: 'xa-02503', items: [{ content: other.id }], targets: [{ unit: '08/02503' }] });
}, 180_000);

afterAll(async () => {
  await c?.h.stop();
});

describe('the public page of a commune', () => {
  it('shows published public bulletins and the day programme, nothing private, under 100 KB', async () => {
    const r = await get(`/p/${U}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(Buffer.byteLength(html)).toBeLessThan(100 * 1024);
    expect(html).toContain('Xã Trung Yên');
    expect(html).toContain('Lịch gieo mạ vụ đông xuân');
    expect(html).toContain(`/p/a/${pub.sha256}.ogg`);
    expect(html).toContain('<p lang="hmn">Cov me nyuam');
    expect(html).not.toContain('Họp nội bộ');
    expect(html).not.toContain(priv.sha256 as string);
    expect(html).not.toContain('Chỉ cho Tân Trào');
    // the programme of the day lists public titles only
    expect(html).toMatch(/05:30<\/span>Lịch gieo mạ vụ đông xuân<\/li>/);
    expect(html).toMatch(/17:00<\/span>Tshaj tawm/);
    expect(r.headers.get('cache-control')).toMatch(/public, max-age=15, stale-while-revalidate=60/);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const etag = r.headers.get('etag') as string;
    expect(etag).toMatch(/^"/);
    const again = await get(`/p/${U}`, { 'if-none-match': etag });
    expect(again.status).toBe(304);
  });

  it('escapes what editors typed', async () => {
    const html = await (await get(`/p/${U}`)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('filters by language and category, and switches to English', async () => {
    const news = (html: string) => html.slice(html.indexOf('id="news"'));
    const hmn = news(await (await get(`/p/${U}?bl=hmn`)).text());
    expect(hmn).toContain('Tshaj tawm');
    expect(hmn).not.toContain('Lịch gieo mạ');
    const cat = news(await (await get(`/p/${U}?cat=nong-nghiep`)).text());
    expect(cat).toContain('Lịch gieo mạ');
    expect(cat).not.toContain('Tshaj tawm');
    const en = await (await get(`/p/${U}?lang=en`)).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Today&#39;s programme');
    // a bulletin keeps its own language
    expect(en).toContain('<h3 lang="vi">Lịch gieo mạ');
  });

  it('serves a small Opus copy of public audio (Range, immutable) and 404 for anything else', async () => {
    const r = await get(`/p/a/${pub.sha256}.ogg`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('audio/ogg');
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.length).toBeLessThan(pub.size as number);
    const file = join(c.h.dir, 'public-copy.ogg');
    await writeFile(file, body);
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,channels',
      '-of',
      'json',
      file,
    ]);
    expect(JSON.parse(probe.stdout).streams[0]).toMatchObject({ codec_name: 'opus', channels: 1 });
    const part = await get(`/p/a/${pub.sha256}.ogg`, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
    // private, unknown, malformed: all 404, the same answer
    for (const p of [
      `/p/a/${priv.sha256}.ogg`,
      `/p/a/${'0'.repeat(64)}.ogg`,
      '/p/a/../../registry.json',
      `/p/a/${pub.sha256}`,
    ])
      expect((await get(p)).status, p).toBe(404);
  });

  it('answers 404 for unknown units and for rating an unpublished or private bulletin', async () => {
    expect((await get('/p/08/99999')).status).toBe(404);
    expect((await get('/p/abc')).status).toBe(404);
    expect((await get(`/p/${U}/nothing-here`)).status).toBe(404);
    for (const id of [priv.id, other.id, 'c-0000000000000000'])
      expect(
        (
          await fetch(`${c.h.server.url}/p/${U}/rate`, {
            method: 'POST',
            body: new URLSearchParams({ content: id, stars: '5' }),
            redirect: 'manual',
          })
        ).status,
      ).toBe(404);
    const ok = await fetch(`${c.h.server.url}/p/${U}/rate`, {
      method: 'POST',
      body: new URLSearchParams({ content: pub.id, stars: '4' }),
      redirect: 'manual',
    });
    expect(ok.status).toBe(303);
    expect(await c.citizens().services.feedback.ratingSummary(pub.id)).toMatchObject({
      count: 1,
      average: 4,
    });
  });

  it('a bulletin made private after publishing disappears at once', async () => {
    const r = await c.h.api(c.editor, 'PUT', `/api/v1/content/${hmong.id}/public`, { public: false });
    expect(r.status).toBe(200);
    c.citizens().services.site.invalidate();
    const html = await (await get(`/p/${U}`)).text();
    expect(html).not.toContain('Tshaj tawm');
    await c.h.api(c.editor, 'PUT', `/api/v1/content/${hmong.id}/public`, {
      public: true,
      survey: { question: 'Thông tin có hữu ích không?', options: ['Có', 'Không'] },
    });
    c.citizens().services.site.invalidate();
    expect(await (await get(`/p/${U}`)).text()).toContain('Thông tin có hữu ích không?');
    expect(programme.state).toBe('published');
  });

  it('an emergency reaches the page: SSE event, banner fragment, banner on the page', async () => {
    const ac = new AbortController();
    const sse = await fetch(`${c.h.server.url}/p/${U}/live`, { signal: ac.signal });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    const got = (async () => {
      while (!seen.includes('event: emergency')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString();
      }
    })();
    const id = await c.emergency(
      '08/02509',
      'Cảnh báo lũ quét <b>khẩn</b>',
      'Nước suối dâng cao, bà con tránh xa bờ suối.',
    );
    await got;
    ac.abort();
    expect(seen).toContain(id);
    const frag = await (await get(`/p/${U}/alerts`)).text();
    expect(frag).toContain('Cảnh báo lũ quét &lt;b&gt;khẩn&lt;/b&gt;');
    expect(frag).toContain('Nước suối dâng cao');
    const html = await (await get(`/p/${U}`)).text();
    expect(html.indexOf('data-emergency')).toBeLessThan(html.indexOf('id="news"'));
    // an emergency's audio is public
    const sha = /\/p\/a\/([0-9a-f]{64})\.ogg/.exec(frag)?.[1] as string;
    expect((await get(`/p/a/${sha}.ogg`)).status).toBe(200);
    // another commune's page does not show it
    expect(await (await get('/p/08/02503')).text()).not.toContain('Cảnh báo lũ quét');
  });

  it('is a PWA: manifest, service worker, versioned script', async () => {
    const m = await (await get(`/p/${U}/manifest.webmanifest`)).json();
    expect(m).toMatchObject({ start_url: `/p/${U}`, scope: '/p/', display: 'standalone' });
    const sw = await get('/p/sw.js');
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    expect(await sw.text()).toContain("addEventListener('push'");
    const html = await (await get(`/p/${U}`)).text();
    const src = /<script defer="" src="([^"]+)"/.exec(html)?.[1] as string;
    const js = await get(src);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });
});

describe('public body caps', () => {
  it('only the feedback form takes a photo-sized body; other public POSTs stop at 64 KiB', async () => {
    const big = 'x'.repeat(200 * 1024);
    const rate = await fetch(`${c.h.server.url}/p/${U}/rate`, {
      method: 'POST',
      body: new URLSearchParams({ content: pub.id, stars: '5', pad: big }),
    });
    expect(rate.status).toBe(413);
    const push = await fetch(`${c.h.server.url}/p/${U}/push/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'https://push.example.com/x', pad: big }),
    });
    expect(push.status).toBe(413);
    const caps = c.h.server.app.api.bodyCaps;
    expect(caps.capFor('POST', `/p/${U}/feedback`)).toBeGreaterThan(6 * 1024 * 1024);
    expect(caps.capFor('POST', '/p/08/feedback')).toBeGreaterThan(6 * 1024 * 1024);
  });
});
