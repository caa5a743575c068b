import type { Manifest } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import type { BundleRecord } from '../../../fleet-server/src/domain/model.js';
import { combineViews, parseIds } from '../../../fleet-server/src/http/ui/pages/emergency.js';
import { diffManifests } from '../../../fleet-server/src/http/ui/view-models/diff.js';
import {
  EMPTY_PROGRAMME,
  parseProgramme,
} from '../../../fleet-server/src/http/ui/view-models/programme-form.js';

const NOW = Date.parse('2026-11-26T09:00:00+07:00');
const ctx = { nowMs: NOW, inScope: (u: string) => u.startsWith('08'), knownContent: new Set(['c1', 'c2']) };

describe('programme form', () => {
  it('turns a valid daily form into a bundle draft with repeat and quiet hours', () => {
    const r = parseProgramme(
      {
        ...EMPTY_PROGRAMME,
        items: ['c1', 'c2'],
        times: '17:00, 5:30',
        repeat: '3',
        gap: '120',
        targets: '08/02500\n08/02503',
      },
      ctx,
    );
    expect('body' in r && r.body).toMatchObject({
      channel: 'main',
      items: [
        { content: 'c1', priority: 'normal' },
        { content: 'c2', priority: 'normal' },
      ],
      schedule: [
        {
          id: 'session',
          items: ['c1', 'c2'],
          rule: { type: 'daily', times: ['05:30', '17:00'] },
          repeat: { count: 3, gapSeconds: 120 },
        },
      ],
      quietHours: [{ start: '22:00', end: '05:00' }],
      targets: [{ unit: '08/02500' }, { unit: '08/02503' }],
      utcOffset: '+07:00',
    });
  });

  it('reports every bad field with a message key, and never builds a half draft', () => {
    const r = parseProgramme(
      {
        ...EMPTY_PROGRAMME,
        channel: 'Kênh 1',
        items: ['nope'],
        rule: 'weekly',
        times: '25:00',
        days: [],
        repeat: '0',
        gap: '-1',
        quiet: '22h-5h',
        targets: '09/00001\n08/x',
        priority: 'emergency',
        validDays: '400',
      },
      ctx,
    );
    expect('errors' in r).toBe(true);
    if (!('errors' in r)) return;
    expect(Object.keys(r.errors).sort()).toEqual(
      [
        'channel',
        'days',
        'gap',
        'items',
        'priority',
        'quiet',
        'repeat',
        'targets',
        'times',
        'validDays',
      ].sort(),
    );
    expect(r.errors.times).toEqual({ key: 'err.time' });
    const scope = parseProgramme({ ...EMPTY_PROGRAMME, items: ['c1'], targets: '09/00001' }, ctx);
    expect('errors' in scope && scope.errors.targets).toEqual({ key: 'err.unitScope' });
  });

  it('targets groups inside a unit and output zones', () => {
    const r = parseProgramme(
      {
        ...EMPTY_PROGRAMME,
        items: ['c1'],
        targets: '08/02500 cho-trung-tam, truong-hoc\n08/02503',
        zones: 'khu-a, khu-b',
      },
      ctx,
    );
    expect('body' in r && r.body.targets).toEqual([
      { unit: '08/02500', groups: ['cho-trung-tam', 'truong-hoc'] },
      { unit: '08/02503' },
    ]);
    expect('body' in r && r.body.schedule[0]?.zones).toEqual(['khu-a', 'khu-b']);
    const bad = parseProgramme({ ...EMPTY_PROGRAMME, items: ['c1'], targets: '08', zones: 'khu a/b' }, ctx);
    expect('errors' in bad && bad.errors.zones).toEqual({ key: 'err.invalid' });
  });

  it('accepts a one-off in the future on the +07:00 clock and refuses one in the past', () => {
    const ok = parseProgramme(
      { ...EMPTY_PROGRAMME, items: ['c1'], rule: 'once', at: '2026-11-27T06:00', targets: '08' },
      ctx,
    );
    expect('body' in ok && ok.body.schedule[0]?.rule).toEqual({
      type: 'once',
      at: '2026-11-27T06:00:00+07:00',
    });
    const past = parseProgramme(
      { ...EMPTY_PROGRAMME, items: ['c1'], rule: 'once', at: '2026-11-26T08:00', targets: '08' },
      ctx,
    );
    expect('errors' in past && past.errors.at).toEqual({ key: 'err.past' });
  });

  it('a noticeboard loop has no session; display seconds go to image and text items only', () => {
    const board = { ...ctx, displayContent: new Set(['c2']) };
    const loop = parseProgramme(
      { ...EMPTY_PROGRAMME, items: ['c1', 'c2'], rule: 'loop', displaySeconds: '25', targets: '08/02503' },
      board,
    );
    expect('body' in loop && loop.body).toMatchObject({
      items: [
        { content: 'c1', priority: 'normal' },
        { content: 'c2', priority: 'normal', durationMs: 25_000 },
      ],
      schedule: [],
    });
    // the audio item keeps its own length: durationMs would cut a recording short
    expect('body' in loop && loop.body.items[0]).not.toHaveProperty('durationMs');
    const daily = parseProgramme(
      { ...EMPTY_PROGRAMME, items: ['c2'], targets: '08', displaySeconds: '' },
      board,
    );
    expect('body' in daily && daily.body.items[0]).toEqual({ content: 'c2', priority: 'normal' });
    for (const bad of ['0', '3601', '2.5', 'mười'])
      expect(
        (() => {
          const r = parseProgramme(
            { ...EMPTY_PROGRAMME, items: ['c2'], rule: 'loop', displaySeconds: bad, targets: '08' },
            board,
          );
          return 'errors' in r && r.errors.displaySeconds;
        })(),
      ).toEqual({ key: 'err.number', params: { min: 1, max: 3600 } });
    const unknown = parseProgramme(
      { ...EMPTY_PROGRAMME, items: ['c1'], rule: 'sometimes', targets: '08' },
      board,
    );
    expect('errors' in unknown && unknown.errors.rule).toEqual({ key: 'err.invalid' });
  });
});

