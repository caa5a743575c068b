/**
 * Fleet view model: pure functions from registry records plus the in-memory latest state
 * (presence, health, open alerts) to rows the pages render. No I/O, no clock reads.
 */

import { unitCovers } from '@loa/protocol';
import type { PresenceInfo } from '../../../broker/types.js';
import type { AlertRecord, DeviceRecord, HealthEntry, UnitRecord } from '../../../domain/model.js';
import { fold } from '../text.js';

export type DeviceState = 'online' | 'offline' | 'never' | 'pending' | 'revoked' | 'decommissioned';

export interface FleetRow {
  id: string;
  name: string;
  unit: string;
  unitName: string;
  kind: DeviceRecord['kind'];
  state: DeviceState;
  /** Latest of presence change and health receipt (ms), undefined when never seen. */
  lastSeen: number | undefined;
  alerts: number;
  /** Worst open alert rule, for the badge title. */
  alertRules: string[];
  onAir: string | undefined;
  bundles: string;
  volume: number | undefined;
  location: { lat: number; lon: number } | undefined;
}

export interface FleetFilter {
  unit?: string | undefined;
  state?: DeviceState | 'all' | undefined;
  alert?: 'with' | 'without' | 'all' | undefined;
  q?: string | undefined;
}

export interface FleetInputs {
  devices: readonly DeviceRecord[];
  units: ReadonlyMap<string, UnitRecord>;
  presence: (deviceId: string) => PresenceInfo | undefined;
  health: (deviceId: string) => HealthEntry | undefined;
  openAlerts: ReadonlyMap<string, AlertRecord[]>;
  /** Title of an item of a bundle, for "on air" (optional). */
  itemTitle?: (bundleId: string, itemId: string) => string | undefined;
  /** A channel's readable name (its newest published programme's description). */
  channelName?: (channel: string) => string | undefined;
}

export function deviceState(d: DeviceRecord, p: PresenceInfo | undefined): DeviceState {
  if (d.status !== 'active') return d.status;
  if (!p) return 'never';
  if (p.connected && p.presence?.state !== 'offline') return 'online';
  return 'offline';
}

