import type { Item, ScheduleEntry } from '@loa/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { schedule } from '../../../agent/src/domain/scheduler/index.js';
import type { PlanBundle, ScheduleInput } from '../../../agent/src/domain/scheduler/types.js';
import { audioItem, bundle } from './fixtures.js';

const BASE = Date.parse('2026-11-26T00:00:00Z');
const H = 3600_000;
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const iso = (min: number, max: number) =>
  fc.integer({ min, max }).map((ms) => new Date(BASE + ms).toISOString());

const itemArb = (i: number): fc.Arbitrary<Item> =>
  fc
    .record({
      kind: fc.constantFrom('audio', 'audio', 'audio', 'stream', 'text'),
      priority: fc.constantFrom('normal', 'normal', 'priority', 'emergency'),
      durationMs: fc.integer({ min: 1000, max: 20 * 60_000 }),
      onInterrupt: fc.constantFrom('resume', 'restart', 'skip', undefined),
      chime: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map((r) => {
      const id = `it${i}`;
      const extra = {
        priority: r.priority,
        durationMs: r.durationMs,
        ...(r.onInterrupt ? { onInterrupt: r.onInterrupt } : {}),
        ...(r.chime !== undefined ? { chime: r.chime } : {}),
      } as Partial<Item>;
      if (r.kind === 'stream') {
        return { id, title: id, kind: 'stream', lang: 'vi', url: 'http://radio.example/s', ...extra } as Item;
      }
      if (r.kind === 'text')
        return { id, title: id, kind: 'text', lang: 'vi', text: 'Thông báo', ...extra } as Item;
      return audioItem(id, r.durationMs, extra);
    });

const ruleArb = fc.oneof(
  fc.constant({ type: 'immediate' as const }),
  iso(-2 * H, 30 * H).map((at) => ({ type: 'once' as const, at })),
  fc.array(hhmm, { minLength: 1, maxLength: 4 }).map((times) => ({ type: 'daily' as const, times })),
  fc
    .record({
      days: fc.uniqueArray(fc.constantFrom('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'), {
        minLength: 1,
      }),
      times: fc.array(hhmm, { minLength: 1, maxLength: 3 }),
    })
    .map((r) => ({ type: 'weekly' as const, ...r })),
);

const bundleArb = (b: number): fc.Arbitrary<PlanBundle> =>
  fc
    .integer({ min: 1, max: 5 })
    .chain((nItems) =>
      fc.record({
        items: fc.tuple(...Array.from({ length: nItems }, (_, i) => itemArb(i))),
        entries: fc.array(
          fc.record({
            rule: ruleArb,
            itemIdx: fc.array(fc.integer({ min: 0, max: nItems - 1 }), { minLength: 1, maxLength: 3 }),
            repeat: fc.option(
              fc.record({
                count: fc.integer({ min: 1, max: 4 }),
                gapSeconds: fc.integer({ min: 0, max: 600 }),
              }),
              { nil: undefined },
            ),
            fill: fc.boolean(),
            validFrom: fc.option(iso(-4 * H, 10 * H), { nil: undefined }),
            validForMs: fc.integer({ min: H, max: 40 * H }),
            volume: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        quiet: fc.option(fc.array(fc.record({ start: hhmm, end: hhmm }), { minLength: 1, maxLength: 2 }), {
          nil: undefined,
        }),
        activatedAt: fc.integer({ min: -3 * H, max: 12 * H }),
        expiresIn: fc.integer({ min: 2 * H, max: 60 * H }),
      }),
    )
    .map((r) => {
      const schedule: ScheduleEntry[] = r.entries.map((e, i) => {
        const entry: ScheduleEntry = {
          id: `e${i}`,
          items: e.itemIdx.map((x) => `it${x}`),
          rule: e.rule,
        };
        if (e.repeat) entry.repeat = e.repeat;
        if (e.fill) entry.fill = true;
        if (e.validFrom) {
          entry.validFrom = e.validFrom;
          entry.validUntil = new Date(Date.parse(e.validFrom) + e.validForMs).toISOString();
        }
        if (e.volume !== undefined) entry.volume = e.volume;
        return entry;
      });
      return bundle(
        {
          id: `b${b}`,
          channel: `ch${b}`,
          items: r.items,
          schedule,
          created: new Date(BASE - 6 * H).toISOString(),
          expires: new Date(BASE + r.expiresIn).toISOString(),
          ...(r.quiet ? { quietHours: r.quiet } : {}),
        },
        BASE + r.activatedAt,
      );
    });

const inputArb: fc.Arbitrary<ScheduleInput> = fc
  .record({
    bundles: fc.tuple(bundleArb(1), bundleArb(2)).chain(([a, b]) => fc.constantFrom([a], [a, b])),
    now: fc.integer({ min: 0, max: 24 * H }),
    clockTrusted: fc.boolean(),
    quiet: fc.option(fc.array(fc.record({ start: hhmm, end: hhmm }), { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
    chime: fc.boolean(),
  })
  .map((r) => ({
    bundles: r.bundles,
    now: BASE + r.now,
    horizonMs: 24 * H,
    clockTrusted: r.clockTrusted,
    policy: {
      warmupMs: 2000,
      ...(r.quiet ? { quietHours: r.quiet } : {}),
      ...(r.chime ? { chime: { path: '/chime.wav', durationMs: 2500 } } : {}),
    },
  }));

/** Independent quiet-hours check: is local minute-of-day m inside any window (+07:00 everywhere here)? */
function inQuiet(t: number, windows: readonly { start: string; end: string }[]): boolean {
  const m = Math.floor(((((t + 7 * H) % (24 * H)) + 24 * H) % (24 * H)) / 60_000);
  return windows.some((w) => {
    const [sh, sm] = w.start.split(':').map(Number) as [number, number];
    const [eh, em] = w.end.split(':').map(Number) as [number, number];
    const s = sh * 60 + sm;
    const e = eh * 60 + em;
    return s < e ? m >= s && m < e : s === e ? true : m >= s || m < e;
  });
}

const runs = { numRuns: 300 };

describe('scheduler properties', () => {
  test('deterministic, and independent of the order of bundles', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = schedule(input);
        expect(schedule(input)).toEqual(a);
        expect(schedule({ ...input, bundles: [...input.bundles].reverse() })).toEqual(a);
      }),
      runs,
    );
  });

  test('audio slots never overlap (nor display slots), and every slot has a positive length', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const tl = schedule(input);
        for (const lane of ['audio', 'display'] as const) {
          const s = tl.slots.filter((x) => x.output === lane);
          for (let i = 0; i < s.length; i++) {
            expect(s[i]!.end).toBeGreaterThan(s[i]!.start);
            if (i > 0) expect(s[i]!.start).toBeGreaterThanOrEqual(s[i - 1]!.end);
          }
        }
      }),
      runs,
    );
  });

  test('emergencies are never held by quiet hours or an untrusted clock', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const tl = schedule(input);
        for (const h of tl.held) {
          if (h.priorityClass === 'emergency') expect(['too-late', 'expired']).toContain(h.reason);
        }
      }),
      runs,
    );
  });

  test('non-emergency audio never plays inside quiet hours; nothing but emergencies on an untrusted clock', () => {
    let checked = 0;
    let heldQuiet = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const tl = schedule(input);
        const windows = [
          ...(input.policy.quietHours ?? []),
          ...input.bundles.flatMap((b) => b.manifest.quietHours ?? []),
        ];
        for (const s of tl.slots) {
          if (s.output !== 'audio' || s.priorityClass === 'emergency') continue;
          expect(input.clockTrusted).toBe(true);
          for (let t = s.start; t < s.end; t += Math.min(30_000, s.end - s.start))
            expect(inQuiet(t, windows)).toBe(false);
          expect(inQuiet(s.end - 1, windows)).toBe(false);
          if (windows.length) checked++;
        }
        heldQuiet += tl.held.filter((h) => h.reason === 'quiet-hours').length;
      }),
      runs,
    );
    // The generator does exercise the rule (not a vacuous pass).
    expect(checked).toBeGreaterThan(5);
    expect(heldQuiet).toBeGreaterThan(0);
  });

  test('every slot is inside its entry and bundle validity, and starts no earlier than now', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const tl = schedule(input);
        for (const s of tl.slots) {
          const b = input.bundles.find((x) => x.manifest.id === s.bundleId)!;
          const e = b.manifest.schedule!.find((x) => x.id === s.entryId)!;
          const from = Math.max(Date.parse(b.manifest.created), e.validFrom ? Date.parse(e.validFrom) : 0);
          const until = Math.min(
            Date.parse(b.manifest.expires),
            e.validUntil ? Date.parse(e.validUntil) : Infinity,
          );
          expect(s.start).toBeGreaterThanOrEqual(from);
          expect(s.end).toBeLessThanOrEqual(until);
          expect(s.start).toBeGreaterThanOrEqual(input.now);
          expect(s.scheduledAt).toBeGreaterThanOrEqual(from);
        }
      }),
      runs,
    );
  });
});
