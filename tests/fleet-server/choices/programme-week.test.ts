/**
 * The week plan of a commune (pure): seven Vietnamese days from Monday, each the day plan counted
 * per output, with a fixed clock (Vietnam's day changes at 17:00 UTC) over a week that crosses the
 * commune's quiet hours and one of its opt-outs every day.
 */
import { describe, expect, it } from 'vitest';
import { programmeTimeline } from '../../../fleet-server/src/domain/programme-timeline.js';
import { mondayOf, programmeWeek } from '../../../fleet-server/src/domain/programme-week.js';
import { weekView } from '../../../fleet-server/src/http/ui/view-models/timeline-week.js';
import { communeChoices, manifest, provinceDaily } from './plan-fixtures.js';

const province = provinceDaily;
// the commune's own notice, once, on Wednesday 09/12 at 10:00 local
const own = manifest(
  'xa',
  '08/02500',
  [['hop-dan', 'normal']],
  [{ id: 'hop', items: ['hop-dan'], rule: { type: 'once', at: '2026-12-09T10:00:00+07:00' } }],
);
const choices = communeChoices([{ channel: 'tinh', entries: ['sang'] }]);

const dayPlan = (day: string) =>
  programmeTimeline({ unit: '08/02500', day, manifests: [province, own], choices: [choices] });
const at = (iso: string) => ({ now: () => Date.parse(iso) });

describe('programme week of a commune', () => {
  it('starts on the Monday of the Vietnamese week the clock is in (the day turns at 17:00 UTC)', () => {
    // Sunday 13/12 16:59 UTC is still Sunday 23:59 in Vietnam: the week of Monday 07/12
    expect(programmeWeek({ unit: '08/02500', clock: at('2026-12-13T16:59:00Z'), dayPlan }).week).toBe(
      '2026-12-07',
    );
    // at 17:00 UTC it is Monday 14/12 in Vietnam: the next week
    expect(programmeWeek({ unit: '08/02500', clock: at('2026-12-13T17:00:00Z'), dayPlan }).week).toBe(
      '2026-12-14',
    );
    // any day of a week asked for gives its Monday, across a month's end
    expect(mondayOf('2026-12-31')).toBe('2026-12-28');
    expect(mondayOf('2027-01-03')).toBe('2026-12-28');
    expect(mondayOf('2026-12-28')).toBe('2026-12-28');
  });

  it('counts each day from the day plan: plays, held by quiet hours and by the opt-out, times, air time', () => {
    const asked: string[] = [];
    const w = programmeWeek({
      unit: '08/02500',
      week: '2026-12-10',
      clock: at('2026-12-01T00:00:00Z'),
      dayPlan: (d) => {
        asked.push(d);
        return dayPlan(d);
      },
    });
    expect(w.week).toBe('2026-12-07');
    expect(asked).toEqual([
      '2026-12-07',
      '2026-12-08',
      '2026-12-09',
      '2026-12-10',
      '2026-12-11',
      '2026-12-12',
      '2026-12-13',
    ]);
    expect(w.days.map((d) => d.day)).toEqual(asked);
    const audio = w.days.map((d) => d.outputs.audio);
    // every day: sang-2 plays at 06:00, sang-1 refused by the commune, dem-1 held at 22:30
    for (const [i, o] of audio.entries()) {
      const wednesday = i === 2;
      expect(o.plays).toBe(wednesday ? 2 : 1);
      expect(o.heldTotal).toBe(2);
      expect(o.held).toEqual({ quiet: 1, optedOut: [{ unit: '08/02500', n: 1 }] });
      expect(new Date(o.first as number).toISOString()).toBe(
        new Date(`${w.days[i]?.day}T06:00:00+07:00`).toISOString(),
      );
      expect(new Date(o.last as number).toISOString()).toBe(
        new Date(`${w.days[i]?.day}T${wednesday ? '10:05' : '06:05'}:00+07:00`).toISOString(),
      );
      expect(o.airtimeMs).toBe((wednesday ? 10 : 5) * 60_000);
      expect(o.airtimeEstimated).toBe(false);
    }
    // the same numbers as each day's plan, counted
    for (const d of w.days) {
      const rows = dayPlan(d.day).rows;
      expect(d.outputs.audio.plays).toBe(rows.filter((r) => r.state === 'plays').length);
    }
    // nothing for the noticeboards
    expect(w.days.every((d) => d.outputs.display.plays === 0 && d.outputs.display.heldTotal === 0)).toBe(
      true,
    );
    expect(w.quiet).toEqual([{ start: '22:00', end: '05:00', unit: '08/02500' }]);
  });

  it('gives the page days, reasons with names, times and lengths, and the next and previous weeks', () => {
    const w = programmeWeek({
      unit: '08/02500',
      week: '2026-12-07',
      clock: at('2026-12-07T00:00:00Z'),
      dayPlan,
    });
    const v = weekView(w, new Map([['08/02500', 'Thị trấn Sơn Dương']]));
    expect([v.week, v.end, v.prev, v.next]).toEqual(['2026-12-07', '2026-12-13', '2026-11-30', '2026-12-14']);
    expect(v.lanes.map((l) => l.output)).toEqual(['audio', 'display']);
    const wed = v.lanes[0]?.days[2];
    expect(wed).toMatchObject({
      day: '2026-12-09',
      weekday: 2,
      date: '09/12/2026',
      plays: 2,
      held: 2,
      reasons: [
        { kind: 'quiet', n: 1 },
        { kind: 'opted-out', n: 1, name: 'Thị trấn Sơn Dương' },
      ],
      first: '06:00',
      last: '10:05',
      airtime: { h: 0, min: 10, s: 0 },
    });
    expect(v.lanes[0]?.totals).toEqual({
      plays: 8,
      held: 14,
      airtime: { h: 0, min: 40, s: 0 },
      airtimeEstimated: false,
    });
    expect(v.lanes[1]?.days[0]).toMatchObject({ plays: 0, held: 0, reasons: [] });
    expect(v.lanes[1]?.days[0]?.first).toBeUndefined();
    // the filter keeps one lane
    expect(weekView(w, new Map(), 'display').lanes.map((l) => l.output)).toEqual(['display']);
  });
});
