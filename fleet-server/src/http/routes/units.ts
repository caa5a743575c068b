/** Administrative units (tree by official codes), import from CSV/JSON, groups and zones. */
import { LoaError, unitCovers } from '@loa/protocol';
import { z } from 'zod';
import {
  type GroupRecord,
  GroupRecordSchema,
  type UnitRecord,
  UnitRecordSchema,
  type ZoneRecord,
  ZoneRecordSchema,
} from '../../domain/model.js';
import { ALL_UNITS, inScope, requireScope } from '../../domain/rbac.js';
import { csvToUnitInputs, GroupInputSchema, planUnitImport, UnitInputSchema } from '../../domain/units.js';
import type { Repository } from '../../store/ports.js';
import type { RouteContext } from '../route-context.js';
import { OkSchema } from '../schemas.js';

/**
 * Hono path parameter matching a unit path such as 08/02500, written plainly or with its slashes
 * encoded (`08%2F02500`, as a client generated from the OpenAPI document sends a path parameter);
 * the handler receives it decoded.
 */
export const UNIT_PARAM = ':path{[0-9]+(?:(?:/|%2[Ff])[0-9]+)*}';

const ImportSchema = z.strictObject({
  format: z.enum(['csv', 'json']),
  /** CSV text, or a JSON array of {code, name, level?, parent?}. */
  data: z.union([z.string().max(5_000_000), z.array(z.unknown()).max(50_000)]),
});
const UnitPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  level: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
});

