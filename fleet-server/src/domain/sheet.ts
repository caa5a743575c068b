/**
 * Spreadsheets people fill in (pure): RFC 4180 CSV into rows, Vietnamese headers matched with or
 * without diacritics, and rows into per-line values with the errors of every bad line. The
 * registers (stations, staff) build their imports on this; XLSX files are read into the same rows
 * by services/report-files.ts.
 */

export interface ImportError {
  /** Spreadsheet line (1 is the header). */
  line: number;
  field: string;
  message: string;
}

/** Lower case, no diacritics, words separated by single spaces ("Họ và tên" → "ho va ten"). */
export const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** RFC 4180 CSV → rows (a BOM is dropped; a cell neutralised against formulas, '=…, reads back as written). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.replace(/^\ufeff/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.map((r) => r.map((c) => (/^'[=+\-@]/.test(c) ? c.slice(1) : c)));
}

export interface SheetColumn {
  header: string;
  key: string;
  required?: boolean;
  /** Written on export, ignored on import. */
  exportOnly?: boolean;
}

/**
 * Header row → fields (unknown and missing required columns are errors on line 1), then each
 * non-blank line → its non-empty cells by field, trimmed. A file with no data line is an error.
 */
export function readSheetRows(
  rows: readonly (readonly string[])[],
  columns: readonly SheetColumn[],
): { lines: { line: number; values: Record<string, string> }[]; errors: ImportError[] } {
  const errors: ImportError[] = [];
  const header = rows[0] ?? [];
  const fields = header.map((h) => {
    const f = fold(h);
    if (f === '') return null;
    const col = columns.find((c) => fold(c.header) === f || fold(c.key) === f);
    if (!col) errors.push({ line: 1, field: h, message: `cột "${h}" không có trong mẫu` });
    return col && !col.exportOnly ? col.key : null;
  });
  for (const c of columns)
    if (c.required && !fields.includes(c.key))
      errors.push({ line: 1, field: c.header, message: `thiếu cột "${c.header}"` });
  if (errors.length > 0) return { lines: [], errors };
  const lines: { line: number; values: Record<string, string> }[] = [];
  rows.slice(1).forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const values: Record<string, string> = {};
    fields.forEach((f, j) => {
      const v = (cells[j] ?? '').trim();
      if (f && v !== '') values[f] = v;
    });
    lines.push({ line: i + 2, values });
  });
  if (lines.length === 0) errors.push({ line: 1, field: '', message: 'tệp không có dòng dữ liệu nào' });
  return { lines, errors };
}
