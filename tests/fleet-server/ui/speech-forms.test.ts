/**
 * The spoken-content forms without JavaScript (plain form posts, as a browser without scripts
 * sends them): "Nghe thử" comes back with the spoken form and a playable clip, a bad form comes
 * back with Vietnamese errors next to its fields and nothing stored, a good one is saved; the
 * lexicon page adds an entry and refuses a duplicate next to the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';
import { createUser, PASSWORD, startTestServer, type TestServer } from '../app/harness.js';
import { Browser, loginAs } from './harness.js';

describe('spoken content forms without JavaScript', () => {
  let s: TestServer;
  let b: Browser;

  beforeAll(async () => {
    s = await startTestServer({ plugins: standardPlugins() });
    await createUser(s, 'xa.bientap', 'editor', ['08/02500']);
    b = new Browser(s.url);
    await loginAs(b, 'xa.bientap', PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const form = async (fields: Record<string, string>) =>
    b.post('/ui/content/speech', { _csrf: await b.csrf('/ui/content'), ...fields });

  it('previews, refuses with errors next to the fields, then saves', async () => {
    const base = {
      s_title: 'Họp HTX',
      s_unit: '08/02500',
      s_text: 'UBND xã mời họp lúc 8:00 ngày 20/12.',
      s_voice: 'vi',
      s_rate: '150',
      s_category: 'announcement',
    };
    const p = await form({ ...base, action: 'preview' });
    expect(p.status).toBe(200);
    const html = await p.text();
    expect(html).toContain('Ủy ban nhân dân xã mời họp lúc tám giờ ngày hai mươi tháng mười hai.');
    expect(html).toMatch(/data-speak-audio[^>]*src="data:audio\/ogg;base64,[A-Za-z0-9+/]{200,}/);
    expect(await s.deps.store.content.count()).toBe(0);

    const bad = await form({ ...base, s_title: '', s_text: ' ', s_unit: '08/02600', action: 'save' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-error-for="s_title"');
    expect(badHtml).toContain('data-error-for="s_text"');
    expect(badHtml).toContain('data-error-for="s_unit"');
    const voice = await form({ ...base, s_voice: 'vi-xx', action: 'preview' });
    expect(voice.status).toBe(400);
    expect(await voice.text()).toMatch(/data-error-for="s_voice"[^>]*>Không có giọng đọc/);
    expect(await s.deps.store.content.count()).toBe(0);

    const ok = await form({ ...base, action: 'save' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/ui/content?ok=content.spoken');
    const [rec] = await s.deps.store.content.list();
    expect(rec).toMatchObject({ kind: 'audio', title: 'Họp HTX', category: 'announcement' });
  }, 120_000);

  it('adds a lexicon entry and refuses the same written form again next to the field', async () => {
    const csrf = await b.csrf('/ui/content/lexicon');
    const add = (from: string, to: string) =>
      b.post('/ui/content/lexicon', {
        _csrf: csrf,
        a_from: from,
        a_to: to,
        a_unit: '08/02500',
        a_lang: 'vi',
      });
    const first = await add('HTX', 'hợp tác xã');
    expect(first.status).toBe(303);
    const again = await add('HTX', 'khác');
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/data-error-for="a_from"[^>]*>Đã có cách đọc cho &quot;HTX&quot;/);
    const page = await (await b.get('/ui/content/lexicon')).text();
    expect(page).toContain('value="hợp tác xã"');
    expect(await s.deps.store.lexicon.count()).toBe(1);
  }, 60_000);
});
