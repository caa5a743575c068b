/**
 * The day plan of a commune (pure): which items play, which its choices refuse and which its
 * quiet hours hold, on a fixed day; and the choices form read back into the API's shape.
 */
import type { Choices, Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { programmeTimeline } from '../../../fleet-server/src/domain/programme-timeline.js';
import { choicesFromForm, timelineView } from '../../../fleet-server/src/http/ui/view-models/timeline.js';

const SHA = 'a'.repeat(64);
function manifest(
  id: string,
  unit: string,
  items: [string, 'normal' | 'priority' | 'emergency'][],
  times: Record<string, string[]>,
): Manifest {
  return {
    type: 'loa-bundle',
    format: 1,
    id,
    channel: id,
    version: 1,
    created: '2026-12-01T00:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    utcOffset: '+07:00',
    description: `Chương trình ${id}`,
    targets: [{ unit }],
    items: items.map(([iid, priority]) => ({
      id: iid,
      title: `Bản tin ${iid}`,
      kind: 'audio' as const,
      priority,
      lang: 'vi',
      blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
      durationMs: 5 * 60_000,
    })),
    schedule: Object.entries(times).map(([entry, t]) => ({
      id: entry,
      items: items.map(([iid]) => iid).filter((iid) => iid.startsWith(entry)),
      rule: { type: 'daily' as const, times: t },
    })),
    signatures: [],
  };
}

const province = manifest(
  'tinh',
  '08',
  [
    ['sang-1', 'normal'],
    ['sang-2', 'priority'],
    ['dem-1', 'normal'],
  ],
  {
    sang: ['06:00'],
    dem: ['22:30'],
  },
);
const own = manifest('xa', '08/02500', [['sang-xa', 'normal']], { sang: ['06:00'] });
const choices = {
  type: 'loa-choices',
  format: 1,
  unit: '08/02500',
  version: 4,
  issued: '2026-12-01T00:00:00Z',
  optOut: [{ channel: 'tinh', entries: ['sang'] }, { categories: ['quang-cao'] }],
  quietHours: [{ start: '22:00', end: '05:00' }],
  signatures: [],
} satisfies Choices;

describe('programme timeline of a commune', () => {
  const tl = programmeTimeline({
    unit: '08/02500',
    day: '2026-12-08',
    manifests: [province, own],
    choices: [choices],
  });

  it('marks refused, held and playing items, in time order, on the local day', () => {
    expect(new Date(tl.dayStart).toISOString()).toBe('2026-12-07T17:00:00.000Z');
    expect(
      tl.rows.map((r) => [new Date(r.start).toISOString().slice(11, 16), r.itemId, r.source, r.state]),
    ).toEqual([
      // 06:00 local: the refused normal item takes no air time, the priority item keeps its place
      ['23:00', 'sang-1', 'upper', 'opted-out'],
      ['23:00', 'sang-2', 'upper', 'plays'],
      ['23:00', 'sang-xa', 'own', 'plays'],
      // 22:30 local: inside the commune's quiet hours
      ['15:30', 'dem-1', 'upper', 'quiet'],
    ]);
    expect(tl.rows.find((r) => r.itemId === 'sang-1')?.optedOutBy).toEqual({ unit: '08/02500', version: 4 });
    expect(tl.quiet).toEqual([{ start: '22:00', end: '05:00', unit: '08/02500' }]);
  });

  it('gives the page names, bands and the refusable slots; the form comes back as choices', () => {
    const names = new Map([
      ['08', 'Tỉnh Tuyên Quang'],
      ['08/02500', 'Thị trấn Sơn Dương'],
    ]);
    const v = timelineView(tl, names, choices);
    expect(v.rows.find((r) => r.row.itemId === 'sang-1')).toMatchObject({
      fromName: 'Tỉnh Tuyên Quang',
      refusedBy: 'Thị trấn Sơn Dương',
      time: '06:00–06:05',
    });
    // quiet 22:00–05:00 wraps midnight: two shaded bands
    expect(v.bands.filter((b) => b.state === 'quiet-window').map((b) => [b.left, b.width])).toEqual([
      [0, (300 / 1440) * 100],
      [(1320 / 1440) * 100, (120 / 1440) * 100],
    ]);
    // only upper-level normal slots can be refused; the category rule is kept as it is
    expect(v.slots.map((s) => [s.key, s.refused, s.times])).toEqual([
      ['tinh|sang', true, ['06:00']],
      ['tinh|dem', false, ['22:30']],
    ]);
    expect(v.kept).toEqual([{ categories: ['quang-cao'] }]);
    expect(v.counts).toEqual({ plays: 2, optedOut: 1, quiet: 1 });
    expect(
      choicesFromForm(['tinh|dem', 'tinh|sang', 'bad'], v.kept, [
        { start: '21:00', end: '05:30' },
        { start: '', end: '' },
      ]),
    ).toEqual({
      optOut: [{ channel: 'tinh', entries: ['dem', 'sang'] }, { categories: ['quang-cao'] }],
      quietHours: [{ start: '21:00', end: '05:30' }],
    });
  });
});
