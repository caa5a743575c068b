/**
 * The level an arriving emergency's decoder is started at, read from its (not yet verified)
 * manifest: the first immediate entry's volume and its first item's gain, gain 0 when the
 * station's chime comes first.
 */
import type { Item } from '@loa/protocol';
import { describe, expect, test } from 'vitest';
import { emergencyLevelHint } from '../../agent/src/services/playback/player.js';

const item = (id: string, extra: { gainDb?: number; chime?: boolean } = {}): Item => ({
  id,
  kind: 'audio',
  title: id,
  priority: 'emergency',
  lang: 'vi',
  blob: { sha256: 'a'.repeat(64), size: 10, mediaType: 'audio/ogg' },
  ...extra,
});

describe('emergencyLevelHint', () => {
  test("the immediate entry's volume and its first item's gain", () => {
    const hint = emergencyLevelHint(
      {
        items: [item('khac', { gainDb: 2 }), item('canh-bao', { gainDb: -4 })],
        schedule: [
          { id: 'sau', items: ['khac'], rule: { type: 'once', at: '2026-12-08T01:00:00Z' }, volume: 50 },
          { id: 'ngay', items: ['canh-bao', 'khac'], rule: { type: 'immediate' }, volume: 100 },
        ],
      },
      false,
    );
    expect(hint).toEqual({ entryVolume: 100, gainDb: -4 });
  });

  test('a chime first plays at gain 0; an item without a chime keeps its gain', () => {
    const m = {
      items: [item('canh-bao', { gainDb: -4 })],
      schedule: [{ id: 'ngay', items: ['canh-bao'], rule: { type: 'immediate' as const } }],
    };
    expect(emergencyLevelHint(m, true)).toEqual({ gainDb: 0 });
    const noChime = { ...m, items: [item('canh-bao', { gainDb: -4, chime: false })] };
    expect(emergencyLevelHint(noChime, true)).toEqual({ gainDb: -4 });
  });

  test('no schedule: the first item at the station level', () => {
    expect(emergencyLevelHint({ items: [item('canh-bao', { gainDb: 3 })] }, false)).toEqual({ gainDb: 3 });
  });
});
