/**
 * Opaque stream cursors: a position encoded as base64url JSON, checked on the way back in (a
 * cursor is client input). Segment cursors name a day file and a byte offset; keyset cursors
 * (PostgreSQL) a time and a row id.
 */
import { LoaError } from '@loa/protocol';

const bad = () =>
  new LoaError('STREAM_CURSOR_INVALID', 'con trỏ trang không hợp lệ; hãy bắt đầu lại từ trang đầu');

function decode(cursor: string): Record<string, unknown> {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad();
    return v as Record<string, unknown>;
  } catch {
    throw bad();
  }
}
const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function encodeSegmentCursor(p: { file: string; offset: number }): string {
  return encode({ f: p.file, o: p.offset });
}

export function decodeSegmentCursor(cursor: string): { file: string; offset: number } {
  const v = decode(cursor);
  if (typeof v.f !== 'string' || !/^\d{4}-\d{2}-\d{2}\.ndjson$/.test(v.f)) throw bad();
  if (typeof v.o !== 'number' || !Number.isSafeInteger(v.o) || v.o < 0) throw bad();
  return { file: v.f, offset: v.o };
}

export function encodeKeyCursor(k: { t: string; i: string }): string {
  return encode(k);
}

export function decodeKeyCursor(cursor: string): { t: string; i: string } {
  const v = decode(cursor);
  if (typeof v.t !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z$/.test(v.t)) throw bad();
  if (typeof v.i !== 'string' || !/^\d{1,19}$/.test(v.i)) throw bad();
  return { t: v.t, i: v.i };
}