const base: Manifest = {
  type: 'loa-bundle',
  format: 1,
  id: 'main-v1',
  channel: 'main',
  version: 1,
  created: '2026-11-20T00:00:00+07:00',
  expires: '2026-12-20T00:00:00+07:00',
  targets: [{ unit: '08/02500' }],
  items: [
    {
      id: 'a',
      title: 'Bản tin A',
      kind: 'text',
      priority: 'normal',
      lang: 'vi',
      text: 'x',
      category: 'news',
    },
  ],
  schedule: [{ id: 's', items: ['a'], rule: { type: 'daily', times: ['05:30'] } }],
  signatures: [],
};

describe('approval diff', () => {
  it('lists added, removed and changed items, schedule entries, targets and quiet hours', () => {
    const next: Manifest = {
      ...base,
      id: 'main-v2',
      version: 2,
      items: [
        { ...(base.items[0] as Manifest['items'][number]), title: 'Bản tin A (sửa)' },
        { id: 'b', title: 'Bản tin B', kind: 'text', priority: 'priority', lang: 'tay', text: 'y' },
      ],
      schedule: [{ id: 's', items: ['a', 'b'], rule: { type: 'daily', times: ['05:30', '17:00'] } }],
      targets: [{ unit: '08/02503' }],
      quietHours: [{ start: '22:00', end: '05:00' }],
    };
    const d = diffManifests(base, next);
    expect(d.map((c) => `${c.kind} ${c.what} ${c.id}`).sort()).toEqual(
      [
        'changed item a',
        'added item b',
        'changed schedule s',
        'added target 08/02503',
        'removed target 08/02500',
        'added quiet quietHours',
      ].sort(),
    );
    expect(diffManifests(undefined, base).every((c) => c.kind === 'added')).toBe(true);
    expect(diffManifests(base, base)).toEqual([]);
  });
});

