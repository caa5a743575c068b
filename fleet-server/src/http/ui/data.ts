/** Read-side loaders: registry + in-memory latest state, scoped to the operator. Read-only. */

import type { AlertRecord, DeviceRecord, UnitRecord, UserRecord } from '../../domain/model.js';
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
  const channels = new Map<string, { version: number; name: string }>();
  for (const b of bundles) {
    const cur = channels.get(b.channel);
    if (b.manifest.description && (!cur || b.version > cur.version))
      channels.set(b.channel, { version: b.version, name: b.manifest.description });
  }
  return {
    devices: devs,
    units,
    presence: (id) => s.deps.broker.presence(id),
    health: (id) => s.deps.store.health.latest(id),
    openAlerts: openAlertsByDevice(alerts),
    itemTitle: (bundleId, itemId) => titles.get(`${bundleId}|${itemId}`),
    channelName: (channel) => channels.get(channel)?.name,
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

/** Who holds a signing key: a user's server-held key (name and dashboard role) or a policy delegation. */
export interface Signer {
  name: string;
  /** The user's dashboard role, when the key is a user's. */
  role?: UserRecord['role'];
  /** The trust policy's roles for a delegated key that no user holds. */
  trustRoles?: string[];
}

/** Signers by key id; a key neither a user nor the policy names is absent (shown by its id). */
export async function signerNames(s: UiServer, keyids: readonly string[]): Promise<Map<string, Signer>> {
  const out = new Map<string, Signer>();
  const policy = (await s.deps.store.trust.current())?.policy;
  for (const keyid of new Set(keyids)) {
    const key = await s.deps.store.signingKeys.get(keyid);
    const user = key ? await s.deps.store.users.get(key.userId) : undefined;
    if (user) {
      out.set(keyid, { name: user.displayName || user.username, role: user.role });
      continue;
    }
    const d = policy?.keys.find((k) => k.keyid === keyid);
    if (d?.name) out.set(keyid, { name: d.name, trustRoles: d.roles });
  }
  return out;
}
