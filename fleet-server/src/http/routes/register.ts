/**
 * The station register: list and export (JSON, CSV, XLSX) per unit, create, change, record a
 * repair, delete, and import a spreadsheet (CSV or XLSX as the raw body) all or nothing, with the
 * errors of every bad line.
 */
import { anyUnitCovers, LoaError } from '@loa/protocol';
import { z } from 'zod';
import { ALL_UNITS, inScope, requireScope } from '../../domain/rbac.js';
import {
  formatRepairs,
  parseRegisterSheet,
  REGISTER_COLUMNS,
  REGISTER_CONDITIONS,
  REGISTER_REPLACEMENT,
  REGISTER_TYPES,
  type RegisterEntry,
  RegisterEntrySchema,
  RegisterInputSchema,
  RepairSchema,
  repairCost,
} from '../../domain/register.js';
import type { Table } from '../../domain/reports/table.js';
import type { RouteContext } from '../route-context.js';
import { fileAnswer, pickFormat } from './reports.js';
import { readUploadedSheet } from './sheet-upload.js';

const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

export function registerTable(entries: readonly RegisterEntry[]): Table {
  return {
    name: 'Sổ thiết bị',
    columns: REGISTER_COLUMNS.map(([header, key]) => ({
      header,
      key,
      ...(key === 'lat' || key === 'lon' || key === 'installedYear' || key === 'repairCost'
        ? { kind: 'number' as const }
        : {}),
    })),
    rows: entries.map((e) => [
      e.id,
      e.unit,
      e.name,
      REGISTER_TYPES[e.type],
      e.address ?? null,
      e.lat ?? null,
      e.lon ?? null,
      e.installedYear ?? null,
      REGISTER_CONDITIONS[e.condition],
      e.lastInspection ?? null,
      REGISTER_REPLACEMENT[e.replacement],
      e.deviceId ?? null,
      formatRepairs(e.repairs) || null,
      repairCost(e),
      e.notes ?? null,
    ]),
  };
}

const EntryOut = RegisterEntrySchema.extend({
  typeName: z.string(),
  conditionName: z.string(),
  replacementName: z.string(),
  repairCostVnd: z.number(),
});
const withNames = (e: RegisterEntry) => ({
  ...e,
  typeName: REGISTER_TYPES[e.type],
  conditionName: REGISTER_CONDITIONS[e.condition],
  replacementName: REGISTER_REPLACEMENT[e.replacement],
  repairCostVnd: repairCost(e),
});