/** Groups open (not resolved) alerts per device. */
export function openAlertsByDevice(alerts: readonly AlertRecord[]): Map<string, AlertRecord[]> {
  const out = new Map<string, AlertRecord[]>();
  for (const a of alerts) {
    if (a.state === 'resolved') continue;
    const list = out.get(a.deviceId);
    if (list) list.push(a);
    else out.set(a.deviceId, [a]);
  }
  return out;
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

export function fleetRow(d: DeviceRecord, inp: FleetInputs): FleetRow {
  const p = inp.presence(d.id);
  const h = inp.health(d.id);
  const alerts = inp.openAlerts.get(d.id) ?? [];
  const onAir = h?.health.onAir;
  return {
    id: d.id,
    name: d.name,
    unit: d.unit,
    unitName: inp.units.get(d.unit)?.name ?? d.unit,
    kind: d.kind,
    state: deviceState(d, p),
    lastSeen: latest(p?.since, h ? Date.parse(h.receivedAt) : undefined),
    alerts: alerts.length,
    alertRules: alerts.map((a) => a.rule),
    onAir: onAir
      ? ((onAir.bundleId && onAir.itemId ? inp.itemTitle?.(onAir.bundleId, onAir.itemId) : undefined) ??
        onAir.itemId ??
        onAir.kind)
      : undefined,
    bundles: (h?.health.bundles ?? [])
      .map((b) => `${inp.channelName?.(b.channel) ?? b.channel} v${b.version}`)
      .join(', '),
    volume: h?.health.volume,
    location: d.location,
  };
}

export function matchesFilter(r: FleetRow, f: FleetFilter): boolean {
  if (f.unit && !unitCovers(f.unit, r.unit)) return false;
  if (f.state && f.state !== 'all' && r.state !== f.state) return false;
  if (f.alert === 'with' && r.alerts === 0) return false;
  if (f.alert === 'without' && r.alerts > 0) return false;
  if (f.q) {
    // Diacritics ignored: "tan trao" finds "Xã Tân Trào".
    const q = fold(f.q);
    if (!fold(r.id).includes(q) && !fold(r.name).includes(q) && !fold(r.unitName).includes(q)) return false;
  }
  return true;
}

export interface FleetVm {
  /** The rows of the current page. */
  rows: FleetRow[];
  /** Rows matching the filter (all pages). */
  matching: number;
  page: number;
  pages: number;
  pageSize: number;
  total: number;
  counts: Record<DeviceState, number>;
  filter: FleetFilter;
  units: { path: string; name: string; depth: number }[];
}

const STATE_ORDER: Record<DeviceState, number> = {
  offline: 0,
  never: 1,
  pending: 2,
  online: 3,
  revoked: 4,
  decommissioned: 5,
};

/** Default rows per page: a phone still renders it; filters and pages reach the rest. */
export const FLEET_PAGE_SIZE = 500;

/** Rows sorted by unit then problems first (offline, alerts), then id; one page of them. */
export function buildFleet(
  inp: FleetInputs,
  filter: FleetFilter,
  paging: { page?: number; size?: number } = { size: Number.MAX_SAFE_INTEGER },
): FleetVm {
  const counts: Record<DeviceState, number> = {
    online: 0,
    offline: 0,
    never: 0,
    pending: 0,
    revoked: 0,
    decommissioned: 0,
  };
  const rows: FleetRow[] = [];
  for (const d of inp.devices) {
    const r = fleetRow(d, inp);
    counts[r.state]++;
    if (matchesFilter(r, filter)) rows.push(r);
  }
  rows.sort(
    (a, b) =>
      (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0) ||
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      b.alerts - a.alerts ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const units = [...inp.units.values()]
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((u) => ({ path: u.path, name: u.name, depth: u.path.split('/').length - 1 }));
  const size = Math.max(1, paging.size ?? FLEET_PAGE_SIZE);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const page = Math.min(pages, Math.max(1, paging.page ?? 1));
  const slice = rows.length > size ? rows.slice((page - 1) * size, page * size) : rows;
  return {
    rows: slice,
    matching: rows.length,
    page,
    pages,
    pageSize: size,
    total: inp.devices.length,
    counts,
    filter,
    units,
  };
}

export interface UnitSummary {
  path: string;
  name: string;
  total: number;
  online: number;
  offline: number;
  alerts: number;
}

/** Per-unit counts of devices (each device counted in its own unit). */
export function summarizeByUnit(rows: readonly FleetRow[]): UnitSummary[] {
  const by = new Map<string, UnitSummary>();
  for (const r of rows) {
    let s = by.get(r.unit);
    if (!s) {
      s = { path: r.unit, name: r.unitName, total: 0, online: 0, offline: 0, alerts: 0 };
      by.set(r.unit, s);
    }
    s.total++;
    if (r.state === 'online') s.online++;
    else if (r.state === 'offline' || r.state === 'never') s.offline++;
    if (r.alerts > 0) s.alerts++;
  }
  return [...by.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Map markers: devices with coordinates, plus unit label positions (mean of their devices). */
export function mapData(rows: readonly FleetRow[]): {
  points: { id: string; name: string; lat: number; lon: number; state: DeviceState; alerts: number }[];
  labels: { name: string; lat: number; lon: number }[];
  missing: number;
} {
  const points: { id: string; name: string; lat: number; lon: number; state: DeviceState; alerts: number }[] =
    [];
  const acc = new Map<string, { name: string; lat: number; lon: number; n: number }>();
  let missing = 0;
  for (const r of rows) {
    if (!r.location) {
      missing++;
      continue;
    }
    points.push({
      id: r.id,
      name: r.name,
      lat: r.location.lat,
      lon: r.location.lon,
      state: r.state,
      alerts: r.alerts,
    });
    const a = acc.get(r.unit) ?? { name: r.unitName, lat: 0, lon: 0, n: 0 };
    a.lat += r.location.lat;
    a.lon += r.location.lon;
    a.n++;
    acc.set(r.unit, a);
  }
  const labels = [...acc.values()].map((a) => ({ name: a.name, lat: a.lat / a.n, lon: a.lon / a.n }));
  return { points, labels, missing };
}
