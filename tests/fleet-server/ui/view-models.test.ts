import type { Manifest, Proof } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import type { PresenceInfo } from '../../../fleet-server/src/broker/types.js';
import type {
  AlertRecord,
  BundleRecord,
  DeviceRecord,
  UnitRecord,
} from '../../../fleet-server/src/domain/model.js';
import { vnDayStart } from '../../../fleet-server/src/http/ui/time.js';
import {
  buildFleet,
  mapData,
  openAlertsByDevice,
  summarizeByUnit,
} from '../../../fleet-server/src/http/ui/view-models/fleet.js';
import { buildProgramme } from '../../../fleet-server/src/http/ui/view-models/overview.js';
import { inQuietHours, slotsForDay } from '../../../fleet-server/src/http/ui/view-models/programme.js';

const T0 = '2026-11-01T00:00:00Z';
function device(id: string, unit: string, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    unit,
    kind: 'station',
    name: `Cụm loa ${id}`,
    status: 'active',
    publicKey: 'x',
    keyId: 'y',
    mqttPasswordHash: 'z',
    groups: [],
    hardware: {},
    enrolledAt: T0,
    updatedAt: T0,
    ...extra,
  };
}
function unit(path: string, name: string): UnitRecord {
  const seg = path.split('/');
  return {
    path,
    code: seg.at(-1) as string,
    name,
    level: seg.length === 1 ? 'province' : 'commune',
    parent: seg.length > 1 ? seg.slice(0, -1).join('/') : null,
    createdAt: T0,
    updatedAt: T0,
  };
}
const presence = (deviceId: string, connected: boolean): PresenceInfo => ({
  deviceId,
  connected,
  since: Date.parse('2026-11-26T00:00:00Z'),
  presence: { state: connected ? 'online' : 'offline', boot: 1, conn: 1, at: '2026-11-26T00:00:00Z' },
});

describe('fleet view model', () => {
  const units = new Map([
    ['08', unit('08', 'Tuyên Quang')],
    ['08/02500', unit('08/02500', 'Xã Sơn Dương')],
    ['08/02503', unit('08/02503', 'Xã Hồng Lạc')],
  ]);
  const devices = [
    device('a1', '08/02500', { location: { lat: 21.7, lon: 105.4 } }),
    device('a2', '08/02500', { location: { lat: 21.72, lon: 105.42 } }),
    device('b1', '08/02503'),
    device('p1', '08/02503', { status: 'pending' }),
  ];
  const alert: AlertRecord = {
    id: 'al1',
    deviceId: 'a2',
    unit: '08/02500',
    rule: 'mains-lost',
    severity: 'critical',
    state: 'open',
    message: 'mất điện',
    openedAt: T0,
  };
  const inputs = {
    devices,
    units,
    presence: (id: string) =>
      id === 'a1' ? presence(id, true) : id === 'a2' ? presence(id, false) : undefined,
    health: () => undefined,
    openAlerts: openAlertsByDevice([alert, { ...alert, id: 'al2', state: 'resolved' }]),
  };

  it('derives states, counts, alerts and sorts problems first within a unit', () => {
    const vm = buildFleet(inputs, {});
    expect(vm.counts).toMatchObject({ online: 1, offline: 1, never: 1, pending: 1 });
    expect(vm.rows.map((r) => [r.id, r.state, r.alerts])).toEqual([
      ['a2', 'offline', 1],
      ['a1', 'online', 0],
      ['b1', 'never', 0],
      ['p1', 'pending', 0],
    ]);
    expect(vm.rows[0]?.unitName).toBe('Xã Sơn Dương');
  });

  it("names the bundles a station holds by their channel's name, the slug when it has none", () => {
    const latest = {
      deviceId: 'a1',
      receivedAt: T0,
      health: {
        bundles: [
          { channel: 'ban-tin-sang', id: 'b1', version: 3 },
          { channel: 'kenh-la', id: 'b2', version: 1 },
        ],
      },
    } as never;
    const vm = buildFleet(
      {
        ...inputs,
        health: (id: string) => (id === 'a1' ? latest : undefined),
        channelName: (c: string) => (c === 'ban-tin-sang' ? 'Bản tin sáng Sơn Dương' : undefined),
      },
      {},
    );
    expect(vm.rows.find((r) => r.id === 'a1')?.bundles).toBe('Bản tin sáng Sơn Dương v3, kenh-la v1');
  });

  it('filters by unit subtree, state, alert and text', () => {
    expect(buildFleet(inputs, { unit: '08/02503' }).rows.map((r) => r.id)).toEqual(['b1', 'p1']);
    expect(buildFleet(inputs, { unit: '08' }).rows).toHaveLength(4);
    expect(buildFleet(inputs, { state: 'online' }).rows.map((r) => r.id)).toEqual(['a1']);
    expect(buildFleet(inputs, { alert: 'with' }).rows.map((r) => r.id)).toEqual(['a2']);
    expect(buildFleet(inputs, { alert: 'without' }).rows).toHaveLength(3);
    expect(buildFleet(inputs, { q: 'hồng lạc' }).rows.map((r) => r.id)).toEqual(['b1', 'p1']);
  });

  it('summarises units and builds map points with unit labels at the devices centre', () => {
    const vm = buildFleet(inputs, {});
    expect(summarizeByUnit(vm.rows)).toEqual([
      { path: '08/02500', name: 'Xã Sơn Dương', total: 2, online: 1, offline: 1, alerts: 1 },
      { path: '08/02503', name: 'Xã Hồng Lạc', total: 2, online: 0, offline: 1, alerts: 0 },
    ]);
    const m = mapData(vm.rows);
    expect(m.points).toHaveLength(2);
    expect(m.missing).toBe(2);
    expect(m.labels).toHaveLength(1);
    expect(m.labels[0]?.name).toBe('Xã Sơn Dương');
    expect(m.labels[0]?.lat).toBeCloseTo(21.71, 5);
  });
});

