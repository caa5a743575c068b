import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ManifestBodySchema,
  QuietHoursSchema,
  ScheduleEntrySchema,
  ScheduleRuleSchema,
  WeekdaySchema,
} from '../../protocol/src/index.js';
import { manifestBody } from './fixtures.js';

const pad = (n: number) => String(n).padStart(2, '0');
const time = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`);
const times = fc.array(time, { minLength: 1, maxLength: 48 });
const days = fc.subarray([...WeekdaySchema.options], { minLength: 1 });
const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace('Z', '+07:00'),
      d.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ),
  );

const rule = fc.oneof(
  fc.constant({ type: 'immediate' as const }),
  instant.map((at) => ({ type: 'once' as const, at })),
  times.map((t) => ({ type: 'daily' as const, times: t })),
  fc.tuple(days, times).map(([d, t]) => ({ type: 'weekly' as const, days: d, times: t })),
);

describe('schedule rules: every well-formed rule parses', () => {
  it('once, daily, weekly and immediate rules', () => {
    fc.assert(
      fc.property(rule, (r) => {
        const parsed = ScheduleRuleSchema.safeParse(r);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });

  it('entries with repeat N times with a gap, validity windows, volume and quiet hours', () => {
    fc.assert(
      fc.property(
        rule,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 86_400 }),
        fc.integer({ min: 0, max: 100 }),
        fc.tuple(time, time),
        (r, count, gapSeconds, volume, [start, end]) => {
          const entry = {
            id: 'e1',
            items: ['thong-bao'],
            rule: r,
            repeat: { count, gapSeconds },
            validFrom: '2026-11-01T00:00:00+07:00',
            validUntil: '2026-12-01T00:00:00+07:00',
            volume,
          };
          expect(ScheduleEntrySchema.safeParse(entry).success).toBe(true);
          expect(QuietHoursSchema.safeParse({ start, end }).success).toBe(true);
          expect(
            ManifestBodySchema.safeParse(manifestBody({ schedule: [entry], quietHours: [{ start, end }] }))
              .success,
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('schedule rules: malformed times and days are rejected', () => {
  const badTime = fc.oneof(
    fc
      .tuple(fc.integer({ min: 24, max: 99 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${pad(h)}:${pad(m)}`),
    fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 60, max: 99 }))
      .map(([h, m]) => `${pad(h)}:${pad(m)}`),
    fc
      .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${h}:${pad(m)}`),
    fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${pad(h)}${pad(m)}`),
    fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${pad(h)}:${pad(m)}:00`),
    fc.string().filter((s) => !/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(s)),
  );
  const badDay = fc.oneof(
    fc.constantFrom('monday', 'Mon', 'MON', 'thứ hai', 't2', '1', ''),
    fc.string().filter((s) => !(WeekdaySchema.options as readonly string[]).includes(s)),
  );

  it('rejects a daily rule with any malformed time among good ones', () => {
    fc.assert(
      fc.property(times, badTime, fc.nat(), (good, bad, at) => {
        const t = [...good];
        t.splice(at % (t.length + 1), 0, bad);
        expect(ScheduleRuleSchema.safeParse({ type: 'daily', times: t }).success).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a weekly rule with a malformed day', () => {
    fc.assert(
      fc.property(days, badDay, times, (good, bad, t) => {
        expect(ScheduleRuleSchema.safeParse({ type: 'weekly', days: [...good, bad], times: t }).success).toBe(
          false,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('rejects empty lists, unknown rule types, extra fields and bad instants', () => {
    for (const r of [
      { type: 'daily', times: [] },
      { type: 'weekly', days: [], times: ['06:00'] },
      { type: 'weekly', days: ['mon'], times: [] },
      { type: 'hourly', times: ['06:00'] },
      { type: 'daily', times: ['06:00'], extra: 1 },
      { type: 'once', at: '2026-11-26 06:00' },
      { type: 'once', at: '2026-11-26T06:00:00' },
      { type: 'once' },
    ])
      expect(ScheduleRuleSchema.safeParse(r).success, JSON.stringify(r)).toBe(false);
    expect(QuietHoursSchema.safeParse({ start: '22:00', end: '24:00' }).success).toBe(false);
  });

  it('rejects entries that reference unknown items or have an inverted validity window', () => {
    const bad = manifestBody({ schedule: [{ id: 'x', items: ['khong-co'], rule: { type: 'immediate' } }] });
    expect(ManifestBodySchema.safeParse(bad).success).toBe(false);
    const inverted = manifestBody({
      schedule: [
        {
          id: 'x',
          items: ['thong-bao'],
          rule: { type: 'immediate' },
          validFrom: '2026-12-01T00:00:00Z',
          validUntil: '2026-11-01T00:00:00Z',
        },
      ],
    });
    expect(ManifestBodySchema.safeParse(inverted).success).toBe(false);
    expect(
      ScheduleEntrySchema.safeParse({
        id: 'x',
        items: ['a'],
        rule: { type: 'immediate' },
        repeat: { count: 0, gapSeconds: 1 },
      }).success,
    ).toBe(false);
  });
});
