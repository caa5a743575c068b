/** Overview view model (pure): fleet totals, per-unit status, open alerts, today's programme. */
import type { Proof } from '@loa/protocol';
import { unitCovers } from '@loa/protocol';
import type { AlertRecord, BundleRecord, DeviceRecord } from '../../../domain/model.js';
import { type DeviceState, type FleetRow, summarizeByUnit, type UnitSummary } from './fleet.js';
import {
  itemsByOutput,
  type Output,
  outputOfDevice,
  playedBySlot,
  slotKey,
  slotsForDay,
} from './programme.js';

export interface ProgrammeRow {
  bundleId: string;
  channel: string;
  /** The programme's description (what people call it), empty when it has none. */
  programme: string;
  entryId: string;
  at: number;
  /** Stations (audio) or noticeboards (display): a slot with both is two rows. */
  output: Output;
  titles: string[];
  priority: 'normal' | 'priority' | 'emergency';
  /** Devices the slot is planned on (active targeted devices that have this output). */
  planned: number;
  played: number;
  /** True when the slot's time has passed (only past slots count as missed). */
  due: boolean;
}

export interface OverviewVm {
  counts: Record<DeviceState, number>;
  total: number;
  units: UnitSummary[];
  alerts: AlertRecord[];
  day: string;
  programme: ProgrammeRow[];
  plannedDue: number;
  playedDue: number;
  /** Due slots per output: loudspeakers and noticeboards are rated apart. */
  dueBy: Record<Output, { planned: number; played: number }>;
}

/** Active devices a bundle targets (unit subtree, narrowed by groups/devices when given). */
export function targetedDevices(b: BundleRecord, devices: readonly DeviceRecord[]): DeviceRecord[] {
  return devices.filter(
    (d) =>
      d.status === 'active' &&
      b.manifest.targets.some(
        (t) =>
          unitCovers(t.unit, d.unit) &&
          (!t.devices || t.devices.includes(d.id)) &&
          (!t.groups || t.groups.some((g) => d.groups.includes(g))),
      ),
  );
}

export function buildProgramme(
  bundles: readonly BundleRecord[],
  devices: readonly DeviceRecord[],
  proofs: Iterable<Proof>,
  dayStartMs: number,
  nowMs: number,
): {
  rows: ProgrammeRow[];
  plannedDue: number;
  playedDue: number;
  dueBy: Record<Output, { planned: number; played: number }>;
} {
  const played = playedBySlot(proofs);
  const rows: ProgrammeRow[] = [];
  for (const b of bundles) {
    if (b.state !== 'published') continue;
    const targeted = targetedDevices(b, devices);
    if (targeted.length === 0) continue;
    for (const slot of slotsForDay(b.manifest, dayStartMs)) {
      const who = played.get(slotKey(slot.bundleId, slot.entryId, slot.at));
      for (const [output, itemIds] of itemsByOutput(b.manifest, slot.itemIds)) {
        const on = targeted.filter((d) => outputOfDevice(d.kind) === output);
        if (on.length === 0) continue;
        let n = 0;
        for (const d of on) if (who?.has(d.id)) n++;
        rows.push({
          bundleId: slot.bundleId,
          channel: slot.channel,
          programme: b.manifest.description ?? '',
          entryId: slot.entryId,
          at: slot.at,
          output,
          titles: itemIds.map((id) => b.manifest.items.find((i) => i.id === id)?.title ?? id),
          priority: slot.priority,
          planned: on.length,
          played: n,
          due: slot.at <= nowMs,
        });
      }
    }
  }
  rows.sort((a, b) => a.at - b.at || (a.channel < b.channel ? -1 : 1) || (a.output < b.output ? -1 : 1));
  let plannedDue = 0;
  let playedDue = 0;
  const dueBy = { audio: { planned: 0, played: 0 }, display: { planned: 0, played: 0 } };
  for (const r of rows)
    if (r.due) {
      plannedDue += r.planned;
      playedDue += r.played;
      dueBy[r.output].planned += r.planned;
      dueBy[r.output].played += r.played;
    }
  return { rows, plannedDue, playedDue, dueBy };
}

export function buildOverview(inp: {
  rows: readonly FleetRow[];
  alerts: readonly AlertRecord[];
  bundles: readonly BundleRecord[];
  devices: readonly DeviceRecord[];
  proofs: Iterable<Proof>;
  day: string;
  dayStartMs: number;
  nowMs: number;
}): OverviewVm {
  const counts: Record<DeviceState, number> = {
    online: 0,
    offline: 0,
    never: 0,
    pending: 0,
    revoked: 0,
    decommissioned: 0,
  };
  for (const r of inp.rows) counts[r.state]++;
  const prog = buildProgramme(inp.bundles, inp.devices, inp.proofs, inp.dayStartMs, inp.nowMs);
  const sev = { critical: 0, warning: 1, info: 2 } as const;
  const alerts = [...inp.alerts]
    .filter((a) => a.state !== 'resolved')
    .sort((a, b) => sev[a.severity] - sev[b.severity] || Date.parse(b.openedAt) - Date.parse(a.openedAt));
  return {
    counts,
    total: inp.rows.length,
    units: summarizeByUnit(inp.rows),
    alerts,
    day: inp.day,
    programme: prog.rows,
    plannedDue: prog.plannedDue,
    playedDue: prog.playedDue,
    dueBy: prog.dueBy,
  };
}
