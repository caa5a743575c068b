/**
 * A commune's programme choices (`loa-choices`): who may sign them, which content they can keep
 * off a station (only normal items of upper-level bundles), with real keys and signatures.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChoicesBody,
  type Item,
  isUpperLevel,
  optedOutBy,
  verifyChoices,
} from '../../protocol/src/index.js';
import { createWorld, HOUR, iso, NOW, sign, trust } from './fixtures.js';

const w = createWorld();
const policy = trust(w, { thresholds: {} });
const base = { trust: policy, now: NOW };

function body(over: Partial<ChoicesBody> = {}): ChoicesBody {
  return {
    type: 'loa-choices',
    format: 1,
    unit: '08/02500',
    version: 3,
    issued: iso(NOW.getTime() - HOUR),
    optOut: [{ channel: 'tinh-thoi-su', entries: ['sang'] }],
    quietHours: [{ start: '21:30', end: '05:30' }],
    ...over,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('verifyChoices', () => {
  it("accepts the commune's own operator and the province, for the station's unit or below it", () => {
    const byCommune = verifyChoices(sign(body(), w.approver), { ...base, deviceUnit: '08/02500' });
    expect(byCommune.choices.version).toBe(3);
    expect(byCommune.digest).toMatch(/^[0-9a-f]{64}$/);
    // a province key covers the commune; a station in a village of the commune applies it too
    expect(() =>
      verifyChoices(sign(body(), w.editor), { ...base, deviceUnit: '08/02500/00007' }),
    ).not.toThrow();
  });

  it('refuses each bad document with a stable code', () => {
    // another commune's operator, an emergency-only key, a stranger's key
    expect(codeOf(() => verifyChoices(sign(body(), w.sibling), base))).toBe('SCOPE_NOT_COVERED');
    expect(codeOf(() => verifyChoices(sign(body(), w.chief), base))).toBe('ROLE_NOT_AUTHORISED');
    expect(codeOf(() => verifyChoices(sign(body(), w.stranger), base))).toBe('KEY_UNKNOWN');
    expect(codeOf(() => verifyChoices(body() as never, base))).toBe('CHOICES_MALFORMED');
    // an opt-out naming neither a channel nor a category
    expect(
      codeOf(() => verifyChoices(sign(body({ optOut: [{ entries: ['sang'] }] }), w.approver), base)),
    ).toBe('CHOICES_MALFORMED');
    expect(codeOf(() => verifyChoices(sign(body({ format: 2 }), w.approver), base))).toBe(
      'FORMAT_UNSUPPORTED',
    );
    const tampered = { ...sign(body(), w.approver), quietHours: [] };
    expect(codeOf(() => verifyChoices(tampered, base))).toBe('SIGNATURE_INVALID');
    // for the neighbouring commune, not for this station
    expect(
      codeOf(() =>
        verifyChoices(sign(body({ unit: '08/02600' }), w.sibling), { ...base, deviceUnit: '08/02500' }),
      ),
    ).toBe('TARGET_MISMATCH');
    // issued in the future (beyond the clock skew)
    expect(
      codeOf(() => verifyChoices(sign(body({ issued: iso(NOW.getTime() + 2 * HOUR) }), w.approver), base)),
    ).toBe('NOT_YET_VALID');
    // an older or equal version than the one the station holds
    expect(codeOf(() => verifyChoices(sign(body(), w.approver), { ...base, installedVersion: 3 }))).toBe(
      'VERSION_ROLLBACK',
    );
  });

  it("needs the policy's threshold of content signers over the unit", () => {
    const two = trust(w, { thresholds: { content: 2 } });
    expect(codeOf(() => verifyChoices(sign(body(), w.approver), { trust: two, now: NOW }))).toBe(
      'THRESHOLD_UNMET',
    );
    expect(() => verifyChoices(sign(body(), w.approver, w.editor), { trust: two, now: NOW })).not.toThrow();
  });
});

describe('optedOutBy', () => {
  const province = { channel: 'tinh-thoi-su', targets: [{ unit: '08' }] };
  const own = { channel: 'tinh-thoi-su', targets: [{ unit: '08/02500' }] };
  const item = (priority: Item['priority'], category?: string) => ({
    priority,
    ...(category ? { category } : {}),
  });
  const choices = [
    {
      unit: '08/02500',
      version: 1,
      optOut: [{ channel: 'tinh-thoi-su', entries: ['sang'] }, { categories: ['quang-cao'] }],
    },
  ];

  it.each([
    ['a normal item of the province in the refused slot', province, 'sang', item('normal'), true],
    ['the same channel at another slot', province, 'chieu', item('normal'), false],
    ['a priority item in the refused slot', province, 'sang', item('priority'), false],
    ['an emergency item in the refused slot', province, 'sang', item('emergency'), false],
    ["the commune's own bundle on that channel", own, 'sang', item('normal'), false],
    [
      'a refused category on any channel',
      { ...province, channel: 'khac' },
      'x',
      item('normal', 'quang-cao'),
      true,
    ],
    ['another category', { ...province, channel: 'khac' }, 'x', item('normal', 'y-te'), false],
  ])('%s → opted out: %s', (_what, m, entry, it, expected) => {
    expect(optedOutBy(choices, m, entry as string, it) !== undefined).toBe(expected);
  });

  it('treats a bundle as upper-level when none of its targets is inside the unit', () => {
    expect(isUpperLevel({ targets: [{ unit: '08' }] }, '08/02500')).toBe(true);
    expect(isUpperLevel({ targets: [{ unit: '08' }, { unit: '08/02500/00007' }] }, '08/02500')).toBe(false);
    expect(isUpperLevel({ targets: [{ unit: '08/02600' }] }, '08/02500')).toBe(true);
  });
});
