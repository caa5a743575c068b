/**
 * Administrative units as data (pure). A unit is named by its path of official codes from the top
 * ("08/02500"; legacy three-level data "08/070/02500"). Levels are data: the known ones check
 * their code length (province 2, legacy district 3, commune 5 digits, Decision 19/2025/QĐ-TTg);
 * other level names are allowed with any 2–5 digit code. Import from CSV or JSON validates every
 * line and reports errors per line; nothing is applied unless every line is valid.
 */
import { LoaError, UnitCodeSchema, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import type { UnitRecord } from './model.js';

export const KNOWN_LEVEL_DIGITS: Record<string, number> = { province: 2, district: 3, commune: 5 };

export const UnitInputSchema = z.strictObject({
  code: UnitCodeSchema,
  name: z.string().trim().min(1, 'cần tên đơn vị').max(200),
  level: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'cấp: chữ thường, ví dụ province, commune')
    .optional(),
  /** Parent path ("08") or a parent code unique among known units; empty for a top unit. */
  parent: z.string().trim().max(40).nullable().optional(),
  demo: z.boolean().optional(),
});
export type UnitInput = z.infer<typeof UnitInputSchema>;

export interface ImportError {
  /** 1-based line (CSV: the header is line 1; JSON: the array index + 1). */
  line: number;
  message: string;
}

export function defaultLevel(code: string, parent: string | null): string {
  if (code.length === 2 && parent === null) return 'province';
  if (code.length === 5) return 'commune';
  if (code.length === 3) return 'district';
  return 'unit';
}

/**
 * Validates units to import against the existing ones. Parents may be earlier lines of the same
 * import. Returns the records to store, or errors (then nothing must be stored).
 */
export function planUnitImport(
  inputs: readonly unknown[],
  existing: readonly Pick<UnitRecord, 'path' | 'code'>[],
  nowIso: string,
  lineOf: (index: number) => number = (i) => i + 1,
): { units: UnitRecord[]; errors: ImportError[] } {
  const known = new Set(existing.map((u) => u.path));
  const byCode = new Map<string, string[]>();
  const addCode = (code: string, path: string) => byCode.set(code, [...(byCode.get(code) ?? []), path]);
  for (const u of existing) addCode(u.code, u.path);
  const units: UnitRecord[] = [];
  const errors: ImportError[] = [];
  const seen = new Set<string>();
  inputs.forEach((raw, i) => {
    const line = lineOf(i);
    const r = UnitInputSchema.safeParse(raw);
    if (!r.success) {
      errors.push({
        line,
        message: r.error.issues.map((x) => `${x.path.join('.') || 'dòng'}: ${x.message}`).join('; '),
      });
      return;
    }
    const u = r.data;
    let parent: string | null = null;
    if (u.parent) {
      if (UnitPathSchema.safeParse(u.parent).success && known.has(u.parent)) parent = u.parent;
      else {
        const matches = byCode.get(u.parent) ?? [];
        if (matches.length === 1) parent = matches[0] as string;
        else if (matches.length > 1) {
          errors.push({
            line,
            message: `mã đơn vị cha ${u.parent} không duy nhất, hãy ghi đường dẫn đầy đủ`,
          });
          return;
        } else {
          errors.push({ line, message: `không tìm thấy đơn vị cha ${u.parent}` });
          return;
        }
      }
    }
    const path = parent ? `${parent}/${u.code}` : u.code;
    if (!UnitPathSchema.safeParse(path).success) {
      errors.push({ line, message: `đường dẫn ${path} quá sâu (tối đa 5 cấp)` });
      return;
    }
    const level = u.level ?? defaultLevel(u.code, parent);
    const digits = KNOWN_LEVEL_DIGITS[level];
    if (digits !== undefined && u.code.length !== digits) {
      errors.push({ line, message: `mã cấp ${level} phải có ${digits} chữ số (đang là ${u.code})` });
      return;
    }
    if (seen.has(path)) {
      errors.push({ line, message: `đơn vị ${path} lặp lại trong tệp` });
      return;
    }
    seen.add(path);
    known.add(path);
    addCode(u.code, path);
    units.push({
      path,
      code: u.code,
      name: u.name,
      level,
      parent,
      ...(u.demo ? { demo: true } : {}),
      createdAt: nowIso,
      updatedAt: nowIso,
    });
  });
  return { units, errors };
}

/** Parses RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  if (quoted) throw new LoaError('UNIT_IMPORT_INVALID', 'tệp CSV có dấu ngoặc kép chưa đóng');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** CSV with a header naming columns code, name, level (optional), parent (optional), demo (optional). */
export function csvToUnitInputs(text: string): { inputs: unknown[]; lineOf: (i: number) => number } {
  const rows = parseCsv(text);
  const header = rows[0]?.map((h) => h.trim().toLowerCase());
  if (!header?.includes('code') || !header.includes('name'))
    throw new LoaError(
      'UNIT_IMPORT_INVALID',
      'dòng đầu của CSV phải có các cột code, name (và level, parent nếu có)',
    );
  const inputs = rows.slice(1).map((cells) => {
    const o: Record<string, unknown> = {};
    header.forEach((h, j) => {
      const v = (cells[j] ?? '').trim();
      if (h === 'code' || h === 'name' || h === 'level' || h === 'parent') {
        if (v !== '' || h === 'code' || h === 'name') o[h] = v;
      } else if (h === 'demo') {
        if (v !== '') o.demo = v === 'true' || v === '1' || v === 'yes';
      }
    });
    return o;
  });
  return { inputs, lineOf: (i) => i + 2 };
}

/** Group/zone ids and names inside a unit. */
export const GroupInputSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'mã nhóm: chữ thường, số, ".", "_" hoặc "-"'),
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(1000).optional(),
});
export type GroupInput = z.infer<typeof GroupInputSchema>;
