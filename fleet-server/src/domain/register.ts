/**
 * The station register (pure): every loudspeaker cluster and noticeboard of a unit, including
 * legacy FM and wired equipment that runs no agent, with its condition, inspections, repairs and
 * replacement status; an entry may link to the enrolled device that runs the agent. Spreadsheet
 * rows are checked here line by line: an import is taken whole or not at all.
 */
import { z } from 'zod';
import { Instant } from './model.js';
import { fold, type ImportError } from './sheet.js';

export type { ImportError };

export const REGISTER_TYPES = {
  'ip-station': 'Cụm loa IP/4G',
  'fm-cluster': 'Cụm loa FM không dây',
  'wired-cluster': 'Cụm loa có dây',
  'noticeboard-led': 'Bảng tin điện tử LED',
  'noticeboard-lcd': 'Bảng tin điện tử LCD',
  'integration-device': 'Thiết bị tích hợp FM/có dây',
  other: 'Khác',
} as const;
export const REGISTER_CONDITIONS = { good: 'Tốt', fair: 'Trung bình', poor: 'Kém', broken: 'Hỏng' } as const;
export const REGISTER_REPLACEMENT = {
  keep: 'Tiếp tục sử dụng',
  repair: 'Cần sửa chữa',
  planned: 'Dự kiến thay thế',
  replaced: 'Đã thay thế',
} as const;

type Keys<T> = [keyof T & string, ...(keyof T & string)[]];
const keysOf = <T extends object>(o: T) => Object.keys(o) as Keys<T>;
export const RegisterTypeSchema = z.enum(keysOf(REGISTER_TYPES));
export const RegisterConditionSchema = z.enum(keysOf(REGISTER_CONDITIONS));
export const RegisterReplacementSchema = z.enum(keysOf(REGISTER_REPLACEMENT));

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'ngày dạng YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().startsWith(d);
  }, 'ngày không có thật');

export const RepairSchema = z.strictObject({
  date: Day,
  description: z.string().min(1).max(500),
  /** Cost in đồng. */
  costVnd: z.number().int().min(0).max(10_000_000_000),
});
export type Repair = z.infer<typeof RepairSchema>;

/** What an official enters (by form, API or spreadsheet). */
export const RegisterInputSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'mã gồm chữ, số, dấu chấm, gạch (tối đa 64 ký tự)'),
  unit: z.string().min(2).max(64),
  name: z.string().min(1).max(200),
  type: RegisterTypeSchema,
  address: z.string().max(300).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  installedYear: z.number().int().min(1950).max(2100).optional(),
  condition: RegisterConditionSchema,
  lastInspection: Day.optional(),
  /** Photos: SHA-256 of image blobs in the content store. */
  photos: z
    .array(z.string().regex(/^[0-9a-f]{64}$/))
    .max(20)
    .default([]),
  repairs: z.array(RepairSchema).max(200).default([]),
  replacement: RegisterReplacementSchema.default('keep'),
  /** The enrolled device (running the agent) this entry is. */
  deviceId: z.string().max(128).optional(),
  notes: z.string().max(2000).optional(),
});
export type RegisterInput = z.input<typeof RegisterInputSchema>;

export const RegisterEntrySchema = RegisterInputSchema.extend({
  createdAt: Instant,
  updatedAt: Instant,
});
export type RegisterEntry = z.infer<typeof RegisterEntrySchema>;

export const repairCost = (e: Pick<RegisterEntry, 'repairs'>): number =>
  e.repairs.reduce((n, r) => n + r.costVnd, 0);

/** Spreadsheet columns, in order: Vietnamese header and field. */
export const REGISTER_COLUMNS = [
  ['Mã', 'id'],
  ['Đơn vị', 'unit'],
  ['Tên', 'name'],
  ['Loại', 'type'],
  ['Địa chỉ', 'address'],
  ['Vĩ độ', 'lat'],
  ['Kinh độ', 'lon'],
  ['Năm lắp đặt', 'installedYear'],
  ['Tình trạng', 'condition'],
  ['Kiểm tra gần nhất', 'lastInspection'],
  ['Thay thế', 'replacement'],
  ['Thiết bị', 'deviceId'],
  ['Lịch sử sửa chữa', 'repairs'],
  ['Tổng chi phí sửa chữa (đồng)', 'repairCost'],
  ['Ghi chú', 'notes'],
] as const;

/** A code from its code or its Vietnamese name (with or without diacritics). */
function codeOf<T extends Record<string, string>>(table: T, v: string): keyof T | undefined {
  const f = fold(v);
  for (const [k, name] of Object.entries(table)) if (fold(k) === f || fold(name) === f) return k as keyof T;
  return undefined;
}

