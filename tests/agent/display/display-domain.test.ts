/** The pure display logic: default loop, ticker, emergency overlay, watchdog rules, screen hours. */
import type { Item, Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import {
  emergencyOverlay,
  type FrameContext,
  loopFrameAt,
  tickerLines,
} from '../../../agent/src/domain/display/frames.js';
import {
  mayTryPower,
  POWER_RETRY_START,
  powerFailed,
  powerSucceeded,
} from '../../../agent/src/domain/display/power-retry.js';
import { screenShouldBeOn } from '../../../agent/src/domain/display/screen-schedule.js';
import { watchdogVerdict } from '../../../agent/src/domain/display/watchdog-rules.js';
import type { PlanBundle, Slot } from '../../../agent/src/domain/scheduler/types.js';

const SHA = (n: number) => n.toString(16).padStart(64, '0');
const ctx: FrameContext = {
  unit: 'UBND xã Sơn Dương',
  utcOffset: '+07:00',
  mediaUrl: (sha) => `/kiosk/media/${sha}`,
  videoSound: false,
  defaultItemMs: 10_000,
};

function item(id: string, kind: Item['kind'], extra: Partial<Item> = {}): Item {
  const it = { id, title: `Tin ${id}`, kind, priority: 'normal', lang: 'vi', ...extra } as Item;
  if ((kind === 'image' || kind === 'video') && !it.blob)
    it.blob = { sha256: SHA(id.length), size: 10, mediaType: kind === 'image' ? 'image/png' : 'video/webm' };
  if (kind === 'text' && it.text === undefined) it.text = `Nội dung ${id}`;
  return it;
}

function bundle(id: string, items: Item[], extra: Partial<Manifest> = {}): PlanBundle {
  return {
    manifest: {
      type: 'loa-bundle',
      format: 1,
      id,
      channel: 'main',
      version: 1,
      created: '2026-12-01T00:00:00Z',
      expires: '2027-01-01T00:00:00Z',
      targets: [{ unit: '08' }],
      items,
      signatures: [],
      ...extra,
    },
    blobDir: '/data/blobs',
    activatedAt: Date.parse('2026-12-01T00:00:00Z'),
  };
}

const T = Date.parse('2026-12-07T05:00:00Z');

describe('default loop', () => {
  const b = bundle('a', [
    item('anh', 'image', { durationMs: 5000 }),
    item('tin', 'text'),
    item('chay', 'text', { category: 'ticker' }),
    item('khan', 'text', { priority: 'emergency' }),
    item('loa', 'audio', { blob: { sha256: SHA(1), size: 1, mediaType: 'audio/wav' } }),
  ]);

  it('cycles the screen items on the wall clock (restarts land on the same item)', () => {
    const cycle = 15_000;
    const base = Math.floor(T / cycle) * cycle;
    const at = (ms: number) => loopFrameAt([b], base + ms, ctx);
    expect(at(0)?.itemId).toBe('anh');
    expect(at(4999)?.itemId).toBe('anh');
    expect(at(5000)?.itemId).toBe('tin');
    expect(at(14_999)?.itemId).toBe('tin');
    expect(at(15_000)?.itemId).toBe('anh');
    expect(at(2000)?.key).toBe(at(3000)?.key);
    expect(at(0)?.key).not.toBe(at(15_000)?.key);
    expect(at(5000)).toMatchObject({
      start: base + 5000,
      end: base + 15_000,
      priorityClass: 'fill',
      entryId: 'loop',
    });
    expect(at(0)).toMatchObject({
      mediaUrl: `/kiosk/media/${SHA(3)}`,
      mediaType: 'image/png',
      dateLabel: '01/12/2026',
    });
  });

  it('a lone item keeps one key; expired or future bundles are left out; nothing gives null', () => {
    const one = bundle('mot', [item('tin', 'text')]);
    expect(loopFrameAt([one], T, ctx)?.key).toBe(loopFrameAt([one], T + 3_600_000, ctx)?.key);
    const expired = bundle('cu', [item('tin', 'text')], { expires: '2026-12-02T00:00:00Z' });
    const future = bundle('moi', [item('tin', 'text')], { notBefore: '2027-01-01T00:00:00Z' });
    expect(loopFrameAt([expired, future], T, ctx)).toBeNull();
    expect(loopFrameAt([], T, ctx)).toBeNull();
  });
});

describe('ticker', () => {
  it('takes the ticker items, NFC-normalised with whitespace folded', () => {
    const nfd = 'Lịch cắt điện\n  thứ Bảy'.normalize('NFD');
    const b = bundle('a', [item('chay', 'text', { category: 'ticker', text: nfd }), item('tin', 'text')]);
    const lines = tickerLines([b], T);
    expect(lines).toEqual([{ key: 'a/chay', bundleId: 'a', itemId: 'chay', text: 'Lịch cắt điện thứ Bảy' }]);
    expect(lines[0]?.text).toBe(lines[0]?.text.normalize('NFC'));
    expect(lines[0]?.text.length).toBe('Lịch cắt điện thứ Bảy'.length);
  });
});

describe('emergency overlay', () => {
  const audioItem = item('alert-audio', 'audio', {
    priority: 'emergency',
    title: 'Cảnh báo lũ',
    blob: { sha256: SHA(9), size: 1, mediaType: 'audio/wav' },
  });
  const textItem = item('alert-text', 'text', {
    priority: 'emergency',
    title: 'Cảnh báo lũ',
    text: 'Di dời ngay.',
  });
  const b = bundle('emergency-v3', [audioItem, textItem]);
  const slot = (start: number, end: number, extra: Partial<Slot> = {}): Slot => ({
    id: `k${start}`,
    itemKey: `k${start}`,
    output: 'audio',
    kind: 'item',
    priorityClass: 'emergency',
    start,
    end,
    leadMs: 2000,
    scheduledAt: start,
    offsetMs: 0,
    bundleId: 'emergency-v3',
    entryId: 'now',
    item: audioItem,
    volume: 100,
    gainDb: 0,
    repeatIndex: 0,
    repeatCount: 2,
    ...extra,
  });

  it('comes up when the first sound is imminent, with the bundle text, and holds through the repeat gap', () => {
    const slots = [slot(T + 2000, T + 10_000), slot(T + 70_000, T + 78_000)];
    const far = emergencyOverlay(slots, [b], T - 60_000, new Map());
    expect(far.overlay).toBeNull();
    const up = emergencyOverlay(slots, [b], T, new Map());
    expect(up.overlay).toEqual({
      key: 'emergency/emergency-v3',
      bundleId: 'emergency-v3',
      itemId: 'alert-text',
      title: 'Cảnh báo lũ',
      text: 'Di dời ngay.',
      lang: 'vi',
      since: T,
    });
    // In the gap between the repeats (the first slot is over).
    const gap = emergencyOverlay([slots[1] as Slot], [b], T + 30_000, up.shown);
    expect(gap.overlay?.since).toBe(T);
    // All slots over: it clears.
    expect(emergencyOverlay([], [b], T + 80_000, gap.shown).overlay).toBeNull();
  });

  it('ignores other priorities', () => {
    const s = slot(T, T + 5000, { priorityClass: 'priority' });
    expect(emergencyOverlay([s], [b], T + 1000, new Map()).overlay).toBeNull();
  });
});

describe('watchdog rules', () => {
  const wanted = { key: 'a', since: T };
  it('gives the page time to start, then wants heartbeats', () => {
    expect(watchdogVerdict({ now: T + 10_000, startedAt: T, wanted })).toEqual({ action: 'ok' });
    expect(watchdogVerdict({ now: T + 31_000, startedAt: T, wanted })).toMatchObject({
      action: 'restart',
      code: 'DISPLAY_NO_HEARTBEAT',
    });
    const last = { at: T + 1000, key: 'a', frames: 100 };
    expect(watchdogVerdict({ now: T + 10_000, startedAt: T, last, wanted }).action).toBe('ok');
    expect(watchdogVerdict({ now: T + 17_000, startedAt: T, last, wanted })).toMatchObject({
      code: 'DISPLAY_NO_HEARTBEAT',
    });
  });
  it('restarts a page that stopped painting or keeps a frame past its time', () => {
    const previous = { at: T + 1000, key: 'a', frames: 100 };
    const frozen = { at: T + 3000, key: 'a', frames: 100 };
    expect(watchdogVerdict({ now: T + 3000, startedAt: T, last: frozen, previous, wanted })).toMatchObject({
      code: 'DISPLAY_FROZEN',
    });
    const stuck = { at: T + 20_000, key: 'old', frames: 900 };
    const prev2 = { at: T + 18_000, key: 'old', frames: 800 };
    expect(
      watchdogVerdict({
        now: T + 20_000,
        startedAt: T,
        last: stuck,
        previous: prev2,
        wanted: { key: 'a', since: T + 12_000 },
      }).action,
    ).toBe('ok');
    expect(
      watchdogVerdict({
        now: T + 20_000,
        startedAt: T,
        last: stuck,
        previous: prev2,
        wanted: { key: 'a', since: T + 5000 },
      }),
    ).toMatchObject({ code: 'DISPLAY_FRAME_STUCK' });
  });
});

describe('screen hours', () => {
  // 05:00Z is 12:00 in Vietnam.
  it('follows the local window, across midnight too, and is on in an emergency', () => {
    expect(screenShouldBeOn(undefined, T, '+07:00', false)).toBe(true);
    expect(screenShouldBeOn({ on: '06:00', off: '22:00' }, T, '+07:00', false)).toBe(true);
    expect(screenShouldBeOn({ on: '13:00', off: '22:00' }, T, '+07:00', false)).toBe(false);
    expect(screenShouldBeOn({ on: '13:00', off: '22:00' }, T, '+07:00', true)).toBe(true);
    expect(screenShouldBeOn({ on: '22:00', off: '13:00' }, T, '+07:00', false)).toBe(true);
    expect(screenShouldBeOn({ on: '22:00', off: '11:00' }, T, '+07:00', false)).toBe(false);
  });
});

describe('screen power retries', () => {
  it('says the first failure once, then tries after pauses doubling up to the limit, and says the recovery', () => {
    const HOUR = 3_600_000;
    let s = POWER_RETRY_START;
    let now = 1_000_000;
    const said: boolean[] = [];
    const pauses: number[] = [];
    for (let i = 0; i < 9; i++) {
      expect(mayTryPower(s, now)).toBe(true);
      const r = powerFailed(s, now, HOUR);
      said.push(r.say);
      pauses.push(r.pauseMs / 60_000);
      s = r.state;
      // a minute later (the schedule's next check) it is not tried again unless the pause was a minute
      expect(mayTryPower(s, now + 59_999)).toBe(false);
      now = s.retryAt;
    }
    expect(said).toEqual([true, false, false, false, false, false, false, false, false]);
    expect(pauses).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    const back = powerSucceeded(s);
    expect(back).toEqual({ state: POWER_RETRY_START, say: true });
    expect(powerSucceeded(POWER_RETRY_START).say).toBe(false);
  });
});
