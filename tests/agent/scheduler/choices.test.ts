/**
 * A commune's programme choices in the scheduler: normal items of upper-level bundles it opted
 * out of are not planned (held as opted-out, final once due), its central quiet hours hold the
 * rest, and priority and emergency items always play.
 */
import { describe, expect, test } from 'vitest';
import { schedule } from '../../../agent/src/domain/scheduler/index.js';
import type { ScheduleInput, StationChoices } from '../../../agent/src/domain/scheduler/types.js';
import { audioItem, bundle } from './fixtures.js';

const at = (iso: string) => Date.parse(iso);
const base = (over: Partial<ScheduleInput>): ScheduleInput => ({
  bundles: [],
  policy: { warmupMs: 0, volume: 70 },
  now: at('2026-11-26T22:00:00Z'), // 05:00 in Vietnam
  horizonMs: 24 * 3600_000,
  clockTrusted: true,
  ...over,
});

const commune = (over: Partial<StationChoices> = {}): StationChoices => ({
  unit: '08/02500',
  version: 1,
  optOut: [{ channel: 'tinh', entries: ['sang'] }],
  quietHours: [],
  ...over,
});

// the province's morning relay slot (06:00) and noon bulletin (11:00), plus a priority notice at 06:00
const province = bundle({
  id: 'tinh-v1',
  channel: 'tinh',
  targets: [{ unit: '08' }],
  items: [
    audioItem('thoi-su', 10 * 60_000),
    audioItem('trua', 5 * 60_000),
    audioItem('khan', 60_000, { priority: 'priority' }),
  ],
  schedule: [
    { id: 'sang', items: ['thoi-su', 'khan'], rule: { type: 'daily', times: ['06:00'] } },
    { id: 'trua', items: ['trua'], rule: { type: 'daily', times: ['11:00'] } },
  ],
});
// the commune's own bulletin in the slot it freed
const own = bundle({
  id: 'xa-v1',
  channel: 'xa',
  targets: [{ unit: '08/02500' }],
  items: [audioItem('ban-tin-xa', 5 * 60_000)],
  schedule: [{ id: 'sang', items: ['ban-tin-xa'], rule: { type: 'daily', times: ['06:00'] } }],
});

const played = (input: ScheduleInput) =>
  schedule(input).slots.map((s) => `${new Date(s.start).toISOString().slice(11, 16)} ${s.item.id}`);

describe('scheduler: commune choices', () => {
  test('without choices the province slot plays; with the opt-out the commune bulletin takes it', () => {
    expect(played(base({ bundles: [province, own] }))).toEqual([
      '23:00 thoi-su',
      '23:10 khan',
      '23:11 ban-tin-xa',
      '04:00 trua',
    ]);
    const tl = schedule(base({ bundles: [province, own], choices: [commune()] }));
    expect(tl.slots.map((s) => s.item.id)).toEqual(['khan', 'ban-tin-xa', 'trua']);
    // the refused item is listed, not final before it is due
    expect(tl.held.map((h) => [h.itemId, h.reason, h.final])).toEqual([['thoi-su', 'opted-out', false]]);
  });

  test('an opted-out item that is due is final: the player records it as skipped, once', () => {
    const tl = schedule(base({ now: at('2026-11-26T23:05:00Z'), bundles: [province], choices: [commune()] }));
    expect(tl.held.filter((h) => h.final).map((h) => [h.itemId, h.reason])).toEqual([
      ['thoi-su', 'opted-out'],
    ]);
    const done = new Map(tl.held.filter((h) => h.final).map((h) => [h.itemKey, at('2026-11-26T23:05:00Z')]));
    const again = schedule(
      base({ now: at('2026-11-26T23:06:00Z'), bundles: [province], choices: [commune()], done }),
    );
    expect(again.slots.map((s) => s.item.id)).not.toContain('thoi-su');
  });

  test('a commune cannot opt out of its own content, nor a province of content it addresses itself', () => {
    const ownChannel = commune({ optOut: [{ channel: 'xa' }] });
    expect(played(base({ bundles: [own], choices: [ownChannel] }))).toEqual(['23:00 ban-tin-xa']);
    const provinceLevel = commune({ unit: '08', optOut: [{ channel: 'tinh' }] });
    expect(schedule(base({ bundles: [province], choices: [provinceLevel] })).held).toEqual([]);
  });

  test('priority and emergency items cannot be opted out of, even by category or channel', () => {
    const urgent = bundle(
      {
        id: 'tinh-kc',
        channel: 'tinh',
        created: '2026-11-26T21:00:00Z',
        items: [audioItem('bao', 60_000, { priority: 'emergency', category: 'thien-tai' })],
        schedule: [{ id: 'now', items: ['bao'], rule: { type: 'immediate' } }],
      },
      at('2026-11-26T22:00:00Z'),
    );
    const all = commune({ optOut: [{ channel: 'tinh' }, { categories: ['thien-tai'] }] });
    const tl = schedule(base({ bundles: [urgent, province], choices: [all] }));
    expect(tl.slots.map((s) => s.item.id)).toEqual(['bao', 'khan']);
  });

  test("the commune's central quiet hours hold normal items, never emergencies", () => {
    // quiet 05:50–06:10 local: the 06:00 programme waits until 06:10
    const quiet = commune({ optOut: [], quietHours: [{ start: '05:50', end: '06:10' }] });
    const held = base({ bundles: [province, own], choices: [quiet] });
    // the province's priority programme goes first; the commune's bulletin is then past maxLateMs
    expect(played(held)).toEqual(['23:10 thoi-su', '23:20 khan', '04:00 trua']);
    expect(schedule(held).held.map((h) => [h.itemId, h.reason])).toEqual([['ban-tin-xa', 'too-late']]);
    const urgent = bundle(
      {
        id: 'tinh-kc',
        channel: 'tinh',
        created: '2026-11-26T22:00:00Z',
        items: [audioItem('bao', 60_000, { priority: 'emergency' })],
        schedule: [{ id: 'now', items: ['bao'], rule: { type: 'immediate' } }],
      },
      at('2026-11-26T22:40:00Z'),
    );
    const during = schedule(base({ now: at('2026-11-26T22:55:00Z'), bundles: [urgent], choices: [quiet] }));
    expect(during.slots.map((s) => [s.item.id, new Date(s.start).toISOString()])).toEqual([
      ['bao', '2026-11-26T22:55:00.000Z'],
    ]);
  });
});
