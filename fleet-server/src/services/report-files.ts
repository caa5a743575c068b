/** Report tables as files: XLSX workbooks (exceljs), one sheet per table, typed cells. */
import ExcelJS from 'exceljs';
import type { Table } from '../domain/reports/table.js';

export async function toXlsx(
  tables: readonly Table[],
  meta: { title: string; creator?: string },
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = meta.creator ?? 'Loa';
  wb.title = meta.title;
  const used = new Set<string>();
  for (const t of tables) {
    let name = t.name.replace(/[\\/?*[\]:]/g, ' ').slice(0, 31);
    while (used.has(name)) name = `${name.slice(0, 28)} ${used.size}`;
    used.add(name);
    const ws = wb.addWorksheet(name);
    ws.columns = t.columns.map((c) => ({
      header: c.header,
      key: c.key,
      width: Math.min(48, Math.max(10, c.header.length + 2)),
      ...(c.kind === 'percent' ? { style: { numFmt: '0.0%' } } : {}),
    }));
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    for (const r of t.rows) ws.addRow(r);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Reads the first sheet (or the named one) of an XLSX file as rows of cell text. */
export async function readXlsxRows(data: Buffer, sheet?: string): Promise<string[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(data as unknown as ArrayBuffer);
  const ws = sheet ? wb.getWorksheet(sheet) : wb.worksheets[0];
  if (!ws) return [];
  const out: string[][] = [];
  ws.eachRow({ includeEmpty: true }, (row, n) => {
    const cells: string[] = [];
    for (let i = 1; i <= ws.columnCount; i++) {
      const v = row.getCell(i).value;
      cells.push(
        v === null || v === undefined
          ? ''
          : v instanceof Date
            ? v.toISOString().slice(0, 10)
            : typeof v === 'object' && 'text' in v
              ? String((v as { text: unknown }).text)
              : typeof v === 'object' && 'result' in v
                ? String((v as { result: unknown }).result ?? '')
                : String(v),
      );
    }
    out[n - 1] = cells;
  });
  return Array.from(out, (r) => r ?? []);
}
