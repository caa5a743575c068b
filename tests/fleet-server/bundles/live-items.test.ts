/**
 * Live relays in the API: a draft with a stream item and an FM item (no library content), the
 * stream's fallback chain naming an FM frequency and a recording from the content library; the
 * recording's blob travels with the bundle; a live item's signing needs the `live` role.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requiredRoles } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, makeSine, startHarness, type TestUser } from '../publish/harness.js';

type Err = { error: { code: string; message: string } };

describe('live relay items in drafts', () => {
  let h: Harness;
  let editor: TestUser;
  let recording: ContentRecord;

  beforeAll(async () => {
    h = await startHarness();
    editor = await h.user('bientap.xa', 'editor', ['08/02500']);
    const src = join(h.dir, 'du-phong.wav');
    await makeSine(src, 2, 660, 0.1);
    const q = new URLSearchParams({
      title: 'Bản tin dự phòng',
      unit: '08/02500',
      lang: 'vi',
      name: 'du-phong.wav',
    });
    recording = (
      await h.api<ContentRecord>(editor, 'POST', `/api/v1/content/upload?${q}`, await readFile(src), {
        'content-type': 'application/octet-stream',
      })
    ).body;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('composes stream and FM items with their fallback chain; they need the live role', async () => {
    const r = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
      channel: 'tiep-song-02500',
      items: [
        {
          id: 'vov1',
          title: 'Tiếp sóng VOV1',
          live: { kind: 'stream', url: 'http://127.0.0.1:8000/vov1', format: 'mp3' },
          fallback: { fmMHz: 96.5, recording: recording.id, failoverMs: 2000 },
          durationMs: 1_800_000,
        },
        {
          id: 'fm-tinh',
          title: 'Đài tỉnh',
          live: { kind: 'fm', frequencyMHz: 98.9, level: 10 },
          durationMs: 900_000,
        },
      ],
      schedule: [{ id: 'sang', items: ['vov1', 'fm-tinh'], rule: { type: 'daily', times: ['06:00'] } }],
      targets: [{ unit: '08/02500' }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const [stream, fm] = r.body.manifest.items;
    expect(stream).toMatchObject({
      kind: 'stream',
      url: 'http://127.0.0.1:8000/vov1',
      format: 'mp3',
      relay: {
        failoverMs: 2000,
        fallback: [
          { type: 'fm', frequencyMHz: 96.5 },
          { type: 'recording', blob: { sha256: recording.sha256, size: recording.size } },
        ],
      },
    });
    expect(fm).toMatchObject({ kind: 'fm', fm: { frequencyMHz: 98.9, level: 10 } });
    expect(requiredRoles(r.body.manifest)).toEqual(['live']);
  });

  it('refuses an item that is both content and live, a live item without a title, a bad frequency, a missing recording; nothing is stored', async () => {
    const post = (item: unknown) =>
      h.api<Err>(editor, 'POST', '/api/v1/bundles', {
        channel: 'tiep-song-sai',
        items: [item],
        targets: [{ unit: '08/02500' }],
      });
    const both = await post({ content: recording.id, title: 'x', live: { kind: 'fm', frequencyMHz: 98.9 } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain('content');
    const untitled = await post({ live: { kind: 'stream', url: 'http://127.0.0.1:8000/a' } });
    expect(untitled.status).toBe(400);
    expect(untitled.body.error.message).toContain('tiêu đề');
    const badFm = await post({ title: 'FM', live: { kind: 'fm', frequencyMHz: 120 } });
    expect(badFm.status).toBe(400);
    const missing = await post({
      title: 'VOV',
      live: { kind: 'stream', url: 'http://127.0.0.1:8000/a' },
      fallback: { recording: 'khong-co' },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('CONTENT_NOT_FOUND');
    expect(await h.server.deps.store.bundles.count()).toBe(1);
  });
});
