/**
 * The pure parts of the citizens' side: what a unit's page may show (public flag, emergencies,
 * targets, today's programme), feedback transitions and counts, CSV cells that a spreadsheet
 * cannot run, the proof of work with injected time, photo header checks, the page's view model.
 */
import { describe, expect, it } from 'vitest';
import {
  checkTransition,
  countFeedback,
  csvCell,
  feedbackCsv,
} from '../../../fleet-server/src/domain/citizens/feedback.js';
import {
  localDate,
  publicAudioAll,
  publicFeed,
} from '../../../fleet-server/src/domain/citizens/public-feed.js';
import type { BundleRecord, ContentRecord, FeedbackRecord } from '../../../fleet-server/src/domain/model.js';
import { categoryLabel, publicT } from '../../../fleet-server/src/http/ui/pages/public/public-text.js';
import {
  bulletinPage,
  mapPoints,
  PAGE_SIZE,
} from '../../../fleet-server/src/http/ui/view-models/public-page.js';
import {
  CHALLENGE_DEFAULTS,
  ChallengeIssuer,
  solveChallenge,
} from '../../../fleet-server/src/services/citizens/challenge.js';
import { declaredSize, photoRefusal } from '../../../fleet-server/src/services/citizens/photo-intake.js';

const NOW = Date.parse('2026-12-07T03:00:00Z'); // 10:00 in Vietnam, a Monday
const sha = (c: string) => c.repeat(64);

function content(id: string, extra: Partial<ContentRecord> = {}): ContentRecord {
  return {
    id,
    kind: 'text',
    title: `T ${id}`,
    lang: 'vi',
    unit: '08/02509',
    text: `text ${id}`,
    createdBy: 'u',
    createdAt: '2026-12-01T00:00:00Z',
    ...extra,
  };
}

function bundle(
  id: string,
  items: { id: string; content: string; kind?: 'audio' | 'text'; blob?: string }[],
  extra: Partial<BundleRecord> & { unit?: string; schedule?: unknown[]; expires?: string } = {},
): BundleRecord {
  const { unit, schedule, expires, ...rest } = extra;
  return {
    id,
    channel: 'c',
    version: 1,
    state: 'published',
    units: [unit ?? '08/02509'],
    createdBy: 'u',
    createdAt: '2026-12-06T00:00:00Z',
    updatedAt: '2026-12-06T00:00:00Z',
    publishedAt: '2026-12-06T23:00:00Z',
    meta: { draft: { items: items.map((i) => ({ content: i.content, id: i.id })) } },
    manifest: {
      type: 'loa-bundle',
      format: 1,
      id,
      channel: 'c',
      version: 1,
      created: '2026-12-06T00:00:00Z',
      expires: expires ?? '2027-01-06T00:00:00Z',
      utcOffset: '+07:00',
      targets: [{ unit: unit ?? '08/02509' }],
      items: items.map((i) => ({
        id: i.id,
        title: `I ${i.id}`,
        kind: i.kind ?? 'text',
        priority: 'normal',
        lang: 'vi',
        ...(i.blob ? { blob: { sha256: i.blob, size: 10, mediaType: 'audio/ogg' } } : { text: 'x' }),
      })),
      ...(schedule ? { schedule } : {}),
      signatures: [],
    } as BundleRecord['manifest'],
    ...rest,
  };
}

