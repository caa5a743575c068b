/**
 * The releases page's view model (pure): agent releases with who signed them, their staged
 * rollout (canary → unit → all), why one halted, and the fleet's agent versions per unit with
 * the stations that failed or went back, all by name. Built from what the JSON API returns.
 */

export type Stage = 'canary' | 'unit' | 'all';
export const STAGES: readonly Stage[] = ['canary', 'unit', 'all'];

export interface ReleaseIn {
  release: {
    id: string;
    version: number;
    agentVersion: string;
    created: string;
    notes?: string;
    targets: { unit: string }[];
    signatures: { keyid: string }[];
  };
  uploadedAt: string;
  uploadedBy: string;
  stages: { stage: Stage; devices: string[]; unit?: string; at: string; by: string }[];
  halted?: { deviceId?: string; reason: string; at: string; by?: string };
}

export interface RolloutEntryIn {
  deviceId: string;
  state: string;
  reason?: string;
  updatedAt: string;
}

export interface FleetVersionsIn {
  devices: { id: string; unit: string; agentVersion: string; online: boolean }[];
}

export interface Names {
  device: (id: string) => string;
  unit: (path: string) => string;
  key: (keyid: string) => string;
  user: (id: string) => string;
  /** The unit path a station belongs to (undefined when it is not in the caller's scope). */
  deviceUnit: (id: string) => string | undefined;
}

export interface StationRef {
  id: string;
  name: string;
  unit: string;
  reason?: string;
}

export interface ReleaseRow {
  id: string;
  agentVersion: string;
  version: number;
  notes?: string;
  targets: string[];
  signedBy: string[];
  uploadedAt: string;
  uploadedBy: string;
  stages: { stage: Stage; unit?: string; count: number; at: string; by: string }[];
  counts: { sent: number; ready: number; inProgress: number; failed: number };
  failed: StationRef[];
  /** Stations of the stages so far that are not ready yet (the next stage waits for them). */
  waiting: StationRef[];
  halted?: { reason: string; at: string; station?: string; by?: string };
  /** The stages that may be started now (the unit stage repeats, one unit at a time, until "all"). */
  next: Stage[];
  /** Units offered for the unit stage (target units and their children seen in the fleet). */
  unitChoices: { path: string; name: string }[];
}

export interface VersionsVm {
  versions: { version: string; devices: number; online: number }[];
  units: { path: string; name: string; byVersion: Record<string, number>; total: number }[];
}

export function releaseRows(
  releases: readonly ReleaseIn[],
  rollouts: ReadonlyMap<string, readonly RolloutEntryIn[]>,
  fleetUnits: readonly string[],
  names: Names,
): ReleaseRow[] {
  return releases.map((r) => {
    const entries = rollouts.get(r.release.id) ?? [];
    const state = new Map(entries.map((e) => [e.deviceId, e] as const));
    const sent = [...new Set(r.stages.flatMap((s) => s.devices))];
    const ref = (id: string, reason?: string): StationRef => {
      const unit = names.deviceUnit(id) ?? '';
      return {
        id,
        name: names.device(id),
        unit: unit ? names.unit(unit) : '',
        ...(reason ? { reason } : {}),
      };
    };
    const failed = entries.filter((e) => e.state === 'failed').map((e) => ref(e.deviceId, e.reason));
    const ready = sent.filter((id) => state.get(id)?.state === 'playing');
    const waiting = sent.filter((id) => {
      const s = state.get(id)?.state;
      return s !== 'playing' && s !== 'failed';
    });
    const doneStages = new Set(r.stages.map((s) => s.stage));
    const next: Stage[] =
      r.halted || doneStages.has('all')
        ? []
        : !doneStages.has('canary')
          ? ['canary']
          : !doneStages.has('unit')
            ? ['unit']
            : ['unit', 'all'];
    const targets = r.release.targets.map((t) => t.unit);
    const unitChoices = [
      ...new Set([...targets, ...fleetUnits.filter((u) => targets.some((t) => covers(t, u)))]),
    ]
      .sort()
      .map((path) => ({ path, name: names.unit(path) }));
    const row: ReleaseRow = {
      id: r.release.id,
      agentVersion: r.release.agentVersion,
      version: r.release.version,
      targets: targets.map((u) => names.unit(u)),
      signedBy: r.release.signatures.map((s) => names.key(s.keyid)),
      uploadedAt: r.uploadedAt,
      uploadedBy: names.user(r.uploadedBy),
      stages: r.stages.map((s) => ({
        stage: s.stage,
        ...(s.unit ? { unit: names.unit(s.unit) } : {}),
        count: s.devices.length,
        at: s.at,
        by: names.user(s.by),
      })),
      counts: {
        sent: sent.length,
        ready: ready.length,
        inProgress: waiting.length,
        failed: failed.length,
      },
      failed,
      waiting: waiting.map((id) => ref(id)),
      next,
      unitChoices,
    };
    if (r.release.notes) row.notes = r.release.notes;
    if (r.halted)
      row.halted = {
        reason: r.halted.reason,
        at: r.halted.at,
        ...(r.halted.deviceId ? { station: names.device(r.halted.deviceId) } : {}),
        ...(r.halted.by ? { by: names.user(r.halted.by) } : {}),
      };
    return row;
  });
}

/** Versions across the fleet, and per unit how many stations run each one. */
export function versionsVm(fleet: FleetVersionsIn, names: Names): VersionsVm {
  const versions = new Map<string, { version: string; devices: number; online: number }>();
  const units = new Map<string, VersionsVm['units'][number]>();
  for (const d of fleet.devices) {
    const v = versions.get(d.agentVersion) ?? { version: d.agentVersion, devices: 0, online: 0 };
    v.devices++;
    if (d.online) v.online++;
    versions.set(d.agentVersion, v);
    const u = units.get(d.unit) ?? { path: d.unit, name: names.unit(d.unit), byVersion: {}, total: 0 };
    u.byVersion[d.agentVersion] = (u.byVersion[d.agentVersion] ?? 0) + 1;
    u.total++;
    units.set(d.unit, u);
  }
  return {
    versions: [...versions.values()].sort((a, b) => compareVersions(b.version, a.version)),
    units: [...units.values()].sort((a, b) => a.name.localeCompare(b.name, 'vi')),
  };
}

/** Newer first by semantic version; "?" (no health yet) last. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '?') return -1;
  if (b === '?') return 1;
  const pa = a.split(/[.-]/).map((x) => (Number.isNaN(Number(x)) ? x : Number(x)));
  const pb = b.split(/[.-]/).map((x) => (Number.isNaN(Number(x)) ? x : Number(x)));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (x === undefined) return 1; // 1.2.3 > 1.2.3-rc.1
    if (y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x).localeCompare(String(y));
  }
  return 0;
}

const covers = (parent: string, child: string) => child === parent || child.startsWith(`${parent}/`);
