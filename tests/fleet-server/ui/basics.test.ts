import { describe, expect, it } from 'vitest';
import type { UiCtx } from '../../../fleet-server/src/http/ui/context.js';
import { en } from '../../../fleet-server/src/http/ui/i18n/en.js';
import { formatNumber, langFrom, translator } from '../../../fleet-server/src/http/ui/i18n/index.js';
import { vi } from '../../../fleet-server/src/http/ui/i18n/vi.js';
import { Layout } from '../../../fleet-server/src/http/ui/layout.js';
import {
  formatDateTime,
  fromLocalInput,
  toVnIso,
  vnDay,
  vnDayStart,
} from '../../../fleet-server/src/http/ui/time.js';

describe('time in Asia/Ho_Chi_Minh', () => {
  it('formats instants on the +07:00 wall clock, whatever the host zone', () => {
    expect(formatDateTime('2026-11-25T22:30:00Z')).toBe('26/11/2026 05:30');
    expect(formatDateTime('2026-11-26T10:00:00Z', true)).toBe('26/11/2026 17:00:00');
    expect(formatDateTime(undefined)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
    expect(vnDay('2026-11-25T17:00:00Z')).toBe('2026-11-26');
    expect(vnDay('2026-11-25T16:59:59Z')).toBe('2026-11-25');
    expect(new Date(vnDayStart('2026-11-26')).toISOString()).toBe('2026-11-25T17:00:00.000Z');
    expect(toVnIso('2026-11-25T22:30:00Z')).toBe('2026-11-26T05:30:00+07:00');
  });
  it('parses datetime-local input as Vietnamese time and rejects impossible dates', () => {
    expect(fromLocalInput('2026-11-26T05:30')).toBe('2026-11-26T05:30:00+07:00');
    expect(fromLocalInput('2026-02-30T05:30')).toBeNull();
    expect(fromLocalInput('26/11/2026')).toBeNull();
  });
});

describe('i18n', () => {
  it('has the same keys in every language and defaults to Vietnamese', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    expect(langFrom(undefined)).toBe('vi');
    expect(langFrom('fr')).toBe('vi');
    expect(langFrom('en')).toBe('en');
    const t = translator('vi');
    expect(t('fleet.shown', { n: 3, total: 10 })).toBe('Hiển thị 3 / 10 thiết bị');
    expect(translator('en')('fleet.shown', { n: 3, total: 10 })).toBe('Showing 3 of 10 devices');
  });
  it('groups numbers the Vietnamese way', () => {
    expect(formatNumber('vi', 10000)).toBe('10.000');
    expect(formatNumber('en', 1234567.891, 2)).toBe('1,234,567.89');
    expect(formatNumber('vi', 98.5, 1)).toBe('98,5');
  });
});

describe('layout', () => {
  it('renders escaped user data, the language switch and the role-filtered navigation', async () => {
    const ctx: UiCtx = {
      lang: 'vi',
      t: translator('vi'),
      user: {
        id: 'u1',
        username: 'bien',
        displayName: '<script>alert(1)</script>',
        role: 'editor',
        scope: ['08'],
      },
      csrf: 'tok"en',
      path: '/ui/content',
      now: 0,
    };
    const html = String(await Layout({ ctx, title: 'Nội dung', children: 'x' }));
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('value="tok&quot;en"');
    expect(html).toContain('aria-current="page"');
    expect(html).toContain('>Nội dung<');
    expect(html).not.toContain('/ui/admin'); // editors have no administration
    expect(html).toContain('/ui/lang/en?back=%2Fui%2Fcontent');
  });
});