describe('public feed', () => {
  const lib = new Map<string, ContentRecord>([
    ['pub', content('pub', { public: true, category: 'y-te' })],
    ['priv', content('priv')],
    ['aud', content('aud', { public: true, kind: 'audio', sha256: sha('a'), text: undefined })],
  ]);
  it('shows public items of published programmes that reach the unit, from ancestors too', () => {
    const bundles = [
      bundle('b1', [
        { id: 'i1', content: 'pub' },
        { id: 'i2', content: 'priv' },
      ]),
      bundle('b2', [{ id: 'i3', content: 'aud', kind: 'audio', blob: sha('a') }], { unit: '08' }),
      bundle('b3', [{ id: 'i4', content: 'pub' }], { state: 'draft' }),
      bundle('b4', [{ id: 'i5', content: 'pub' }], { unit: '08/02503' }),
    ];
    const f = publicFeed('08/02509', bundles, lib, NOW);
    expect(f.bulletins.map((b) => b.id).sort()).toEqual(['aud', 'pub']);
    expect(f.bulletins.find((b) => b.id === 'aud')?.audio?.sha256).toBe(sha('a'));
    expect(f.categories).toEqual(['y-te']);
    expect(
      publicFeed('08/02503', bundles, lib, NOW)
        .bulletins.map((b) => b.id)
        .sort(),
    ).toEqual(['aud', 'pub']);
    expect(publicAudioAll(bundles, lib)).toEqual(new Set([sha('a')]));
  });
  it("lists today's slots (daily, weekly on the day, once today) with public titles only", () => {
    const b = bundle(
      'b1',
      [
        { id: 'i1', content: 'pub' },
        { id: 'i2', content: 'priv' },
      ],
      {
        schedule: [
          { id: 'd', items: ['i1', 'i2'], rule: { type: 'daily', times: ['17:00', '05:30'] } },
          { id: 'w', items: ['i1'], rule: { type: 'weekly', days: ['mon'], times: ['12:00'] } },
          { id: 'x', items: ['i1'], rule: { type: 'weekly', days: ['tue'], times: ['13:00'] } },
          { id: 'o', items: ['i1'], rule: { type: 'once', at: '2026-12-07T08:15:00Z' } },
          { id: 'p', items: ['i2'], rule: { type: 'daily', times: ['06:00'] } },
          {
            id: 'old',
            items: ['i1'],
            rule: { type: 'daily', times: ['09:00'] },
            validUntil: '2026-12-01T00:00:00Z',
          },
        ],
      },
    );
    const f = publicFeed('08/02509', [b], lib, NOW);
    expect(f.programme).toEqual([
      { time: '05:30', titles: ['I i1'] },
      { time: '12:00', titles: ['I i1'] },
      { time: '15:15', titles: ['I i1'] },
      { time: '17:00', titles: ['I i1'] },
    ]);
    expect(localDate(NOW)).toBe('2026-12-07');
  });
  it('emergencies are public and active until they expire', () => {
    const e = bundle('e1', [{ id: 'a', content: 'none', kind: 'audio', blob: sha('e') }], {
      emergency: true,
      expires: '2026-12-07T04:00:00Z',
    });
    expect(publicFeed('08/02509', [e], lib, NOW).emergencies).toHaveLength(1);
    const later = publicFeed('08/02509', [e], lib, Date.parse('2026-12-07T05:00:00Z'));
    expect(later.emergencies).toHaveLength(0);
    expect(later.bulletins[0]).toMatchObject({ emergency: true, category: 'emergency' });
    expect(publicAudioAll([e], lib).has(sha('e'))).toBe(true);
  });
});

describe('category names on the public page', () => {
  it("names the common categories in the page language, and keeps a unit's own slug as it is", () => {
    expect(categoryLabel(publicT('vi'), 'health')).toBe('Y tế');
    expect(categoryLabel(publicT('en'), 'health')).toBe('Health');
    expect(categoryLabel(publicT('vi'), 'emergency')).toBe('Khẩn cấp');
    expect(categoryLabel(publicT('vi'), 'toString')).toBe('toString');
    expect(categoryLabel(publicT('vi'), 'hoi-cho-xuan')).toBe('hoi-cho-xuan');
  });
});

describe('feedback rules', () => {
  const fb = (status: FeedbackRecord['status'], extra: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
    id: 'fb-0000000000000001',
    unit: '08/02509',
    topic: 'question',
    text: 'x',
    status,
    createdAt: '2026-12-01T00:00:00Z',
    dueAt: '2026-12-05T00:00:00Z',
    sender: 's',
    updatedAt: '2026-12-01T00:00:00Z',
    ...extra,
  });
  it('moves forward only; closed stays closed', () => {
    expect(() => checkTransition('new', 'assigned')).not.toThrow();
    expect(() => checkTransition('answered', 'closed')).not.toThrow();
    expect(() => checkTransition('closed', 'assigned')).toThrow(/FEEDBACK_TRANSITION|Không thể/);
    expect(() => checkTransition('answered', 'new')).toThrow();
  });
  it('counts by topic, status, unit, overdue and time to answer', () => {
    const c = countFeedback(
      [
        fb('new'),
        fb('answered', { topic: 'speaker', answeredAt: '2026-12-01T10:00:00Z' }),
        fb('closed', { unit: '08/02503', answeredAt: '2026-12-02T00:00:00Z' }),
      ],
      NOW,
    );
    expect(c).toMatchObject({ total: 3, overdue: 1, answered: 2, byUnit: { '08/02509': 2, '08/02503': 1 } });
    expect(c.byTopic).toMatchObject({ question: 2, speaker: 1, complaint: 0 });
    expect(c.answerHours).toEqual({ median: 10, p90: 24, max: 24 });
  });
  it('CSV: quoted, formula cells neutralised, BOM for spreadsheets', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+84912')).toBe("'+84912");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=cmd')).toBe("'\t=cmd");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell('bình thường')).toBe('bình thường');
    const csv = feedbackCsv([fb('new', { text: '=HYPERLINK("x")' })]);
    expect(csv.startsWith('\ufeffid,unit')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
  });
});

