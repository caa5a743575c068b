/**
 * The day plan of a commune (pure): which items play, which its choices refuse and which its
 * quiet hours hold, on a fixed day; and the choices form read back into the API's shape.
 */
import type { Choices, Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { programmeTimeline } from '../../../fleet-server/src/domain/programme-timeline.js';
import {
  choicesFromForm,
  lengthParts,
  rowTime,
  timelineView,
} from '../../../fleet-server/src/http/ui/view-models/timeline.js';
import { communeChoices, manifest, provinceDaily, SHA } from './plan-fixtures.js';

const province = provinceDaily;
const own = manifest('xa', '08/02500', [['sang-xa', 'normal']], { sang: ['06:00'] });
const choices = communeChoices([{ channel: 'tinh', entries: ['sang'] }, { categories: ['quang-cao'] }]);

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

describe('loudspeakers and noticeboards apart, with real lengths', () => {
  // the province's morning session: two recordings for the loudspeakers (the first of unknown
  // length), a health notice for the boards (20 s on screen) and a notice without a display time
  const board: Manifest = {
    ...manifest('tinh-sang', '08', [], {}),
    items: [
      {
        id: 'ghi-am',
        title: 'Bản tin ghi âm',
        kind: 'audio',
        priority: 'normal',
        lang: 'vi',
        blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
      },
      {
        id: 'thoi-tiet',
        title: 'Dự báo thời tiết',
        kind: 'audio',
        priority: 'normal',
        lang: 'vi',
        blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
        durationMs: 90_000,
      },
      {
        id: 'tiem-chung',
        title: 'Lịch tiêm chủng',
        kind: 'text',
        priority: 'normal',
        lang: 'vi',
        text: 'Tiêm chủng ngày 10',
        category: 'suc-khoe',
        durationMs: 20_000,
      },
      {
        id: 'hop-dan',
        title: 'Họp dân',
        kind: 'text',
        priority: 'normal',
        lang: 'vi',
        text: 'Họp dân thôn 3',
      },
    ],
    schedule: [
      {
        id: 'sang',
        items: ['ghi-am', 'thoi-tiet', 'tiem-chung', 'hop-dan'],
        rule: { type: 'daily', times: ['06:30'] },
      },
    ],
  };
  // a programme for one loudspeaker station only
  const onlyOne: Manifest = {
    ...manifest('rieng', '08/02500', [['rieng-1', 'normal']], { rieng: ['07:00'] }),
    targets: [{ unit: '08/02500', devices: ['tram-1'] }],
  };
  const health = {
    ...choices,
    version: 5,
    optOut: [{ categories: ['suc-khoe'] }],
    quietHours: [],
  } satisfies Choices;
  const hhmmss = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(11, 19);

  it('runs the two lanes side by side, each from the slot time, and says which lengths are known', () => {
    const tl = programmeTimeline({ unit: '08/02500', day: '2026-12-08', manifests: [board], choices: [] });
    expect(
      tl.rows.map((r) => [
        r.itemId,
        r.output,
        hhmmss(r.start),
        r.lengthKnown ? hhmmss(r.end) : '?',
        r.startEstimated,
      ]),
    ).toEqual([
      // in time order: the recording and the notice both start at 06:30, each on its own output
      ['ghi-am', 'audio', '06:30:00', '?', false],
      ['tiem-chung', 'display', '06:30:00', '06:30:20', false],
      ['hop-dan', 'display', '06:30:20', '?', false],
      // after a recording of unknown length the start is an estimate (DEFAULT_ITEM_MS)
      ['thoi-tiet', 'audio', '06:31:00', '06:32:30', true],
    ]);
  });

  it('keeps an opted-out board item off the screen lane, with the choice that refused it', () => {
    const tl = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests: [board],
      choices: [health],
    });
    const row = tl.rows.find((r) => r.itemId === 'tiem-chung');
    expect(row).toMatchObject({
      output: 'display',
      state: 'opted-out',
      optedOutBy: { unit: '08/02500', version: 5 },
    });
    // it takes no screen time: the next board item moves up to the slot time
    expect(hhmmss(tl.rows.find((r) => r.itemId === 'hop-dan')?.start ?? 0)).toBe('06:30:00');
    // the loudspeakers' lane is untouched
    expect(tl.rows.filter((r) => r.output === 'audio').map((r) => r.state)).toEqual(['plays', 'plays']);
  });

  it("draws one station's day: the programmes that target it, on its own output", () => {
    const manifests = [board, onlyOne];
    const unit = programmeTimeline({ unit: '08/02500', day: '2026-12-08', manifests, choices: [] });
    expect(unit.rows.map((r) => r.itemId)).toContain('rieng-1');
    const bangTin = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests,
      choices: [health],
      station: { id: 'bang-tin-1', kind: 'noticeboard', groups: [] },
    });
    expect(bangTin.rows.map((r) => [r.itemId, r.state])).toEqual([
      ['hop-dan', 'plays'],
      ['tiem-chung', 'opted-out'],
    ]);
    expect(bangTin.station?.id).toBe('bang-tin-1');
    const tram = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests,
      choices: [],
      station: { id: 'tram-1', kind: 'station', groups: [] },
    });
    expect(tram.rows.map((r) => r.itemId)).toEqual(['ghi-am', 'thoi-tiet', 'rieng-1']);
    const other = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests,
      choices: [],
      station: { id: 'tram-2', kind: 'station', groups: [] },
    });
    expect(other.rows.map((r) => r.itemId)).toEqual(['ghi-am', 'thoi-tiet']);
  });

  it('gives the page real ends (seconds where needed), lengths, and the lanes apart or filtered', () => {
    const tl = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests: [board],
      choices: [health],
    });
    const v = timelineView(tl, new Map(), undefined);
    const by = (id: string) => v.rows.find((r) => r.row.itemId === id);
    expect(by('tiem-chung')).toMatchObject({ time: '06:30:00–06:30:20', length: { h: 0, min: 0, s: 20 } });
    expect(by('thoi-tiet')).toMatchObject({ time: '06:31:00–06:32:30', length: { h: 0, min: 1, s: 30 } });
    // unknown length: the start alone, no made-up end
    expect(by('ghi-am')?.time).toBe('06:30');
    expect(by('ghi-am')?.length).toBeUndefined();
    expect(
      rowTime({
        start: Date.parse('2026-12-08T00:00:00Z'),
        end: Date.parse('2026-12-08T01:05:00Z'),
        lengthKnown: true,
      }),
    ).toBe('07:00–08:05');
    expect(lengthParts(3_725_400)).toEqual({ h: 1, min: 2, s: 5 });
    expect(v.lanes.map((l) => [l.output, l.rows.map((r) => r.row.itemId), l.counts])).toEqual([
      ['audio', ['ghi-am', 'thoi-tiet'], { plays: 2, optedOut: 0, quiet: 0 }],
      ['display', ['hop-dan', 'tiem-chung'], { plays: 1, optedOut: 1, quiet: 0 }],
    ]);
    // each lane's bar holds its own items only
    expect(v.lanes[1]?.bands.every((b) => b.output === 'display')).toBe(true);
    expect(timelineView(tl, new Map(), undefined, 'display').lanes.map((l) => l.output)).toEqual(['display']);
    const station = programmeTimeline({
      unit: '08/02500',
      day: '2026-12-08',
      manifests: [board],
      choices: [],
      station: { id: 'tram-1', kind: 'station', groups: [] },
    });
    // a station has one output whatever the filter says
    expect(timelineView(station, new Map(), undefined, 'display').lanes.map((l) => l.output)).toEqual([
      'audio',
    ]);
  });
});
