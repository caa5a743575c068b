import { describe, expect, test } from 'vitest';
import { schedule } from '../../../agent/src/domain/scheduler/index.js';
import type { ScheduleInput, StationPolicy } from '../../../agent/src/domain/scheduler/types.js';
import { testToneItem } from '../../../agent/src/services/playback/player-items.js';
import { audioItem, bundle } from './fixtures.js';

const H = 3600_000;
const policy: StationPolicy = { warmupMs: 2000, volume: 70 };
const at = (iso: string) => Date.parse(iso);
const base = (over: Partial<ScheduleInput>): ScheduleInput => ({
  bundles: [],
  policy,
  now: at('2026-11-26T20:00:00Z'),
  horizonMs: 24 * H,
  clockTrusted: true,
  ...over,
});

describe('scheduler', () => {
  test('daily rule at local 05:30 (+07:00) gives a slot at 22:30Z with the warm-up lead', () => {
    const b = bundle({
      items: [audioItem('news', 60_000)],
      schedule: [{ id: 'morning', items: ['news'], rule: { type: 'daily', times: ['05:30'] } }],
    });
    const tl = schedule(base({ bundles: [b] }));
    expect(tl.slots).toHaveLength(1);
    const s = tl.slots[0]!;
    expect(new Date(s.start).toISOString()).toBe('2026-11-26T22:30:00.000Z');
    expect(s.end - s.start).toBe(60_000);
    expect(s.leadMs).toBe(2000);
    expect(s.volume).toBe(70);
    expect(s.file).toBe(`/data/blobs/${s.contentSha256}`);
    expect(s.itemKey).toBe('main/morning/2026-11-26T22:30:00.000Z/r0/i0');
  });

  test('weekly rule plays only on its weekdays and uses the bundle offset', () => {
    const b = bundle({
      utcOffset: '+07:00',
      items: [audioItem('a', 1000)],
      // 2026-11-27 is a Friday in Vietnam.
      schedule: [{ id: 'w', items: ['a'], rule: { type: 'weekly', days: ['fri'], times: ['17:00'] } }],
    });
    const tl = schedule(base({ bundles: [b], horizonMs: 7 * 24 * H }));
    expect(tl.slots.map((s) => new Date(s.start).toISOString())).toEqual(['2026-11-27T10:00:00.000Z']);
  });

  test('repeat N with a gap: the sequence plays N times, the gap after each repetition', () => {
    const b = bundle({
      items: [audioItem('a', 10_000), audioItem('bb', 5000)],
      schedule: [
        {
          id: 'e',
          items: ['a', 'bb'],
          rule: { type: 'once', at: '2026-11-26T21:00:00Z' },
          repeat: { count: 3, gapSeconds: 30 },
        },
      ],
    });
    const tl = schedule(base({ bundles: [b] }));
    const starts = tl.slots.map((s) => (s.start - at('2026-11-26T21:00:00Z')) / 1000);
    expect(starts).toEqual([0, 10, 45, 55, 90, 100]);
    expect(tl.slots.map((s) => s.repeatIndex)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(tl.slots.every((s) => s.repeatCount === 3)).toBe(true);
  });

  test('an emergency cuts into the item on air: chime, the emergency × its repeat count, then the item resumes', () => {
    const now = at('2026-11-26T21:00:30Z');
    const normal = bundle({
      items: [audioItem('talk', 120_000, { onInterrupt: 'resume' })],
      schedule: [{ id: 'n', items: ['talk'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } }],
    });
    const em = bundle(
      {
        id: 'flood',
        channel: 'emergency',
        items: [audioItem('warn', 20_000, { priority: 'emergency' })],
        schedule: [
          { id: 'now', items: ['warn'], rule: { type: 'immediate' }, repeat: { count: 2, gapSeconds: 5 } },
        ],
      },
      now,
    );
    const onAir = {
      slotId: 'x',
      itemKey: 'main/n/2026-11-26T21:00:00.000Z/r0/i0',
      startedAt: now - 30_000,
      offsetMs: 0,
    };
    const tl = schedule(
      base({
        bundles: [normal, em],
        now,
        onAir,
        policy: { ...policy, chime: { path: '/chime.wav', durationMs: 3000 } },
      }),
    );
    const rows = tl.slots.map((s) => [
      s.kind,
      s.item.id,
      (s.start - now) / 1000,
      (s.end - now) / 1000,
      s.offsetMs,
    ]);
    expect(rows).toEqual([
      ['chime', 'warn', 0, 3, 0],
      ['item', 'warn', 3, 23, 0],
      ['chime', 'warn', 28, 31, 0],
      ['item', 'warn', 31, 51, 0],
      ['item', 'talk', 51, 141, 30_000],
    ]);
    expect(tl.slots[0]!.priorityClass).toBe('emergency');
    // The amplifier is on (something was on air): no warm-up lead.
    expect(tl.slots[0]!.leadMs).toBe(0);
  });

  test('onInterrupt restart replays from the start, skip drops the rest of the item', () => {
    const now = at('2026-11-26T21:00:30Z');
    for (const [mode, expected] of [
      [
        'restart',
        [
          ['warn', 0],
          ['talk', 0],
        ],
      ],
      ['skip', [['warn', 0]]],
    ] as const) {
      const normal = bundle({
        items: [audioItem('talk', 120_000, { onInterrupt: mode })],
        schedule: [{ id: 'n', items: ['talk'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } }],
      });
      const em = bundle(
        {
          id: 'em',
          items: [audioItem('warn', 20_000, { priority: 'emergency' })],
          schedule: [{ id: 'now', items: ['warn'], rule: { type: 'once', at: '2026-11-26T21:01:00Z' } }],
        },
        now,
      );
      const tl = schedule(base({ bundles: [normal, em], now }));
      // talk plays 21:00:30 → 21:01:00 (cut), warn, then per mode.
      expect(tl.slots[0]!.item.id).toBe('talk');
      expect(tl.slots[0]!.interruptedBy).toContain('main/now');
      expect(tl.slots.slice(1).map((s) => [s.item.id, s.offsetMs])).toEqual(expected);
    }
  });

  test('quiet hours hold a 04:45 bulletin until 05:00; too late after maxLateMs it is skipped', () => {
    const mk = (maxLateMs: number) =>
      schedule(
        base({
          now: at('2026-11-26T21:00:00Z'),
          policy: { ...policy, quietHours: [{ start: '22:00', end: '05:00' }], maxLateMs },
          bundles: [
            bundle({
              items: [audioItem('early', 60_000)],
              schedule: [{ id: 'e', items: ['early'], rule: { type: 'daily', times: ['04:45'] } }],
            }),
          ],
        }),
      );
    const ok = mk(20 * 60_000);
    expect(ok.slots.map((s) => new Date(s.start).toISOString())).toEqual(['2026-11-26T22:00:00.000Z']);
    const late = mk(10 * 60_000);
    expect(late.slots).toHaveLength(0);
    expect(late.held.map((h) => [h.itemId, h.reason, h.final])).toEqual([['early', 'too-late', true]]);
  });

  test('an emergency plays inside quiet hours', () => {
    const now = at('2026-11-26T16:00:00Z'); // 23:00 local
    const tl = schedule(
      base({
        now,
        policy: { ...policy, quietHours: [{ start: '22:00', end: '05:00' }] },
        bundles: [
          bundle(
            {
              items: [audioItem('fire', 30_000, { priority: 'emergency' })],
              schedule: [{ id: 'x', items: ['fire'], rule: { type: 'immediate' } }],
            },
            now,
          ),
        ],
      }),
    );
    expect(tl.slots.map((s) => [s.item.id, s.start - now])).toEqual([['fire', 0]]);
  });

  test('a signal for the person at the station plays at once, clock untrusted or quiet hours; a remote test tone waits', () => {
    // 2026-11-26T16:00Z is 23:00 in Vietnam: inside the quiet hours
    const now = at('2026-11-26T16:00:00Z');
    const quiet = { ...policy, quietHours: [{ start: '22:00', end: '05:00' }] };
    const usbTone = testToneItem(1, 1320, now, undefined, true);
    const remoteTone = testToneItem(5, 1000, now, 'cmd-1');
    for (const clockTrusted of [false, true]) {
      const tl = schedule(base({ now, clockTrusted, policy: quiet, adhoc: [usbTone, remoteTone] }));
      expect(tl.slots.map((s) => [s.itemKey, s.tone?.frequencyHz, s.start - now])).toEqual([
        [usbTone.key, 1320, 0],
      ]);
      expect(tl.held.map((h) => [h.itemKey, h.reason])).toEqual(
        // the remote one waits for the clock, or for the end of the quiet hours (too late by then)
        [[remoteTone.key, clockTrusted ? 'too-late' : 'clock-untrusted']],
      );
    }
    // an emergency still comes first
    const em = bundle(
      {
        items: [audioItem('em', 10_000, { priority: 'emergency' })],
        schedule: [{ id: 'b', items: ['em'], rule: { type: 'immediate' } }],
      },
      now,
    );
    const tl = schedule(base({ now, clockTrusted: false, bundles: [em], adhoc: [usbTone] }));
    expect(tl.slots.map((s) => s.item.id)).toEqual(['em', 'test-tone']);
  });

  test('untrusted clock: scheduled items are held, emergencies play', () => {
    const now = at('2026-11-26T21:00:00Z');
    const tl = schedule(
      base({
        now,
        clockTrusted: false,
        bundles: [
          bundle(
            {
              items: [audioItem('n', 1000), audioItem('em', 1000, { priority: 'emergency' })],
              schedule: [
                { id: 'a', items: ['n'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } },
                { id: 'b', items: ['em'], rule: { type: 'immediate' } },
              ],
            },
            now,
          ),
        ],
      }),
    );
    expect(tl.slots.map((s) => s.item.id)).toEqual(['em']);
    expect(tl.held.map((h) => [h.itemId, h.reason, h.final])).toEqual([['n', 'clock-untrusted', false]]);
  });

  test('validity windows and bundle notBefore/expires bound the occurrences', () => {
    const b = bundle({
      notBefore: '2026-11-27T00:00:00Z',
      expires: '2026-11-29T00:00:00Z',
      items: [audioItem('a', 1000)],
      schedule: [
        {
          id: 'd',
          items: ['a'],
          rule: { type: 'daily', times: ['08:00'] },
          validUntil: '2026-11-28T12:00:00Z',
        },
      ],
    });
    const tl = schedule(base({ bundles: [b], horizonMs: 5 * 24 * H }));
    expect(tl.slots.map((s) => new Date(s.start).toISOString())).toEqual([
      '2026-11-27T01:00:00.000Z',
      '2026-11-28T01:00:00.000Z',
    ]);
  });

  test('filler plays only in gaps and yields to scheduled items', () => {
    const now = at('2026-11-26T21:00:00Z');
    const b = bundle({
      items: [audioItem('music', 10 * 60_000), audioItem('news', 60_000)],
      schedule: [
        { id: 'fill', items: ['music'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' }, fill: true },
        { id: 'n', items: ['news'], rule: { type: 'once', at: '2026-11-26T21:05:00Z' } },
      ],
    });
    const tl = schedule(base({ bundles: [b], now }));
    expect(
      tl.slots.map((s) => [s.item.id, s.priorityClass, (s.start - now) / 60_000, (s.end - now) / 60_000]),
    ).toEqual([
      ['music', 'fill', 0, 5],
      ['news', 'normal', 5, 6],
    ]);
  });

  test('a priority item waits for the normal item on air to end, then goes first', () => {
    const now = at('2026-11-26T21:00:00Z');
    const b = bundle({
      items: [
        audioItem('n1', 60_000),
        audioItem('n2', 60_000),
        audioItem('p', 60_000, { priority: 'priority' }),
      ],
      schedule: [
        { id: 'seq', items: ['n1', 'n2'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } },
        { id: 'pr', items: ['p'], rule: { type: 'once', at: '2026-11-26T21:00:30Z' } },
      ],
    });
    const tl = schedule(base({ bundles: [b], now }));
    expect(tl.slots.map((s) => [s.item.id, (s.start - now) / 1000])).toEqual([
      ['n1', 0],
      ['p', 60],
      ['n2', 120],
    ]);
  });

  test('display items (noticeboard) go on their own lane with the same priorities', () => {
    const now = at('2026-11-26T21:00:00Z');
    const b = bundle({
      items: [
        audioItem('a', 60_000),
        {
          id: 'slide',
          title: 'Thông báo',
          kind: 'text',
          priority: 'normal',
          lang: 'vi',
          text: 'Lịch tiêm',
          durationMs: 20_000,
        },
      ],
      schedule: [{ id: 's', items: ['a', 'slide'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } }],
    });
    const tl = schedule(base({ bundles: [b], now }));
    expect(tl.slots.map((s) => [s.output, s.item.id, s.start - now])).toEqual([
      ['audio', 'a', 0],
      ['display', 'slide', 0],
    ]);
  });

  test('done items are not planned again; partial items resume at their position', () => {
    const now = at('2026-11-26T21:10:00Z');
    const b = bundle({
      items: [audioItem('a', 60_000), audioItem('bb', 60_000)],
      schedule: [{ id: 's', items: ['a', 'bb'], rule: { type: 'once', at: '2026-11-26T21:05:00Z' } }],
    });
    const k = 'main/s/2026-11-26T21:05:00.000Z/r0';
    const tl = schedule(
      base({ bundles: [b], now, done: new Map([[`${k}/i0`, now]]), partial: new Map([[`${k}/i1`, 15_000]]) }),
    );
    expect(tl.slots.map((s) => [s.item.id, s.offsetMs, s.end - s.start])).toEqual([['bb', 15_000, 45_000]]);
  });

  test('streams are relayed as live and cut at the start of quiet hours', () => {
    const now = at('2026-11-26T14:30:00Z'); // 21:30 local
    const b = bundle({
      items: [
        {
          id: 'vov',
          title: 'VOV1',
          kind: 'stream',
          priority: 'normal',
          lang: 'vi',
          url: 'http://radio.example/vov1',
          durationMs: 3600_000,
        },
      ],
      schedule: [{ id: 'r', items: ['vov'], rule: { type: 'once', at: '2026-11-26T14:30:00Z' } }],
    });
    const tl = schedule(
      base({ bundles: [b], now, policy: { ...policy, quietHours: [{ start: '22:00', end: '05:00' }] } }),
    );
    expect(tl.slots.map((s) => [s.priorityClass, (s.end - s.start) / 60_000])).toEqual([['live', 30]]);
  });

  test('readyAt delays the first audio until the amplifier has warmed up', () => {
    const now = at('2026-11-26T21:00:00Z');
    const b = bundle(
      {
        items: [audioItem('em', 5000, { priority: 'emergency' })],
        schedule: [{ id: 'x', items: ['em'], rule: { type: 'immediate' } }],
      },
      now,
    );
    const tl = schedule(base({ bundles: [b], now, readyAt: now + 2000 }));
    expect(tl.slots[0]!.start).toBe(now + 2000);
  });

  test('the normal item on air keeps playing when a priority item becomes due', () => {
    const now = at('2026-11-26T21:00:30Z');
    const b = bundle({
      items: [audioItem('talk', 60_000), audioItem('p', 10_000, { priority: 'priority' })],
      schedule: [
        { id: 'n', items: ['talk'], rule: { type: 'once', at: '2026-11-26T21:00:00Z' } },
        { id: 'pr', items: ['p'], rule: { type: 'once', at: '2026-11-26T21:00:20Z' } },
      ],
    });
    const onAir = {
      slotId: 'x',
      itemKey: 'main/n/2026-11-26T21:00:00.000Z/r0/i0',
      startedAt: now - 30_000,
      offsetMs: 0,
    };
    const tl = schedule(base({ bundles: [b], now, onAir }));
    expect(tl.slots.map((s) => [s.item.id, (s.start - now) / 1000, s.offsetMs])).toEqual([
      ['talk', 0, 30_000],
      ['p', 30, 0],
    ]);
  });

  test('a new version of the programme neither cuts the occurrence on air nor replays a done one', () => {
    const now = at('2026-11-26T22:30:20Z');
    const mk = (version: number) =>
      bundle({
        version,
        items: [audioItem('news', 60_000), audioItem('weather', 30_000)],
        schedule: [
          { id: 'morning', items: ['news'], rule: { type: 'daily', times: ['05:30'] } },
          { id: 'early', items: ['weather'], rule: { type: 'daily', times: ['05:25'] } },
        ],
      });
    const onAir = {
      slotId: 'x',
      itemKey: 'main/morning/2026-11-26T22:30:00.000Z/r0/i0',
      startedAt: now - 20_000,
      offsetMs: 0,
    };
    const done = new Map([['main/early/2026-11-26T22:25:00.000Z/r0/i0', now]]);
    const tl = schedule(base({ bundles: [mk(2)], now, onAir, done, horizonMs: H }));
    expect(tl.slots.map((s) => [s.item.id, s.bundleVersion, s.start - now, s.offsetMs])).toEqual([
      ['news', 2, 0, 20_000],
    ]);
  });

  test('an emergency bundle without a schedule (a USB stick) plays its emergencies once, at once, after the chime', () => {
    const now = at('2026-11-26T20:00:00Z');
    const b = bundle(
      {
        channel: 'canh-bao',
        items: [audioItem('lu', 20_000, { priority: 'emergency' }), audioItem('nhac', 30_000)],
        schedule: [],
      },
      now - 5_000,
    );
    const chime = { tone: { frequencyHz: 880 }, durationMs: 1500 };
    const tl = schedule(base({ bundles: [b], now, clockTrusted: false, policy: { ...policy, chime } }));
    expect(tl.slots.map((s) => [s.kind, s.item.id, s.start - now, s.end - s.start, s.priorityClass])).toEqual(
      [
        ['chime', 'lu', 0, 1500, 'emergency'],
        ['item', 'lu', 1500, 20_000, 'emergency'],
      ],
    );
    expect(tl.slots[0]?.tone).toEqual({ frequencyHz: 880 });
    // Played once: done, it is not planned again.
    const done = new Map([[tl.slots[1]!.itemKey, now + 21_500]]);
    expect(schedule(base({ bundles: [b], now: now + 22_000, done })).slots).toEqual([]);
    // A bundle without a schedule and without emergencies is a library (play-now), not a programme.
    const library = bundle({ items: [audioItem('nhac', 30_000)], schedule: [] }, now);
    expect(schedule(base({ bundles: [library], now })).slots).toEqual([]);
  });
});
