/** Devices: list and detail in scope (with presence and latest health), edit, approve, revoke, decommission. */
import { IdSchema, LoaError, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { type DeviceRecord, HealthEntrySchema, RolloutRecordSchema } from '../../domain/model.js';
import { ALL_UNITS, inScope, requireScope } from '../../domain/rbac.js';
import type { RouteContext } from '../route-context.js';
import { DeviceViewSchema, PublicDeviceSchema } from '../schemas.js';

export type PublicDevice = Omit<DeviceRecord, 'mqttPasswordHash'>;
export function publicDevice(d: DeviceRecord): PublicDevice {
  const { mqttPasswordHash: _h, ...rest } = d;
  return rest;
}

/** A device with its live state (presence, latest health), as lists and pages show it. */
export function deviceView(deps: Pick<Deps, 'broker' | 'store'>, d: DeviceRecord) {
  const p = deps.broker.presence(d.id);
  const h = deps.store.health.latest(d.id);
  return {
    ...publicDevice(d),
    online: p?.connected ?? false,
    presence: p?.presence ?? null,
    presenceSince: p ? new Date(p.since).toISOString() : null,
    lastHealthAt: h?.receivedAt ?? null,
    health: h?.health ?? null,
  };
}

const ListQuery = z.strictObject({
  unit: UnitPathSchema.optional(),
  status: z.enum(['pending', 'active', 'revoked', 'decommissioned']).optional(),
  online: z.enum(['true', 'false']).optional(),
  q: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(20_000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});
/** As many zones as a programme may name (the manifest's limit). */
const MAX_ZONES = 16;
const PatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  unit: UnitPathSchema.optional(),
  groups: z.array(IdSchema).max(32).optional(),
  location: z
    .strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })
    .optional(),
  /** The station's loudspeaker zones by name; ids as in its configuration (what programmes choose). */
  zones: z
    .array(z.strictObject({ id: IdSchema, name: z.string().trim().min(1).max(100) }))
    .max(MAX_ZONES)
    .refine((zs) => new Set(zs.map((x) => x.id)).size === zs.length, 'mỗi mã vùng loa chỉ một lần')
    .optional(),
});
const HealthQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(720),
});
const ReasonSchema = z.strictObject({ reason: z.string().trim().max(500).optional() });

