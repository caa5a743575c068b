/** Read-side loaders: registry + in-memory latest state, scoped to the operator. Read-only. */

import type { AlertRecord, DeviceRecord, UnitRecord } from '../../domain/model.js';
import { ALL_UNITS, inScope } from '../../domain/rbac.js';
import type { AuthUser } from '../auth.js';
import type { UiServer } from './shared.js';
import { type FleetInputs, openAlertsByDevice } from './view-models/fleet.js';

export async function scopedDevices(s: UiServer, user: Pick<AuthUser, 'scope'>): Promise<DeviceRecord[]> {
  if (user.scope.includes(ALL_UNITS)) return s.deps.store.devices.list();
  return s.deps.store.devices.inUnits(user.scope);
}

export async function unitMap(s: UiServer, user: Pick<AuthUser, 'scope'>): Promise<Map<string, UnitRecord>> {
  const all = await s.deps.store.units.list();
  const out = new Map<string, UnitRecord>();
  for (const u of all) if (inScope(user, u.path)) out.set(u.path, u);
  return out;
}

export async function openAlerts(s: UiServer, user: Pick<AuthUser, 'scope'>): Promise<AlertRecord[]> {
  return s.deps.store.alerts.list((a) => a.state !== 'resolved' && inScope(user, a.unit));
}

export async function fleetInputs(
  s: UiServer,
  user: Pick<AuthUser, 'scope'>,
  devices?: DeviceRecord[],
): Promise<FleetInputs> {
  const [devs, units, alerts, bundles] = await Promise.all([
    devices ? Promise.resolve(devices) : scopedDevices(s, user),
    unitMap(s, user),
    openAlerts(s, user),
    s.deps.store.bundles.list((b) => b.state === 'published'),
  ]);
  const titles = new Map<string, string>();
  for (const b of bundles) for (const it of b.manifest.items) titles.set(`${b.id}|${it.id}`, it.title);
  return {
    devices: devs,
    units,
    presence: (id) => s.deps.broker.presence(id),
    health: (id) => s.deps.store.health.latest(id),
    openAlerts: openAlertsByDevice(alerts),
    itemTitle: (bundleId, itemId) => titles.get(`${bundleId}|${itemId}`),
  };
}

/** Display names of users by id (records keep user ids); unknown ids map to themselves. */
export async function userNames(s: UiServer, ids: (string | undefined)[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(ids.filter((x): x is string => typeof x === 'string'))) {
    const u = (await s.deps.store.users.get(id)) ?? (await s.deps.store.users.byUsername(id));
    if (u) out.set(id, u.displayName || u.username);
  }
  return out;
}