function manifest(extra: Partial<Manifest> = {}): Manifest {
  return {
    type: 'loa-bundle',
    format: 1,
    id: 'main-3',
    channel: 'main',
    version: 3,
    created: '2026-11-20T00:00:00+07:00',
    expires: '2026-12-20T00:00:00+07:00',
    utcOffset: '+07:00',
    targets: [{ unit: '08/02500' }],
    items: [
      {
        id: 'i1',
        title: 'Bản tin sáng',
        kind: 'audio',
        priority: 'normal',
        lang: 'vi',
        blob: { sha256: 'a'.repeat(64), size: 1000, mediaType: 'audio/ogg' },
      },
      { id: 'i2', title: 'Bão số 5', kind: 'text', priority: 'emergency', lang: 'vi', text: 'y' },
    ],
    schedule: [
      { id: 'morning', items: ['i1'], rule: { type: 'daily', times: ['05:30', '17:00'] } },
      { id: 'late', items: ['i1'], rule: { type: 'daily', times: ['22:30'] } },
      { id: 'sat', items: ['i1'], rule: { type: 'weekly', days: ['sat'], times: ['08:00'] } },
      { id: 'thu', items: ['i1'], rule: { type: 'weekly', days: ['thu'], times: ['09:00'] } },
      { id: 'storm', items: ['i2'], rule: { type: 'daily', times: ['23:00'] } },
      { id: 'one', items: ['i1'], rule: { type: 'once', at: '2026-11-26T12:00:00+07:00' } },
    ],
    quietHours: [{ start: '22:00', end: '05:00' }],
    signatures: [],
    ...extra,
  };
}

