/** Which programmes keep a content entry in use (and so refuse its deletion). */
import type { Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { bundlesUsing } from '../../../fleet-server/src/domain/content-use.js';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';

const NOW = Date.parse('2026-12-07T08:00:00Z');
const SHA = 'a'.repeat(64);
const audio: ContentRecord = {
  id: 'c-audio',
  kind: 'audio',
  title: 'Bản tin sáng',
  lang: 'vi',
  unit: '08',
  sha256: SHA,
  createdBy: 'u',
  createdAt: '2026-12-01T00:00:00Z',
};
const text: ContentRecord = {
  ...audio,
  id: 'c-text',
  kind: 'text',
  sha256: undefined,
  text: 'Lịch tiêm chủng',
};

function bundle(
  id: string,
  channel: string,
  version: number,
  state: BundleRecord['state'],
  items: Manifest['items'],
  expires = '2026-12-30T00:00:00Z',
): BundleRecord {
  const manifest = {
    type: 'loa-bundle',
    format: 1,
    id,
    channel,
    version,
    created: '2026-12-01T00:00:00Z',
    expires,
    targets: [{ unit: '08' }],
    items,
    schedule: [],
    signatures: [],
  } as unknown as Manifest;
  return {
    id,
    channel,
    version,
    state,
    manifest,
    units: ['08'],
    createdBy: 'u',
    createdAt: `2026-12-0${version}T00:00:00Z`,
    updatedAt: '2026-12-01T00:00:00Z',
  };
}
const audioItem = {
  id: 'ban-tin-sang',
  title: 'Bản tin sáng',
  kind: 'audio',
  priority: 'normal',
  lang: 'vi',
  blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
} as Manifest['items'][number];
const textItem = {
  id: 'lich-tiem',
  title: 'Lịch tiêm',
  kind: 'text',
  priority: 'normal',
  lang: 'vi',
  text: 'Lịch tiêm chủng',
} as Manifest['items'][number];

describe('content in use', () => {
  it.each([
    ['the newest published version on air', [bundle('a-v1', 'a', 1, 'published', [audioItem])], ['a-v1']],
    ['a programme waiting for approval', [bundle('a-v1', 'a', 1, 'submitted', [audioItem])], ['a-v1']],
    ['an approved programme not yet published', [bundle('a-v1', 'a', 1, 'approved', [audioItem])], ['a-v1']],
    [
      'not a version superseded by a newer one without it',
      [bundle('a-v1', 'a', 1, 'published', [audioItem]), bundle('a-v2', 'a', 2, 'published', [textItem])],
      [],
    ],
    [
      'not an expired programme',
      [bundle('a-v1', 'a', 1, 'published', [audioItem], '2026-12-06T00:00:00Z')],
      [],
    ],
    [
      'not a draft, a rejected or a withdrawn one',
      [
        bundle('a-v1', 'a', 1, 'draft', [audioItem]),
        bundle('b-v1', 'b', 1, 'rejected', [audioItem]),
        bundle('c-v1', 'c', 1, 'withdrawn', [audioItem]),
      ],
      [],
    ],
  ])('audio: %s', (_name, bundles, ids) => {
    expect(bundlesUsing(audio, bundles, NOW).map((b) => b.id)).toEqual(ids);
  });

  it('finds a text bulletin by its text (it has no file), not an audio item by title', () => {
    const bundles = [bundle('a-v1', 'a', 1, 'published', [audioItem, textItem])];
    expect(bundlesUsing(text, bundles, NOW).map((b) => b.id)).toEqual(['a-v1']);
    expect(bundlesUsing({ ...text, text: 'Khác' }, bundles, NOW)).toEqual([]);
  });
});
