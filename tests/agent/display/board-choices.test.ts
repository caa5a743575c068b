/**
 * A commune's choices on a noticeboard: the pure rule for the loop and the ticker, and the display
 * lane (the real DisplayLane on an injected clock) leaving a refused board item off the screen at
 * its slot, in the loop and in the ticker, while the items the commune carries stay.
 */
import type { Item, Manifest } from '@loa/protocol';
import { globalTimers } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { boardOptedOutBy } from '../../../agent/src/domain/display/board-choices.js';
import { type FrameContext, loopEntries, tickerLines } from '../../../agent/src/domain/display/frames.js';
import type { PlanBundle, StationChoices } from '../../../agent/src/domain/scheduler/types.js';
import { DisplayLane } from '../../../agent/src/services/display/display-lane.js';
import type { ProofDraft } from '../../../agent/src/services/playback/ports.js';
import { silent } from '../services/helpers.js';

const UNIT = '08/02500';
const ctx: FrameContext = {
  unit: 'UBND thị trấn Sơn Dương',
  utcOffset: '+07:00',
  mediaUrl: (sha) => `/kiosk/media/${sha}`,
  videoSound: false,
  defaultItemMs: 10_000,
};

function text(id: string, extra: Partial<Item> = {}): Item {
  return {
    id,
    title: `Tin ${id}`,
    kind: 'text',
    priority: 'normal',
    lang: 'vi',
    text: `Nội dung ${id}`,
    ...extra,
  };
}

function bundle(
  id: string,
  channel: string,
  unit: string,
  items: Item[],
  extra: Partial<Manifest> = {},
): PlanBundle {
  return {
    manifest: {
      type: 'loa-bundle',
      format: 1,
      id,
      channel,
      version: 1,
      created: '2026-12-01T00:00:00Z',
      expires: '2027-01-01T00:00:00Z',
      utcOffset: '+07:00',
      targets: [{ unit }],
      items,
      signatures: [],
      ...extra,
    },
    blobDir: '/data/blobs',
    activatedAt: Date.parse('2026-12-01T00:00:00Z'),
  };
}

function choices(optOut: StationChoices['optOut'], unit = UNIT): StationChoices {
  return { unit, version: 3, optOut, quietHours: [] };
}

// the province's board programme: a notice at 12:00 and 12:05 (Vietnam), an ad, a ticker line
const province = bundle(
  'tinh-bang-tin',
  'tinh-bang-tin',
  '08',
  [
    text('thong-bao', { durationMs: 30_000 }),
    text('quang-cao', { durationMs: 20_000, category: 'quang-cao' }),
    text('chay-chu', { category: 'ticker', text: 'Tin chạy chữ của tỉnh' }),
    text('khan', { priority: 'priority', durationMs: 20_000 }),
  ],
  {
    schedule: [
      { id: 'trua', items: ['thong-bao', 'khan'], rule: { type: 'daily', times: ['12:00'] } },
      { id: 'chieu', items: ['thong-bao'], rule: { type: 'daily', times: ['12:05'] } },
    ],
  },
);
// the commune's own notice
const own = bundle('xa', 'xa-bang-tin', UNIT, [text('lich-hop', { durationMs: 15_000 })]);