describe('proof of work', () => {
  it('is bound to its unit, expires, and is accepted once', () => {
    let t = NOW;
    const issuer = new ChallengeIssuer(Buffer.alloc(32, 7), () => t, { ...CHALLENGE_DEFAULTS, bits: 8 });
    const token = issuer.issue('08/02509');
    const nonce = solveChallenge(token);
    expect(() => issuer.redeem('08/02503', token, nonce)).toThrow(/chống thư rác/);
    expect(() => issuer.redeem('08/02509', token, `${nonce}x`)).toThrow();
    issuer.redeem('08/02509', token, nonce);
    expect(() => issuer.redeem('08/02509', token, nonce)).toThrow(/đã được gửi/);
    const late = issuer.issue('08/02509');
    t += CHALLENGE_DEFAULTS.ttlMs + 1;
    expect(() => issuer.redeem('08/02509', late, solveChallenge(late))).toThrow(/hết hạn/);
  });
});

describe('photo checks before decoding', () => {
  it('reads declared sizes from JPEG, PNG and WebP headers', () => {
    const jpeg = Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x03, 0x84, 0x04, 0xb0, 0, 0, 0,
    ]);
    expect(declaredSize(jpeg)).toEqual({ width: 1200, height: 900 });
    const png = Buffer.alloc(24);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
    png.write('IHDR', 12, 'latin1');
    png.writeUInt32BE(60000, 16);
    png.writeUInt32BE(60000, 20);
    expect(declaredSize(png)).toEqual({ width: 60000, height: 60000 });
  });
  it('refuses non-images and polyglots by their bytes', () => {
    const jpegHead = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
    expect(photoRefusal(Buffer.from('<svg onload=alert(1)>'), 1e6)?.code).toBe('PHOTO_TYPE');
    expect(photoRefusal(Buffer.concat([jpegHead, Buffer.from('<script>')]), 1e6)?.code).toBe(
      'PHOTO_POLYGLOT',
    );
    expect(photoRefusal(Buffer.concat([jpegHead, Buffer.from('%PDF-1.7')]), 1e6)?.code).toBe(
      'PHOTO_POLYGLOT',
    );
    expect(photoRefusal(Buffer.alloc(10, 0xff), 5)?.code).toBe('PHOTO_TOO_LARGE');
    expect(photoRefusal(jpegHead, 1e6)).toBeUndefined();
  });
});

describe('public page view model', () => {
  it('pages bulletins by day and places stations inside the map', () => {
    const list = Array.from({ length: PAGE_SIZE + 3 }, (_, i) => ({
      id: `b${i}`,
      title: `b${i}`,
      lang: i % 2 ? 'hmn' : 'vi',
      kind: 'text' as const,
      publishedAt: new Date(NOW - i * 6 * 3600_000).toISOString(),
      emergency: false,
    }));
    const p1 = bulletinPage(list, { page: 1 }, NOW);
    expect(p1.more).toBe(true);
    expect(p1.days[0]?.today).toBe(true);
    expect(p1.days.reduce((n, d) => n + d.items.length, 0)).toBe(PAGE_SIZE);
    expect(bulletinPage(list, { page: 2 }, NOW).days.flatMap((d) => d.items)).toHaveLength(3);
    expect(
      bulletinPage(list, { page: 1, lang: 'hmn' }, NOW)
        .days.flatMap((d) => d.items)
        .every((b) => b.lang === 'hmn'),
    ).toBe(true);
    const pts = mapPoints([
      { name: 'a', lat: 21.8, lon: 105.3, online: true, onAir: true },
      { name: 'b', lat: 21.9, lon: 105.4, online: false, onAir: false },
      { name: 'c', online: true, onAir: false },
    ]);
    expect(pts.map((p) => p.state)).toEqual(['onAir', 'offline']);
    for (const p of pts) {
      expect(p.x).toBeGreaterThanOrEqual(16);
      expect(p.x).toBeLessThanOrEqual(304);
      expect(p.y).toBeGreaterThanOrEqual(16);
      expect(p.y).toBeLessThanOrEqual(184);
    }
  });
});