describe('emergency to several units', () => {
  it("parses id lists safely and sums the progress of each unit's emergency", () => {
    expect(parseIds('emergency-v1,emergency-v2,emergency-v1,../x,')).toEqual([
      'emergency-v1',
      'emergency-v2',
    ]);
    const v = (id: string, playing: number, sent: number) => ({
      bundle: { id, manifest: { items: [{ title: 'Lũ quét' }] } } as unknown as BundleRecord,
      summary: { total: playing + sent, sent, received: 0, playing, completed: 0, failed: 0, withdrawn: 0 },
      devices: [
        ...Array.from({ length: playing }, (_, i) => ({
          deviceId: `${id}-p${i}`,
          unit: '08',
          stage: 'playing' as const,
          plays: 1,
          updatedAt: '',
        })),
        ...Array.from({ length: sent }, (_, i) => ({
          deviceId: `${id}-s${i}`,
          unit: '08',
          stage: 'sent' as const,
          plays: 0,
          updatedAt: '',
        })),
      ],
    });
    const c = combineViews([v('a', 3, 0), v('b', 1, 2)]);
    expect(c.ids).toEqual(['a', 'b']);
    expect(c.title).toBe('Lũ quét');
    expect(c.summary).toEqual({
      total: 6,
      sent: 2,
      received: 0,
      playing: 4,
      completed: 0,
      failed: 0,
      withdrawn: 0,
    });
    expect(c.devices.filter((d) => d.stage === 'sent').map((d) => d.deviceId)).toEqual(['b-s0', 'b-s1']);
  });
});

describe('emergency progress in words', () => {
  it('says playing, then finished once every station has finished', async () => {
    const { progressSummary } = await import('../../../fleet-server/src/http/ui/pages/emergency.js');
    const { translator } = await import('../../../fleet-server/src/http/ui/i18n/index.js');
    const t = translator('vi');
    const sum = (playing: number, completed: number, received = 0, failed = 0, withdrawn = 0) => ({
      total: 3,
      sent: 3 - playing - completed - received - failed - withdrawn,
      received,
      playing,
      completed,
      failed,
      withdrawn,
    });
    expect(progressSummary(t, sum(3, 0))).toBe('3/3 đang phát');
    expect(progressSummary(t, sum(1, 2))).toBe('1/3 đang phát, 2 đã phát xong');
    expect(progressSummary(t, sum(0, 3))).toBe('Đã phát xong 3/3');
    expect(progressSummary(t, sum(0, 2, 0, 1))).toBe('Đã phát xong 2/3');
    // cancelled: a recall made two stations stop and drop it, the third has not answered yet
    expect(progressSummary(t, sum(0, 0, 0, 0, 2))).toBe('Đã huỷ cảnh báo: 2/3 trạm đã dừng và gỡ');
  });

  it('keeps counting what stations had heard and finished once a cancel made them drop it', async () => {
    const { progressParts } = await import('../../../fleet-server/src/http/ui/pages/emergency.js');
    const at = '2026-12-08T00:00:00.000Z';
    const base = { unit: '08/02506', plays: 1, updatedAt: at };
    const devices = [
      { ...base, deviceId: 'a', stage: 'withdrawn' as const, receivedAt: at, startedAt: at, completedAt: at },
      { ...base, deviceId: 'b', stage: 'withdrawn' as const, receivedAt: at, startedAt: at },
      { ...base, deviceId: 'c', stage: 'withdrawn' as const, plays: 0 },
      { ...base, deviceId: 'd', stage: 'completed' as const, receivedAt: at, startedAt: at, completedAt: at },
    ];
    const sum = { total: 4, sent: 0, received: 0, playing: 0, completed: 1, failed: 0, withdrawn: 3 };
    expect(progressParts(sum, devices)).toEqual({ notified: 4, verified: 3, playing: 0, done: 2, failed: 0 });
  });
});