export function registerUnitRoutes({ api, deps }: RouteContext): void {
  const { store, clock } = deps;
  const iso = () => new Date(clock.now()).toISOString();

  async function unitOr404(path: string): Promise<UnitRecord> {
    const u = await store.units.get(path);
    if (!u) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${path}`);
    return u;
  }

  api.add({
    method: 'get',
    path: '/units',
    summary: 'Units in my scope (each with its parent path), sorted by path',
    tags: ['units'],
    permission: 'read',
    response: z.array(UnitRecordSchema),
    handler: async ({ user }) =>
      (await store.units.list((u) => inScope(user, u.path))).sort((a, b) => a.path.localeCompare(b.path)),
  });

  api.add({
    method: 'get',
    path: `/units/${UNIT_PARAM}`,
    summary: 'One unit with its children, groups and zones',
    tags: ['units'],
    permission: 'read',
    response: z.object({
      unit: UnitRecordSchema,
      children: z.array(UnitRecordSchema),
      groups: z.array(GroupRecordSchema),
      zones: z.array(ZoneRecordSchema),
    }),
    handler: async ({ user, params }) => {
      const path = params.path;
      requireScope(user, path);
      const unit = await unitOr404(path);
      return {
        unit,
        children: await store.units.children(path),
        groups: await store.groups.list((g) => g.unit === path),
        zones: await store.zones.list((z) => z.unit === path),
      };
    },
  });

  api.add({
    method: 'post',
    path: '/units',
    summary: 'Create a unit under a parent in my scope',
    tags: ['units'],
    permission: 'unit.manage',
    status: 201,
    body: UnitInputSchema,
    response: UnitRecordSchema,
    errors: [409],
    handler: async ({ body, user, audit }) => {
      const existing = await store.units.list();
      const { units, errors } = planUnitImport([body], existing, iso());
      if (errors.length) throw new LoaError('UNIT_INVALID', errors.map((e) => e.message).join('; '));
      const unit = units[0] as UnitRecord;
      if (!user.scope.includes(ALL_UNITS)) requireScope(user, unit.parent ?? unit.path);
      if (existing.some((u) => u.path === unit.path))
        throw new LoaError('UNIT_EXISTS', `đơn vị ${unit.path} đã có`);
      await store.units.insert(unit);
      await audit('unit.create', { type: 'unit', id: unit.path }, { name: unit.name }, unit.path);
      return unit;
    },
  });

  api.add({
    method: 'post',
    path: '/units/import',
    summary: 'Import units from CSV or JSON: every line valid or nothing is stored',
    description:
      'CSV header: code,name[,level][,parent][,demo]. parent is the parent path or a unique code. ' +
      'Errors answer 400 UNIT_IMPORT_INVALID with details.errors [{line, message}].',
    tags: ['units'],
    permission: 'unit.manage',
    maxBodyBytes: 6 * 1024 * 1024,
    body: ImportSchema,
    response: z.object({ imported: z.number().int() }),
    handler: async ({ body, user, audit }) => {
      let inputs: unknown[];
      let lineOf: ((i: number) => number) | undefined;
      if (body.format === 'csv') {
        if (typeof body.data !== 'string') throw new LoaError('UNIT_IMPORT_INVALID', 'CSV phải là một chuỗi');
        ({ inputs, lineOf } = csvToUnitInputs(body.data));
      } else {
        if (!Array.isArray(body.data))
          throw new LoaError('UNIT_IMPORT_INVALID', 'JSON phải là một mảng đơn vị');
        inputs = body.data;
      }
      const existing = await store.units.list();
      const { units, errors } = planUnitImport(inputs, existing, iso(), lineOf);
      for (const u of units)
        if (!inScope(user, u.parent ?? u.path) && !user.scope.includes(ALL_UNITS))
          errors.push({ line: 0, message: `đơn vị ${u.path} nằm ngoài phạm vi được giao` });
      if (errors.length)
        throw new LoaError('UNIT_IMPORT_INVALID', `tệp có ${errors.length} lỗi, chưa nhập đơn vị nào`, {
          details: { errors: errors.slice(0, 500) },
        });
      const known = new Map(existing.map((u) => [u.path, u]));
      const merged = units.map((u) => {
        const old = known.get(u.path);
        return old ? { ...u, createdAt: old.createdAt } : u;
      });
      await store.units.putMany(merged);
      await audit('unit.import', undefined, { count: merged.length, format: body.format });
      return { imported: merged.length };
    },
  });

  api.add({
    method: 'patch',
    path: `/units/${UNIT_PARAM}`,
    summary: 'Rename a unit or change its level name',
    tags: ['units'],
    permission: 'unit.manage',
    body: UnitPatchSchema,
    response: UnitRecordSchema,
    handler: async ({ body, user, params, audit }) => {
      const path = params.path;
      requireScope(user, path);
      await unitOr404(path);
      const updated = await store.units.update(path, { ...body, updatedAt: iso() });
      await audit('unit.update', { type: 'unit', id: path }, body, path);
      return updated;
    },
  });

  api.add({
    method: 'delete',
    path: `/units/${UNIT_PARAM}`,
    summary: 'Delete a unit without children or devices',
    tags: ['units'],
    permission: 'unit.manage',
    response: OkSchema,
    errors: [409],
    handler: async ({ user, params, audit }) => {
      const path = params.path;
      requireScope(user, path);
      await unitOr404(path);
      if ((await store.units.children(path)).length)
        throw new LoaError('UNIT_CONFLICT', 'đơn vị còn đơn vị con, hãy xóa hoặc chuyển chúng trước');
      if ((await store.devices.count((d) => unitCovers(path, d.unit))) > 0)
        throw new LoaError('UNIT_CONFLICT', 'đơn vị còn thiết bị, hãy chuyển hoặc ngừng chúng trước');
      await store.units.delete(path);
      await audit('unit.delete', { type: 'unit', id: path }, undefined, path);
      return { ok: true };
    },
  });

  const sub = <T extends GroupRecord | ZoneRecord>(name: 'groups' | 'zones', repo: Repository<T>) => {
    const label = name === 'groups' ? 'nhóm' : 'vùng';
    api.add({
      method: 'post',
      path: `/units/${UNIT_PARAM}/${name}`,
      summary: `Create a ${name === 'groups' ? 'group' : 'zone'} in a unit`,
      tags: ['units'],
      permission: 'unit.manage',
      status: 201,
      body: GroupInputSchema,
      response: GroupRecordSchema,
      handler: async ({ body, user, params, audit }) => {
        const unit = params.path;
        requireScope(user, unit);
        await unitOr404(unit);
        const id = `${unit}:${body.id}`;
        if (await repo.get(id))
          throw new LoaError(`${name === 'groups' ? 'GROUP' : 'ZONE'}_EXISTS`, `${label} ${body.id} đã có`);
        const rec = { ...body, id, unit, createdAt: iso() } as T;
        await repo.insert(rec);
        await audit(
          `${name === 'groups' ? 'group' : 'zone'}.create`,
          { type: name, id },
          { name: body.name },
          unit,
        );
        return rec;
      },
    });
    api.add({
      method: 'delete',
      path: `/units/${UNIT_PARAM}/${name}/:id`,
      summary: `Delete a ${name === 'groups' ? 'group' : 'zone'}`,
      tags: ['units'],
      permission: 'unit.manage',
      response: OkSchema,
      handler: async ({ user, params, audit }) => {
        const unit = params.path;
        requireScope(user, unit);
        const id = `${unit}:${params.id}`;
        if (!(await repo.delete(id)))
          throw new LoaError(
            `${name === 'groups' ? 'GROUP' : 'ZONE'}_NOT_FOUND`,
            `không có ${label} ${params.id}`,
          );
        await audit(`${name === 'groups' ? 'group' : 'zone'}.delete`, { type: name, id }, undefined, unit);
        return { ok: true };
      },
    });
  };
  sub('groups', store.groups);
  sub('zones', store.zones);
}
