/**
 * A spreadsheet sent as the raw body of an import (CSV as text/csv, XLSX as its media type) read
 * into rows; the registers' imports (stations, staff) share it.
 */
import { LoaError } from '@loa/protocol';
import type { Context } from 'hono';
import { parseCsv } from '../../domain/sheet.js';
import { readXlsxRows } from '../../services/report-files.js';
import { XLSX_TYPE } from './reports.js';

/** Fails with PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE or `<prefix>_FILE_UNREADABLE`. */
export async function readUploadedSheet(c: Context, maxBytes: number, prefix: string): Promise<string[][]> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const buf = Buffer.from(await c.req.arrayBuffer());
  if (buf.length > maxBytes)
    throw new LoaError('PAYLOAD_TOO_LARGE', `tệp quá lớn (tối đa ${Math.round(maxBytes / 1048576)} MB)`);
  if (type.startsWith(XLSX_TYPE)) {
    try {
      return await readXlsxRows(buf);
    } catch (cause) {
      throw new LoaError(`${prefix}_FILE_UNREADABLE`, 'không đọc được tệp Excel', { cause });
    }
  }
  if (type.startsWith('text/csv')) return parseCsv(buf.toString('utf8'));
  throw new LoaError('UNSUPPORTED_MEDIA_TYPE', 'tệp phải là CSV (text/csv) hoặc Excel (.xlsx)');
}
