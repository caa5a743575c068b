/**
 * Tables for export (pure): columns with Vietnamese headers and typed cells, and their CSV
 * (RFC 4180, UTF-8 with a BOM so spreadsheet programs read Vietnamese, formulas neutralised).
 * The XLSX and PDF writers (services/report-files.ts) take the same tables.
 */
export type Cell = string | number | null;

export interface Table {
  /** Sheet name (≤ 31 characters). */
  name: string;
  columns: { key: string; header: string; kind?: 'text' | 'number' | 'percent' }[];
  rows: Cell[][];
}

export function toCsv(t: Table): string {
  const esc = (v: Cell) => {
    if (v === null) return '';
    const s = String(v);
    const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [t.columns.map((c) => esc(c.header)).join(',')];
  // shares keep four decimals (0.5000), as spreadsheets and `loa stats` have always read them
  const kinds = t.columns.map((c) => c.kind);
  for (const r of t.rows)
    lines.push(
      r.map((v, i) => (kinds[i] === 'percent' && typeof v === 'number' ? v.toFixed(4) : esc(v))).join(','),
    );
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