export function registerDeviceRoutes({ api, deps }: RouteContext): void {
  const { store, clock, broker } = deps;
  const iso = () => new Date(clock.now()).toISOString();

  async function deviceInScope(user: { scope: string[] }, id: string): Promise<DeviceRecord> {
    const d = await store.devices.get(id);
    // out of scope looks the same as absent: no probing of other communes' device ids
    if (!d || !inScope(user, d.unit)) throw new LoaError('DEVICE_NOT_FOUND', `không tìm thấy thiết bị ${id}`);
    return d;
  }

  api.add({
    method: 'get',
    path: '/devices',
    summary: 'Devices in my scope with presence and latest health',
    tags: ['devices'],
    permission: 'read',
    query: ListQuery,
    response: z.object({ total: z.number().int(), devices: z.array(DeviceViewSchema) }),
    handler: async ({ user, query }) => {
      if (query.unit) requireScope(user, query.unit);
      const scope = query.unit ? [query.unit] : user.scope;
      const all = scope.includes(ALL_UNITS) ? await store.devices.list() : await store.devices.inUnits(scope);
      const q = query.q?.toLowerCase();
      const rows = all
        .filter((d) => !query.status || d.status === query.status)
        .filter((d) => !q || d.id.toLowerCase().includes(q) || d.name.toLowerCase().includes(q))
        .map((d) => deviceView(deps, d))
        .filter((d) => query.online === undefined || String(d.online) === query.online)
        .sort((a, b) => a.id.localeCompare(b.id));
      return { total: rows.length, devices: rows.slice(query.offset, query.offset + query.limit) };
    },
  });

  api.add({
    method: 'get',
    path: '/devices/:id',
    summary: 'One device with presence, latest health and rollouts',
    tags: ['devices'],
    permission: 'read',
    response: DeviceViewSchema.extend({ rollouts: z.array(RolloutRecordSchema) }),
    handler: async ({ user, params }) => {
      const d = await deviceInScope(user, params.id);
      return { ...deviceView(deps, d), rollouts: await store.rollouts.forDevice(d.id) };
    },
  });

  api.add({
    method: 'get',
    path: '/devices/:id/health',
    summary: 'Health reports of one device over a time range (newest `limit`, in order)',
    description:
      'Reads the append-only health segments of the days in range; keep ranges short at fleet scale.',
    tags: ['devices'],
    permission: 'read',
    query: HealthQuery,
    response: z.object({
      deviceId: z.string(),
      from: z.string(),
      to: z.string(),
      entries: z.array(HealthEntrySchema),
    }),
    handler: async ({ user, params, query }) => {
      const d = await deviceInScope(user, params.id);
      const to = query.to ?? new Date(clock.now()).toISOString();
      const from = query.from ?? new Date(Date.parse(to) - 6 * 3600_000).toISOString();
      if (Date.parse(from) > Date.parse(to))
        throw new LoaError('VALIDATION_FAILED', '"from" phải trước "to"');
      return {
        deviceId: d.id,
        from,
        to,
        entries: await store.health.query({ deviceId: d.id, from, to, limit: query.limit }),
      };
    },
  });

  api.add({
    method: 'patch',
    path: '/devices/:id',
    summary: 'Rename, move to another unit in scope, set groups, location or loudspeaker zone names',
    tags: ['devices'],
    permission: 'device.manage',
    body: PatchSchema,
    response: PublicDeviceSchema,
    handler: async ({ user, params, body, audit }) => {
      const d = await deviceInScope(user, params.id);
      if (body.unit) {
        requireScope(user, body.unit);
        if (!(await store.units.get(body.unit)))
          throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${body.unit}`);
      }
      const updated = await store.devices.update(d.id, { ...body, updatedAt: iso() });
      if (body.unit && body.unit !== d.unit) broker.disconnect(d.id); // re-subscribes to its new unit topics
      await audit('device.update', { type: 'device', id: d.id }, body, updated.unit);
      return publicDevice(updated);
    },
  });

  api.add({
    method: 'post',
    path: '/devices/:id/approve',
    summary: 'Approve a pending device (it may then connect)',
    tags: ['devices'],
    permission: 'device.approve',
    response: PublicDeviceSchema,
    handler: async ({ user, params, audit }) => {
      const d = await deviceInScope(user, params.id);
      if (d.status !== 'pending')
        throw new LoaError('DEVICE_CONFLICT', `thiết bị đang ở trạng thái ${d.status}, không chờ duyệt`);
      const now = iso();
      const updated = await store.devices.update(d.id, {
        status: 'active',
        approvedAt: now,
        approvedBy: user.username,
        updatedAt: now,
      });
      await audit('device.approve', { type: 'device', id: d.id }, undefined, d.unit);
      return publicDevice(updated);
    },
  });

  for (const action of ['revoke', 'decommission'] as const) {
    api.add({
      method: 'post',
      path: `/devices/:id/${action}`,
      summary:
        action === 'revoke'
          ? 'Revoke a device: its credentials stop working at once, its connection is closed'
          : 'Decommission a device (removed from service; history kept)',
      tags: ['devices'],
      permission: 'device.manage',
      body: ReasonSchema,
      response: PublicDeviceSchema,
      handler: async ({ user, params, body, audit }) => {
        const d = await deviceInScope(user, params.id);
        if (d.status === 'decommissioned') throw new LoaError('DEVICE_CONFLICT', 'thiết bị đã ngừng sử dụng');
        const now = iso();
        const updated = await store.devices.update(d.id, {
          status: action === 'revoke' ? 'revoked' : 'decommissioned',
          revokedAt: now,
          revokedBy: user.username,
          ...(body.reason ? { revokedReason: body.reason } : {}),
          updatedAt: now,
        });
        await store.flush(); // a revocation must survive a crash once answered
        broker.forgetCredentials(d.id);
        broker.disconnect(d.id);
        await audit(
          `device.${action}`,
          { type: 'device', id: d.id },
          body.reason ? { reason: body.reason } : undefined,
          d.unit,
        );
        return publicDevice(updated);
      },
    });
  }
}
