import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  type ReleaseIn,
  releaseRows,
  versionsVm,
} from '../../../fleet-server/src/http/ui/view-models/releases.js';

const names = {
  device: (id: string) => `Cụm loa ${id}`,
  deviceUnit: (id: string) => (id.startsWith('b') ? '08/02503' : '08/02500'),
  unit: (p: string) =>
    ({ '08': 'Tỉnh Tuyên Quang', '08/02500': 'Thị trấn Sơn Dương', '08/02503': 'Xã Tân Trào' })[p] ?? p,
  key: (k: string) => (k === 'k1' ? 'Khoá phát hành' : `${k}…`),
  user: (u: string) => (u === 'u1' ? 'Nguyễn Văn Quản' : u),
};

const rel = (over: Partial<ReleaseIn> = {}): ReleaseIn => ({
  release: {
    id: 'agent-0.2.0',
    version: 2,
    agentVersion: '0.2.0',
    created: '2026-12-01T00:00:00Z',
    targets: [{ unit: '08' }],
    signatures: [{ keyid: 'k1' }, { keyid: 'k2' }],
  },
  uploadedAt: '2026-12-01T01:00:00Z',
  uploadedBy: 'u1',
  stages: [],
  ...over,
});

describe('releases view model', () => {
  it('names signers, people, units; offers the stages in order', () => {
    const [fresh] = releaseRows([rel()], new Map(), ['08/02500', '08/02503'], names);
    expect(fresh?.signedBy).toEqual(['Khoá phát hành', 'k2…']);
    expect(fresh?.uploadedBy).toBe('Nguyễn Văn Quản');
    expect(fresh?.next).toEqual(['canary']);
    expect(fresh?.unitChoices.map((u) => u.name)).toEqual([
      'Tỉnh Tuyên Quang',
      'Thị trấn Sơn Dương',
      'Xã Tân Trào',
    ]);
    const canary = { stage: 'canary' as const, devices: ['a1'], at: '2026-12-01T02:00:00Z', by: 'u1' };
    const unit = {
      stage: 'unit' as const,
      devices: ['a1', 'a2', 'a3'],
      unit: '08/02500',
      at: '2026-12-01T03:00:00Z',
      by: 'u1',
    };
    const all = {
      stage: 'all' as const,
      devices: ['a1', 'a2', 'a3', 'b1'],
      at: '2026-12-01T04:00:00Z',
      by: 'u1',
    };
    const at = '2026-12-01T05:00:00Z';
    const entries = [
      { deviceId: 'a1', state: 'playing', updatedAt: at },
      { deviceId: 'a2', state: 'downloading', updatedAt: at },
      { deviceId: 'a3', state: 'failed', reason: 'UPDATE_ROLLED_BACK', updatedAt: at },
    ];
    const rows = releaseRows(
      [
        rel({ stages: [canary] }),
        rel({ stages: [canary, unit] }),
        rel({ stages: [canary, unit, all] }),
        rel({ stages: [canary, unit], halted: { deviceId: 'a3', reason: 'UPDATE_ROLLED_BACK', at } }),
        rel({ stages: [canary], halted: { reason: 'Loa rè', at, by: 'u1' } }),
      ],
      new Map([['agent-0.2.0', entries]]),
      ['08/02500', '08/02503'],
      names,
    );
    expect(rows.map((r) => r.next)).toEqual([['unit'], ['unit', 'all'], [], [], []]);
    const halted = rows[3];
    expect(halted?.halted).toEqual({ reason: 'UPDATE_ROLLED_BACK', at, station: 'Cụm loa a3' });
    expect(halted?.failed).toEqual([
      { id: 'a3', name: 'Cụm loa a3', unit: 'Thị trấn Sơn Dương', reason: 'UPDATE_ROLLED_BACK' },
    ]);
    expect(halted?.counts).toEqual({ sent: 3, ready: 1, inProgress: 1, failed: 1 });
    expect(halted?.waiting.map((w) => w.name)).toEqual(['Cụm loa a2']);
    expect(halted?.stages[1]).toMatchObject({
      stage: 'unit',
      unit: 'Thị trấn Sơn Dương',
      count: 3,
      by: 'Nguyễn Văn Quản',
    });
    expect(rows[4]?.halted).toEqual({ reason: 'Loa rè', at, by: 'Nguyễn Văn Quản' });
  });

  it('counts versions per unit, newest first, unreported last', () => {
    const vm = versionsVm(
      {
        devices: [
          { id: 'a1', unit: '08/02500', agentVersion: '0.2.0', online: true },
          { id: 'a2', unit: '08/02500', agentVersion: '0.1.0', online: false },
          { id: 'a3', unit: '08/02500', agentVersion: '0.10.0-rc.1', online: true },
          { id: 'b1', unit: '08/02503', agentVersion: '?', online: false },
        ],
      },
      names,
    );
    expect(vm.versions.map((v) => v.version)).toEqual(['0.10.0-rc.1', '0.2.0', '0.1.0', '?']);
    expect(vm.units).toEqual([
      {
        path: '08/02500',
        name: 'Thị trấn Sơn Dương',
        byVersion: { '0.2.0': 1, '0.1.0': 1, '0.10.0-rc.1': 1 },
        total: 3,
      },
      { path: '08/02503', name: 'Xã Tân Trào', byVersion: { '?': 1 }, total: 1 },
    ]);
    expect(compareVersions('1.2.3', '1.2.3-rc.1')).toBeGreaterThan(0);
  });
});
