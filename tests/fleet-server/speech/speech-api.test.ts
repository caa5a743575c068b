/**
 * Spoken bulletins through the API on a real server, real espeak-ng and real ffmpeg: the voices
 * of the engine, the editors' lexicon (validated with stable codes, audited, scoped, a commune's
 * entry winning over its province's), the preview (spoken form and a clip that decodes, slower
 * at a lower rate) and the stored bulletin (station format, normalised, its spoken form recorded
 * and checked on espeak-ng's phonemes).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord, LexiconEntryRecord } from '../../../fleet-server/src/domain/model.js';
import type { SpeechPreviewResult } from '../../../fleet-server/src/services/speech-service.js';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';
import { measureAudio, phonemes } from './audio-measure.js';

type Err = { error: { code: string; message: string } };

describe('spoken bulletins and the pronunciation lexicon', () => {
  let h: Harness;
  let province: TestUser;
  let commune: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    h = await startHarness();
    province = await h.user('bientap.tinh', 'editor', ['08']);
    commune = await h.user('bientap.xa', 'editor', ['08/02500']);
    viewer = await h.user('xem.xa', 'viewer', ['08/02500']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const add = <T = LexiconEntryRecord | Err>(u: TestUser, body: Record<string, unknown>) =>
    h.api<T>(u, 'POST', '/api/v1/lexicon', { unit: '08/02500', lang: 'vi', ...body });

  it('lists the Vietnamese voices of espeak-ng with their regions', async () => {
    const r = await h.api<{ engine: string; voices: { id: string; label: string }[]; rate: { min: number } }>(
      viewer,
      'GET',
      '/api/v1/speech/voices',
    );
    expect(r.status).toBe(200);
    expect(r.body.engine).toBe('espeak-ng');
    expect(r.body.voices.map((v) => [v.id, v.label])).toEqual([
      ['vi', 'Miền Bắc'],
      ['vi-vn-x-central', 'Miền Trung'],
      ['vi-vn-x-south', 'Miền Nam'],
    ]);
    expect(r.body.rate).toEqual({ min: 80, max: 260, default: 150 });
  }, 120_000);

  it('refuses bad lexicon entries with stable codes and keeps what was stored', async () => {
    const ok = await add<LexiconEntryRecord>(commune, { from: 'HTX', to: 'hợp tác xã' });
    expect(ok.status).toBe(201);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ from: '   ', to: 'x' }, 400, 'LEXICON_FROM_EMPTY'],
      [{ from: 'ABC', to: ' \t ' }, 400, 'LEXICON_TO_EMPTY'],
      [{ from: 'A'.repeat(61), to: 'x' }, 400, 'LEXICON_FROM_TOO_LONG'],
      [{ from: 'ABC', to: 'x'.repeat(201) }, 400, 'LEXICON_TO_TOO_LONG'],
      [{ from: 'AB\nC', to: 'x' }, 400, 'LEXICON_CONTROL_CHARS'],
      [{ from: '...', to: 'chấm chấm chấm' }, 400, 'LEXICON_FROM_NO_WORD'],
      // the same written form, with other spacing: a duplicate
      [{ from: ' HTX ', to: 'hợp tác xã nông nghiệp' }, 409, 'LEXICON_DUPLICATE'],
      [{ from: 'XYZ', to: 'x', unit: '08/02600' }, 403, 'FORBIDDEN_SCOPE'],
      [{ from: 'XYZ', to: 'x', unit: '08//1' }, 400, 'VALIDATION_FAILED'],
      [{ from: 'XYZ', to: 'x', extra: 1 }, 400, 'VALIDATION_FAILED'],
      [{ from: 'XYZ' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await add<Err>(commune, body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
      expect(r.body.error.message.length).toBeGreaterThan(5);
    }
    // a composed and a decomposed "Trào" are the same written form
    expect((await add(commune, { from: 'Tân Trào', to: 'Tân Trào' })).status).toBe(201);
    const nfd = await add<Err>(commune, { from: 'Tân Trào'.normalize('NFD'), to: 'x' });
    expect(nfd.body.error.code).toBe('LEXICON_DUPLICATE');
    // a viewer reads but does not write
    expect((await add<Err>(viewer, { from: 'QĐ', to: 'quyết định' })).body.error.code).toBe('FORBIDDEN_ROLE');
    const list = await h.api<LexiconEntryRecord[]>(viewer, 'GET', '/api/v1/lexicon?lang=vi');
    expect(list.body.map((e) => [e.from, e.to])).toEqual([
      ['HTX', 'hợp tác xã'],
      ['Tân Trào', 'Tân Trào'],
    ]);
  }, 120_000);

  it('edits and removes entries, refusing an edit into a duplicate, every change audited', async () => {
    const a = (await add<LexiconEntryRecord>(commune, { from: 'BQL', to: 'ban quản lý' })).body;
    const b = (await add<LexiconEntryRecord>(commune, { from: 'KDC', to: 'khu dân cư' })).body;
    const dup = await h.api<Err>(commune, 'PATCH', `/api/v1/lexicon/${b.id}`, { from: 'BQL' });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'LEXICON_DUPLICATE']);
    expect((await h.svc.lexicon.get(b.id)).from).toBe('KDC');
    const edited = await h.api<LexiconEntryRecord>(commune, 'PATCH', `/api/v1/lexicon/${a.id}`, {
      to: 'ban quản lý dự án',
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ from: 'BQL', to: 'ban quản lý dự án', updatedBy: commune.id });
    const outOfScope = await h.api<Err>(
      await h.user('bientap.xa2', 'editor', ['08/02600']),
      'DELETE',
      `/api/v1/lexicon/${a.id}`,
    );
    expect(outOfScope.body.error.code).toBe('FORBIDDEN_SCOPE');
    expect((await h.api(commune, 'DELETE', `/api/v1/lexicon/${b.id}`)).status).toBe(200);
    const gone = await h.api<Err>(commune, 'DELETE', `/api/v1/lexicon/${b.id}`);
    expect([gone.status, gone.body.error.code]).toEqual([404, 'LEXICON_NOT_FOUND']);
    const bad = await h.api<Err>(commune, 'PATCH', '/api/v1/lexicon/..%2Fx', { to: 'x' });
    expect(bad.body.error.code).toBe('LEXICON_NOT_FOUND');
    const audit = await h.server.deps.store.audit.query({ action: 'lexicon.' });
    expect(audit.map((e) => [e.action, e.details?.from])).toEqual(
      expect.arrayContaining([
        ['lexicon.delete', 'KDC'],
        ['lexicon.update', 'BQL'],
        ['lexicon.create', 'KDC'],
        ['lexicon.create', 'BQL'],
      ]),
    );
    const update = audit.find((e) => e.action === 'lexicon.update');
    expect(update?.details).toMatchObject({ to: 'ban quản lý dự án', before: { to: 'ban quản lý' } });
  }, 120_000);

  it('previews the spoken form with the unit’s entries over its province’s, and a clip that decodes', async () => {
    // the province reads "TX" one way; the commune knows it means its own town
    expect((await add(province, { unit: '08', from: 'TX', to: 'thị xã' })).status).toBe(201);
    expect((await add(commune, { from: 'TX', to: 'thị xã Phú Thọ' })).status).toBe(201);
    const text = 'HTX TX họp lúc 7:30 ngày 15/12, UBND mời 25 hộ.';
    const preview = async (u: TestUser, body: Record<string, unknown>) =>
      h.api<SpeechPreviewResult & Err>(u, 'POST', '/api/v1/speech/preview', {
        unit: '08/02500',
        text,
        ...body,
      });
    const r = await preview(commune, { voice: 'vi-vn-x-south', rate: 150 });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(r.body.spoken).toBe(
      'hợp tác xã thị xã Phú Thọ họp lúc bảy giờ ba mươi phút ngày mười lăm tháng mười hai, Ủy ban nhân dân mời hai mươi lăm hộ.',
    );
    expect(r.body.voice).toBe('vi-vn-x-south');
    expect(r.body.audio.startsWith('data:audio/ogg;base64,')).toBe(true);
    const clip = join(h.dir, 'preview.ogg');
    await writeFile(clip, Buffer.from(r.body.audio.split(',')[1] ?? '', 'base64'));
    const m = await measureAudio(clip);
    expect(m.durationMs).toBeGreaterThan(3000);
    expect(Math.abs(m.durationMs - r.body.durationMs)).toBeLessThan(100);
    expect(m.maxDb).toBeGreaterThan(-10);
    // another commune of the province gets the province's entry
    const other = await preview(province, { unit: '08/02600' });
    expect(other.body.spoken.startsWith('HTX thị xã họp')).toBe(true);
    // slower speech makes a longer clip
    const slow = await preview(commune, { rate: 100 });
    const fast = await preview(commune, { rate: 220 });
    expect(slow.body.durationMs).toBeGreaterThan(fast.body.durationMs * 1.5);
    // bad inputs
    const bad: [Record<string, unknown>, number, string][] = [
      [{ voice: 'en' }, 422, 'TTS_VOICE'],
      [{ voice: 'vi', lang: 'hmn' }, 422, 'TTS_VOICE'],
      [{ lang: 'hmn' }, 422, 'TTS_NO_VOICE'],
      [{ rate: 300 }, 400, 'VALIDATION_FAILED'],
      [{ rate: 150.5 }, 400, 'VALIDATION_FAILED'],
      [{ text: '   ' }, 400, 'VALIDATION_FAILED'],
      [{ unit: '08/02600' }, 403, 'FORBIDDEN_SCOPE'],
    ];
    for (const [body, status, code] of bad) {
      const e = await preview(commune, body);
      expect([e.status, e.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const asViewer = await preview(viewer, {});
    expect(asViewer.body.error.code).toBe('FORBIDDEN_ROLE');
    // a preview stores nothing
    expect(await h.server.deps.store.content.count()).toBe(0);
  }, 120_000);

  it('stores a spoken bulletin in the station format, its spoken form read as the words', async () => {
    const r = await h.api<ContentRecord & Err>(commune, 'POST', '/api/v1/content/speech', {
      title: 'Thông báo họp HTX',
      unit: '08/02500',
      text: 'HTX thôn Tân Trào họp lúc 19:00 ngày 20/12/2026.',
      voice: 'vi-vn-x-central',
      rate: 140,
      category: 'announcement',
    });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    expect(r.body).toMatchObject({ kind: 'audio', mediaType: 'audio/ogg', category: 'announcement' });
    const tts = r.body.meta?.tts as { engine: string; voice: string; rate: number; spoken: string };
    expect(tts).toMatchObject({ engine: 'espeak-ng', voice: 'vi-vn-x-central', rate: 140 });
    expect(tts.spoken).toBe(
      'hợp tác xã thôn Tân Trào họp lúc mười chín giờ ngày hai mươi tháng mười hai năm hai nghìn không trăm hai mươi sáu.',
    );
    // what espeak-ng said is the words, not the letters and digits
    expect(await phonemes(tts.spoken, 'vi-vn-x-central')).not.toBe(
      await phonemes('HTX thôn Tân Trào họp lúc 19:00 ngày 20/12/2026.', 'vi-vn-x-central'),
    );
    expect(await phonemes(tts.spoken, 'vi-vn-x-central')).toContain(
      (await phonemes('hợp tác xã', 'vi-vn-x-central')).split(' ')[0],
    );
    const m = await measureAudio(h.svc.blobs.path(r.body.sha256 as string));
    expect(Math.abs(m.durationMs - (r.body.durationMs ?? 0))).toBeLessThan(100);
    expect(m.durationMs).toBeGreaterThan(3000);
    // normalised towards -16 LUFS (linear loudnorm stops short on peaky synthetic speech to keep
    // the true peak under -1.5 dBTP), and the record says what was measured
    expect(m.lufs).toBeGreaterThan(-19.5);
    expect(m.lufs).toBeLessThan(-14.5);
    expect(Math.abs(m.lufs - (r.body.loudnessLufs ?? 0))).toBeLessThan(0.5);
    expect(m.maxDb).toBeLessThan(-1);
    const bad = await h.api<Err>(commune, 'POST', '/api/v1/content/speech', {
      title: 'x',
      unit: '08/02500',
      text: 'Xin chào',
      voice: 'de',
    });
    expect(bad.body.error.code).toBe('TTS_VOICE');
    expect(await h.server.deps.store.content.count()).toBe(1);
  }, 120_000);

  it('speaks an emergency with the same lexicon and numbers as the bulletins of its unit', async () => {
    const operator = await h.user('vanhanh.khancap', 'operator', ['08/02500']);
    const k = await h.api<{ publicKey: string }>(operator, 'POST', '/api/v1/signing-keys/me');
    await h.installTrust([{ pub: k.body.publicKey, roles: ['emergency'], scope: ['08/02500'] }]);
    const r = await h.api<{ bundle: { manifest: { items: { kind: string; content?: string }[] } } } & Err>(
      operator,
      'POST',
      '/api/v1/emergency',
      {
        unit: '08/02500',
        title: 'Cảnh báo lũ',
        text: 'HTX thôn Tân Trào sơ tán trước 17:30, nước lên 2,5 m.',
      },
    );
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    const audio = (await h.server.deps.store.content.list((c) => c.category === 'emergency'))[0];
    expect(audio?.meta?.tts).toMatchObject({
      engine: 'espeak-ng',
      voice: 'vi',
      spoken: 'hợp tác xã thôn Tân Trào sơ tán trước mười bảy giờ ba mươi phút, nước lên hai phẩy năm m.',
    });
    const m = await measureAudio(h.svc.blobs.path(audio?.sha256 as string));
    expect(m.durationMs).toBeGreaterThan(3000);
    expect(m.maxDb).toBeGreaterThan(-10);
  }, 120_000);
});