describe('which board items a commune keeps off its loop and ticker', () => {
  const m = province.manifest;
  const item = (id: string) => m.items.find((i) => i.id === id) as Item;

  it('refuses an item when every entry that lists it is refused, or by channel or category', () => {
    expect(boardOptedOutBy([choices([{ channel: 'tinh-bang-tin' }])], m, item('thong-bao'))).toEqual({
      unit: UNIT,
      version: 3,
    });
    // one of its two entries refused: it still has an occasion, the loop keeps it
    expect(
      boardOptedOutBy([choices([{ channel: 'tinh-bang-tin', entries: ['trua'] }])], m, item('thong-bao')),
    ).toBeUndefined();
    expect(
      boardOptedOutBy(
        [choices([{ channel: 'tinh-bang-tin', entries: ['trua', 'chieu'] }])],
        m,
        item('thong-bao'),
      ),
    ).toEqual({ unit: UNIT, version: 3 });
    // an item in no entry (the ad, the ticker): only a rule for every entry applies
    expect(boardOptedOutBy([choices([{ categories: ['quang-cao'] }])], m, item('quang-cao'))).toBeDefined();
    expect(
      boardOptedOutBy([choices([{ channel: 'tinh-bang-tin', entries: ['trua'] }])], m, item('quang-cao')),
    ).toBeUndefined();
    expect(boardOptedOutBy([choices([{ channel: 'tinh-bang-tin' }])], m, item('chay-chu'))).toBeDefined();
  });

  it('never refuses priority items, the commune’s own items, or without choices', () => {
    expect(boardOptedOutBy([choices([{ channel: 'tinh-bang-tin' }])], m, item('khan'))).toBeUndefined();
    expect(
      boardOptedOutBy([choices([{ channel: 'xa-bang-tin' }])], own.manifest, own.manifest.items[0] as Item),
    ).toBeUndefined();
    expect(boardOptedOutBy([], m, item('thong-bao'))).toBeUndefined();
  });

  it('leaves refused items out of the loop and the ticker', () => {
    const now = Date.parse('2026-12-07T03:00:00Z');
    const refuse = [choices([{ channel: 'tinh-bang-tin' }])];
    const ids = (c: StationChoices[]) => loopEntries([province, own], now, ctx, c).map((e) => e.item.id);
    expect(ids([])).toEqual(['thong-bao', 'quang-cao', 'khan', 'lich-hop']);
    expect(ids(refuse)).toEqual(['khan', 'lich-hop']);
    expect(ids([choices([{ categories: ['quang-cao'] }])])).toEqual(['thong-bao', 'khan', 'lich-hop']);
    expect(tickerLines([province, own], now).map((l) => l.itemId)).toEqual(['chay-chu']);
    expect(tickerLines([province, own], now, refuse)).toEqual([]);
  });
});

describe('the display lane with a commune’s choices', () => {
  /** The lane at an injected instant, without a kiosk page (state() is what it would push). */
  async function lane(at: number): Promise<{ lane: DisplayLane; proofs: ProofDraft[] }> {
    const proofs: ProofDraft[] = [];
    const l = new DisplayLane({
      clock: { now: () => at, trusted: () => true },
      timers: globalTimers,
      logger: silent,
      policy: { utcOffset: '+07:00' },
      proofs: { record: async (d) => void proofs.push(d) },
      relays: () => ({ amplifier: false, zones: {} }),
      layout: 'zone',
      unitName: 'UBND thị trấn Sơn Dương',
      defaultItemMs: 10_000,
      videoSound: false,
      tickerSpeed: 80,
      minFontPx: 28,
      onAlert: () => undefined,
    });
    await l.start();
    return { lane: l, proofs };
  }

  it('shows a refused notice neither at its slot nor in the loop; the commune’s own item instead', async () => {
    // 12:00:10 Vietnam: inside the province's noon slot
    const at = Date.parse('2026-12-07T05:00:10Z');
    const { lane: l } = await lane(at);
    try {
      l.setBundles([province, own]);
      expect(l.state().frame?.itemId).toBe('thong-bao');
      expect(l.state().frame?.entryId).toBe('trua');
      expect(l.state().ticker.map((t) => t.itemId)).toEqual(['chay-chu']);

      l.setChoices([choices([{ channel: 'tinh-bang-tin' }])]);
      const s = l.state();
      // the priority item of the same slot moves up; the refused notice is not on screen
      expect(s.frame?.itemId).toBe('khan');
      expect(s.ticker).toEqual([]);
    } finally {
      await l.stop();
    }
    const later = await lane(Date.parse('2026-12-07T05:30:00Z'));
    try {
      later.lane.setBundles([province, own]);
      later.lane.setChoices([choices([{ channel: 'tinh-bang-tin' }])]);
      // after the slot (12:30 Vietnam) the loop shows only what the commune carries
      const f = later.lane.state().frame;
      expect(f?.entryId).toBe('loop');
      expect(['khan', 'lich-hop']).toContain(f?.itemId);
      expect(later.lane.state().ticker).toEqual([]);
    } finally {
      await later.lane.stop();
    }
  });
});
