/**
 * The gap between repeats, as the station lives it: the player re-plans after every item with
 * what it has done (item key → when it ended), so the property is checked over a run of the
 * planner driven the way the player drives it, not over one plan alone.
 */
import type { ScheduleEntry } from '@loa/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { schedule } from '../../../agent/src/domain/scheduler/index.js';
import type { PlanBundle, StationPolicy } from '../../../agent/src/domain/scheduler/types.js';
import { audioItem, bundle } from './fixtures.js';

const BASE = Date.parse('2026-11-26T00:00:00Z');
const MIN = 60_000;

interface Played {
  itemKey: string;
  kind: 'item' | 'chime';
  start: number;
  end: number;
}

/**
 * Plays the plan as the player does: the first audio slot starts when due (or now, if late),
 * plays its length and ends `lateMs` later than planned (a process that exits late); a chime
 * marks its item as chimed, an item is recorded done at the instant it really ended.
 */
function run(bundles: PlanBundle[], policy: StationPolicy, lateMs: number[]): Played[] {
  const done = new Map<string, number>();
  const partial = new Map<string, number>();
  const played: Played[] = [];
  let now = BASE;
  for (let i = 0; i < 200; i++) {
    const plan = schedule({
      bundles,
      policy,
      now,
      horizonMs: 6 * 3600_000,
      clockTrusted: true,
      done,
      partial,
    });
    const slot = plan.slots.find((s) => s.output === 'audio');
    if (!slot) break;
    const start = Math.max(now, slot.start);
    const end = start + (slot.end - slot.start) + (lateMs[i % lateMs.length] ?? 0);
    played.push({ itemKey: slot.itemKey, kind: slot.kind, start, end });
    if (slot.kind === 'chime') partial.set(slot.itemKey, 0);
    else {
      partial.delete(slot.itemKey);
      done.set(slot.itemKey, end);
    }
    now = end;
  }
  return played;
}

/** itemKey = `<channel>/<entry>/<due>/r<rep>/i<index>`. */
function parseKey(k: string): { job: string; rep: number } {
  const m = /^(.*)\/r(\d+)\/i\d+$/.exec(k);
  if (!m) throw new Error(`unexpected item key ${k}`);
  return { job: m[1]!, rep: Number(m[2]) };
}

const entryArb = fc.record({
  items: fc.array(fc.integer({ min: 5_000, max: 3 * MIN }), { minLength: 1, maxLength: 3 }),
  count: fc.integer({ min: 2, max: 4 }),
  gapSeconds: fc.integer({ min: 1, max: 600 }),
  atMin: fc.integer({ min: 0, max: 30 }),
});

const caseArb = fc.record({
  entries: fc.array(entryArb, { minLength: 1, maxLength: 3 }),
  emergency: fc.boolean(),
  chimeMs: fc.option(fc.integer({ min: 500, max: 5000 }), { nil: undefined }),
  lateMs: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 5 }),
});

describe('repeat gap over a planner run', () => {
  test('consecutive repeats of an entry are separated by at least its gap', () => {
    let compared = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const bundles = c.entries.map((e, b) => {
          const items = e.items.map((ms, i) =>
            audioItem(`b${b}i${i}`, ms, c.emergency ? { priority: 'emergency' } : {}),
          );
          const entry: ScheduleEntry = {
            id: `e${b}`,
            items: items.map((i) => i.id),
            rule: { type: 'once', at: new Date(BASE + e.atMin * MIN).toISOString() },
            repeat: { count: e.count, gapSeconds: e.gapSeconds },
          };
          return bundle(
            {
              id: `b${b}`,
              channel: `ch${b}`,
              items,
              schedule: [entry],
              created: new Date(BASE - 3600_000).toISOString(),
              expires: new Date(BASE + 48 * 3600_000).toISOString(),
            },
            BASE - 3600_000,
          );
        });
        const policy: StationPolicy = {
          utcOffset: '+07:00',
          ...(c.chimeMs ? { chime: { path: '/data/chime.wav', durationMs: c.chimeMs } } : {}),
        };
        const played = run(bundles, policy, c.lateMs);
        // An emergency kept waiting past maxLate by another one is skipped (its own rule), so
        // the gap is checked between every two consecutive repetitions that both played.
        for (const [b, e] of c.entries.entries()) {
          const mine = played.filter((p) => p.itemKey.startsWith(`ch${b}/`));
          for (let rep = 1; rep < e.count; rep++) {
            const prev = mine.filter((p) => p.kind === 'item' && parseKey(p.itemKey).rep === rep - 1);
            const next = mine.filter((p) => parseKey(p.itemKey).rep === rep);
            if (prev.length === 0 || next.length === 0) continue;
            const prevEnd = Math.max(...prev.map((p) => p.end));
            const nextStart = Math.min(...next.map((p) => p.start));
            expect(nextStart - prevEnd).toBeGreaterThanOrEqual(e.gapSeconds * 1000);
            compared++;
          }
        }
      }),
      { numRuns: 150 },
    );
    expect(compared).toBeGreaterThan(150);
  });
});