export function registerRegisterRoutes({ api, deps }: RouteContext): void {
  const { store, clock } = deps;
  const now = () => new Date(clock.now()).toISOString();
  const checkEntry = async (e: { unit: string; deviceId?: string | undefined }) => {
    if (!(await store.units.get(e.unit))) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${e.unit}`);
    if (e.deviceId) {
      const d = await store.devices.get(e.deviceId);
      if (!d) throw new LoaError('DEVICE_NOT_FOUND', `không có thiết bị ${e.deviceId}`);
      if (d.unit !== e.unit)
        throw new LoaError(
          'REGISTER_DEVICE_UNIT',
          `thiết bị ${e.deviceId} thuộc đơn vị ${d.unit}, không phải ${e.unit}`,
        );
    }
  };
  const getScoped = async (id: string, user: { scope: readonly string[] }) => {
    const e = await store.register.get(id);
    if (!e || !inScope(user, e.unit)) throw new LoaError('REGISTER_NOT_FOUND', `không có mục ${id} trong sổ`);
    return e;
  };

  api.add({
    method: 'get',
    path: '/register',
    summary:
      'The station register of a unit (loudspeaker clusters and noticeboards, legacy FM/wired included)',
    description: '`format=csv|xlsx` (or Accept) exports the same columns the import reads.',
    tags: ['register'],
    permission: 'read',
    query: z.strictObject({
      unit: z.string().max(64).optional(),
      type: z.string().max(32).optional(),
      replacement: z.string().max(32).optional(),
      format: z.enum(['json', 'csv', 'xlsx']).optional(),
    }),
    response: z.array(EntryOut),
    handler: async ({ c, query, user }) => {
      if (query.unit) requireScope(user, query.unit);
      const scope = query.unit ? [query.unit] : user.scope;
      const all = scope.includes(ALL_UNITS);
      const list = (
        await store.register.list(
          (e) =>
            (all || anyUnitCovers(scope, e.unit)) &&
            (!query.type || e.type === query.type) &&
            (!query.replacement || e.replacement === query.replacement),
        )
      ).sort((a, b) => a.unit.localeCompare(b.unit) || a.id.localeCompare(b.id));
      const format = pickFormat(c, query.format);
      if (format === 'json') return list.map(withNames);
      if (format === 'pdf')
        throw new LoaError(
          'REPORT_FORMAT_UNSUPPORTED',
          'sổ thiết bị xuất được CSV hoặc Excel, không phải PDF',
        );
      return fileAnswer(
        c,
        format,
        [registerTable(list)],
        `loa-so-thiet-bi-${(query.unit ?? 'tat-ca').replace(/\//g, '-')}`,
        'Sổ thiết bị',
      );
    },
  });

  api.add({
    method: 'post',
    path: '/register',
    summary: 'Add an entry to the register',
    tags: ['register'],
    permission: 'register.manage',
    body: RegisterInputSchema,
    response: EntryOut,
    status: 201,
    errors: [404, 409],
    handler: async ({ body, user, audit }) => {
      requireScope(user, body.unit);
      await checkEntry(body);
      const e = await store.register.insert({ ...body, createdAt: now(), updatedAt: now() });
      await audit('register.create', { type: 'register', id: e.id }, undefined, e.unit);
      return withNames(e);
    },
  });

  api.add({
    method: 'patch',
    path: '/register/:id',
    summary: 'Change an entry (condition, inspection, replacement status, link to a device, …)',
    tags: ['register'],
    permission: 'register.manage',
    body: RegisterInputSchema.omit({ id: true }).partial(),
    response: EntryOut,
    handler: async ({ params, body, user, audit }) => {
      const old = await getScoped(params.id, user);
      const next = { ...old, ...body, updatedAt: now() };
      requireScope(user, next.unit);
      await checkEntry(next);
      const e = await store.register.put(RegisterEntrySchema.parse(next));
      await audit('register.update', { type: 'register', id: e.id }, { fields: Object.keys(body) }, e.unit);
      return withNames(e);
    },
  });

  api.add({
    method: 'post',
    path: '/register/:id/repairs',
    summary: 'Record a repair (date, what was done, cost in đồng)',
    tags: ['register'],
    permission: 'register.manage',
    body: RepairSchema,
    response: EntryOut,
    status: 201,
    handler: async ({ params, body, user, audit }) => {
      const old = await getScoped(params.id, user);
      const e = await store.register.update(old.id, { repairs: [...old.repairs, body], updatedAt: now() });
      await audit('register.repair', { type: 'register', id: e.id }, { costVnd: body.costVnd }, e.unit);
      return withNames(e);
    },
  });

  api.add({
    method: 'delete',
    path: '/register/:id',
    summary: 'Remove an entry',
    tags: ['register'],
    permission: 'register.manage',
    status: 204,
    handler: async ({ params, user, audit }) => {
      const old = await getScoped(params.id, user);
      await store.register.delete(old.id);
      await audit('register.delete', { type: 'register', id: old.id }, undefined, old.unit);
      return undefined;
    },
  });

  api.add({
    method: 'post',
    path: '/register/import',
    summary: 'Import a register spreadsheet (CSV or XLSX as the raw body): all rows or none',
    description:
      'The columns of the export (Vietnamese headers). Every bad line is reported (REGISTER_IMPORT_INVALID, details.errors: line, field, message) and nothing is stored. A row whose id exists replaces that entry.',
    tags: ['register'],
    permission: 'register.manage',
    maxBodyBytes: MAX_IMPORT_BYTES,
    response: z.object({ imported: z.number().int(), created: z.number().int(), replaced: z.number().int() }),
    errors: [413, 415],
    handler: async ({ c, user, audit }) => {
      const rows = await readUploadedSheet(c, MAX_IMPORT_BYTES, 'REGISTER');
      const units = new Set((await store.units.list()).map((u) => u.path));
      const devices = new Map((await store.devices.list()).map((d) => [d.id, d.unit]));
      const existing = new Map((await store.register.list()).map((e) => [e.id, e]));
      const { entries, errors } = parseRegisterSheet(rows, {
        unitExists: (u) => units.has(u),
        inScope: (u) => inScope(user, u),
        deviceUnit: (id) => devices.get(id),
      });
      // an id already in the register outside the caller's scope is not theirs to replace
      entries.forEach((e, i) => {
        const old = existing.get(e.id);
        if (old && !inScope(user, old.unit))
          errors.push({ line: i + 2, field: 'Mã', message: `mã ${e.id} đã thuộc một đơn vị khác` });
      });
      if (errors.length > 0)
        throw new LoaError('REGISTER_IMPORT_INVALID', `tệp có ${errors.length} lỗi; chưa nhập dòng nào`, {
          details: { errors: errors.sort((a, b) => a.line - b.line).slice(0, 500) },
        });
      const at = now();
      let replaced = 0;
      for (const e of entries) {
        const old = existing.get(e.id);
        if (old) replaced++;
        await store.register.put({ ...e, createdAt: old?.createdAt ?? at, updatedAt: at });
      }
      await audit('register.import', undefined, { rows: entries.length, replaced });
      return { imported: entries.length, created: entries.length - replaced, replaced };
    },
  });
}
