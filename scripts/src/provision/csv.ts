/**
 * A small RFC 4180 CSV reader: comma separated, double-quoted fields with "" for a quote, CRLF or
 * LF line ends, a UTF-8 byte-order mark (as spreadsheets save it) dropped. Each record keeps the
 * line number it started on, so errors name the line a technician sees in the editor.
 */
import { LoaError } from '@loa/protocol';

export interface CsvRecord {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const s = text.replace(/^\uFEFF/, '');
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]?.trim() === '')) out.push({ line: start, fields });
    fields = [];
    field = '';
  };
  while (i < s.length) {
    const c = s[i] as string;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
      i++;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' && s[i + 1] === '\n') i++;
    if (c === '\n' || c === '\r') {
      endRecord();
      line++;
      start = line;
      i++;
      continue;
    }
    field += c;
    i++;
  }
  if (quoted) throw new LoaError('CSV_UNCLOSED_QUOTE', `dòng ${start}: dấu ngoặc kép " chưa được đóng`);
  if (field !== '' || fields.length > 0) endRecord();
  return out;
}
