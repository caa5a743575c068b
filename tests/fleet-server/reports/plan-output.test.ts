/**
 * Which output an item is planned on, as the station's scheduler decides it: audio files and live
 * relays (stream and FM) sound on the loudspeakers; text, images and video show on noticeboards.
 * A report that counted an FM relay as a board item would show it "planned" on every noticeboard
 * and never played there.
 */
import type { Item, Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { laneOf } from '../../../agent/src/domain/scheduler/expand.js';
import { itemsByOutput, outputOfItem } from '../../../fleet-server/src/domain/reports/plan.js';

const kinds = ['audio', 'stream', 'fm', 'text', 'image', 'video'] as const;

describe('planned output per item kind', () => {
  it('agrees with the station scheduler for every kind', () => {
    for (const kind of kinds) {
      const item = { id: kind, kind } as Item;
      expect([kind, outputOfItem(item)]).toEqual([kind, laneOf(item)]);
    }
    expect(outputOfItem({ kind: 'fm' })).toBe('audio');
    expect(outputOfItem({ kind: 'text' })).toBe('display');
  });

  it('splits an entry holding a relay, a file and a bulletin by output', () => {
    const m = {
      items: [
        { id: 'fm-tinh', kind: 'fm' },
        { id: 'ban-tin', kind: 'audio' },
        { id: 'thong-bao', kind: 'text' },
      ],
    } as unknown as Manifest;
    const by = itemsByOutput(m, ['fm-tinh', 'ban-tin', 'thong-bao']);
    expect(by.get('audio')).toEqual(['fm-tinh', 'ban-tin']);
    expect(by.get('display')).toEqual(['thong-bao']);
  });
});