/** "2025-03-02: thay ampli: 1500000; 2026-01-10: sơn lại: 300000" */
export function parseRepairs(text: string): Repair[] | string {
  const out: Repair[] = [];
  for (const part of text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{4}-\d{2}-\d{2})\s*:\s*(.+?)\s*:\s*([\d.\s]+)\s*(?:đ|đồng|vnd)?$/i.exec(part);
    if (!m) return `"${part}" không đúng dạng "YYYY-MM-DD: nội dung: chi phí"`;
    out.push({
      date: m[1] as string,
      description: m[2] as string,
      costVnd: Number((m[3] as string).replace(/[.\s]/g, '')),
    });
  }
  return out;
}

export const formatRepairs = (rs: readonly Repair[]): string =>
  rs.map((r) => `${r.date}: ${r.description}: ${r.costVnd}`).join('; ');

export interface ImportContext {
  /** Units the importer may write (every row's unit must be one of them or inside them). */
  unitExists: (path: string) => boolean;
  inScope: (path: string) => boolean;
  deviceUnit: (id: string) => string | undefined;
}

/**
 * Rows of a spreadsheet (the first row holds the headers) → entries, or the errors of every bad
 * line. Headers are matched by name (Vietnamese, any case and diacritics); unknown columns are errors.
 */
export function parseRegisterSheet(
  rows: readonly (readonly string[])[],
  ctx: ImportContext,
): { entries: z.output<typeof RegisterInputSchema>[]; errors: ImportError[] } {
  const errors: ImportError[] = [];
  const entries: z.output<typeof RegisterInputSchema>[] = [];
  const header = rows[0] ?? [];
  const fields: (string | null)[] = header.map((h) => {
    const f = fold(h);
    if (f === '') return null;
    const col = REGISTER_COLUMNS.find(([vi, key]) => fold(vi) === f || fold(key) === f);
    if (!col) errors.push({ line: 1, field: h, message: `cột "${h}" không có trong mẫu sổ` });
    return col ? col[1] : null;
  });
  for (const need of ['id', 'unit', 'name', 'type', 'condition'])
    if (!fields.includes(need)) {
      const vi = REGISTER_COLUMNS.find(([, k]) => k === need)?.[0] ?? need;
      errors.push({ line: 1, field: vi, message: `thiếu cột "${vi}"` });
    }
  if (errors.length > 0) return { entries, errors };
  const seen = new Map<string, number>();
  rows.slice(1).forEach((cells, i) => {
    const line = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const raw: Record<string, unknown> = {};
    const err = (field: string, message: string) => {
      const vi = REGISTER_COLUMNS.find(([, k]) => k === field)?.[0] ?? field;
      errors.push({ line, field: vi, message });
    };
    fields.forEach((f, j) => {
      const v = (cells[j] ?? '').trim();
      if (!f || v === '' || f === 'repairCost') return;
      if (f === 'lat' || f === 'lon' || f === 'installedYear') {
        const n = Number(v.replace(',', '.'));
        if (!Number.isFinite(n)) err(f, `"${v}" không phải số`);
        else raw[f] = n;
      } else if (f === 'type' || f === 'condition' || f === 'replacement') {
        const table =
          f === 'type' ? REGISTER_TYPES : f === 'condition' ? REGISTER_CONDITIONS : REGISTER_REPLACEMENT;
        const code = codeOf(table, v);
        if (!code) err(f, `"${v}" không phải một giá trị được phép (${Object.values(table).join(', ')})`);
        else raw[f] = code;
      } else if (f === 'repairs') {
        const r = parseRepairs(v);
        if (typeof r === 'string') err(f, r);
        else raw.repairs = r;
      } else raw[f] = v;
    });
    const parsed = RegisterInputSchema.safeParse(raw);
    if (!parsed.success) {
      for (const is of parsed.error.issues) {
        const f = String(is.path[0] ?? '');
        if (
          !errors.some(
            (e) => e.line === line && e.field === (REGISTER_COLUMNS.find(([, k]) => k === f)?.[0] ?? f),
          )
        )
          err(f, is.code === 'invalid_type' && raw[f] === undefined ? 'bắt buộc' : is.message);
      }
      return;
    }
    const e = parsed.data;
    if (!ctx.unitExists(e.unit)) err('unit', `không có đơn vị ${e.unit}`);
    else if (!ctx.inScope(e.unit)) err('unit', `đơn vị ${e.unit} nằm ngoài phạm vi được giao`);
    if (e.deviceId) {
      const du = ctx.deviceUnit(e.deviceId);
      if (du === undefined) err('deviceId', `không có thiết bị ${e.deviceId}`);
      else if (du !== e.unit)
        err('deviceId', `thiết bị ${e.deviceId} thuộc đơn vị ${du}, không phải ${e.unit}`);
    }
    const dup = seen.get(e.id);
    if (dup) err('id', `mã ${e.id} trùng với dòng ${dup}`);
    else seen.set(e.id, line);
    if (!errors.some((x) => x.line === line)) entries.push(e);
  });
  if (rows.length <= 1) errors.push({ line: 1, field: '', message: 'tệp không có dòng dữ liệu nào' });
  return { entries, errors };
}