describe('planned programme', () => {
  const day = vnDayStart('2026-11-26'); // a Thursday

  it('expands daily, weekly and once rules on the +07:00 day and drops quiet-hour slots except emergencies', () => {
    const slots = slotsForDay(manifest(), day);
    expect(slots.map((s) => `${s.entryId}@${new Date(s.at).toISOString()}`)).toEqual([
      'morning@2026-11-25T22:30:00.000Z',
      'thu@2026-11-26T02:00:00.000Z',
      'one@2026-11-26T05:00:00.000Z',
      'morning@2026-11-26T10:00:00.000Z',
      'storm@2026-11-26T16:00:00.000Z',
    ]);
    expect(slotsForDay(manifest({ expires: '2026-11-26T10:00:00+07:00' }), day)).toHaveLength(2);
    expect(inQuietHours(23 * 60, [{ start: '22:00', end: '05:00' }])).toBe(true);
    expect(inQuietHours(5 * 60, [{ start: '22:00', end: '05:00' }])).toBe(false);
    expect(inQuietHours(13 * 60, [{ start: '12:00', end: '14:00' }])).toBe(true);
  });

  it('counts planned devices and played proofs per slot, only for devices the bundle targets', () => {
    const b: BundleRecord = {
      id: 'main-3',
      channel: 'main',
      version: 3,
      state: 'published',
      manifest: manifest(),
      units: ['08/02500'],
      createdBy: 'e',
      createdAt: T0,
      updatedAt: T0,
    };
    const devs = [device('a1', '08/02500'), device('a2', '08/02500'), device('x9', '08/02503')];
    const proof = (
      deviceId: string,
      entryId: string,
      scheduledAt: string,
      outcome: Proof['outcome'],
    ): Proof =>
      ({
        deviceId,
        bundleId: 'main-3',
        entryId,
        scheduledAt,
        outcome,
      }) as Proof;
    const proofs = [
      proof('a1', 'morning', '2026-11-26T05:30:00+07:00', 'completed'),
      proof('a1', 'morning', '2026-11-26T05:30:00+07:00', 'started'),
      proof('a2', 'morning', '2026-11-26T05:30:00+07:00', 'failed'),
      proof('x9', 'morning', '2026-11-26T05:30:00+07:00', 'completed'),
    ];
    const now = Date.parse('2026-11-26T08:00:00+07:00');
    const p = buildProgramme([b], devs, proofs, day, now);
    const first = p.rows[0];
    expect(first).toMatchObject({
      entryId: 'morning',
      planned: 2,
      played: 1,
      due: true,
      titles: ['Bản tin sáng'],
    });
    expect(p.rows.filter((r) => r.due)).toHaveLength(1);
    expect(p.plannedDue).toBe(2);
    expect(p.playedDue).toBe(1);
    expect(buildProgramme([{ ...b, state: 'draft' }], devs, proofs, day, now).rows).toHaveLength(0);
  });

  it('plans audio on loudspeaker stations and text on noticeboards, each counted on its own', () => {
    const m = manifest({
      schedule: [{ id: 'both', items: ['i1', 'i2'], rule: { type: 'daily', times: ['09:00'] } }],
    });
    const b: BundleRecord = {
      id: 'main-3',
      channel: 'main',
      version: 3,
      state: 'published',
      manifest: m,
      units: ['08/02500'],
      createdBy: 'e',
      createdAt: T0,
      updatedAt: T0,
    };
    const devs = [
      device('s1', '08/02500'),
      device('s2', '08/02500'),
      device('nb', '08/02500', { kind: 'noticeboard' }),
    ];
    const at = '2026-11-26T09:00:00+07:00';
    const proofs = ['s1', 's2', 'nb'].map(
      (deviceId) =>
        ({ deviceId, bundleId: 'main-3', entryId: 'both', scheduledAt: at, outcome: 'completed' }) as Proof,
    );
    const p = buildProgramme([b], devs, proofs, day, Date.parse('2026-11-26T10:00:00+07:00'));
    expect(p.rows.map((r) => [r.output, r.titles, r.planned, r.played])).toEqual([
      ['audio', ['Bản tin sáng'], 2, 2],
      ['display', ['Bão số 5'], 1, 1],
    ]);
    expect(p.dueBy).toEqual({ audio: { planned: 2, played: 2 }, display: { planned: 1, played: 1 } });
    // A text-only slot is never planned on a loudspeaker station.
    const textOnly = {
      ...b,
      manifest: manifest({
        schedule: [{ id: 't', items: ['i2'], rule: { type: 'daily', times: ['09:00'] } }],
      }),
    };
    const q = buildProgramme([textOnly], devs.slice(0, 2), [], day, Date.parse('2026-11-26T10:00:00+07:00'));
    expect(q.rows).toEqual([]);
    expect(q.plannedDue).toBe(0);
  });
});
