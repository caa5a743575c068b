/**
 * The document library (pure): legal and guidance documents grassroots information staff need
 * (decrees, plans, guides, training material, templates), their metadata, the file kinds taken
 * (recognised from the bytes, never from the name alone), who may see one (its unit's subtree and
 * the units above it: a province's decree is read in its communes) and the search over them.
 */
import { anyUnitCovers, unitCovers } from '@loa/protocol';
import { z } from 'zod';
import type { Instant } from './model.js';
import { fold } from './sheet.js';
import { Day } from './staff.js';

export const DOCUMENT_KINDS = {
  legal: 'Văn bản quy phạm (nghị định, quyết định, thông tư)',
  plan: 'Kế hoạch',
  guide: 'Hướng dẫn',
  training: 'Tài liệu bồi dưỡng',
  template: 'Biểu mẫu',
  other: 'Khác',
} as const;
type Keys<T> = [keyof T & string, ...(keyof T & string)[]];
export const DocumentKindSchema = z.enum(Object.keys(DOCUMENT_KINDS) as Keys<typeof DOCUMENT_KINDS>);

/** What the uploader says about the file (query string of the upload, or the dashboard's form). */
export const DocumentMetaSchema = z.strictObject({
  unit: z.string().min(2).max(64),
  title: z.string().trim().min(1).max(300),
  /** Number and symbol, "49/2024/NĐ-CP". */
  number: z.string().trim().max(100).optional(),
  issuer: z.string().trim().min(1).max(300),
  issuedOn: Day,
  kind: DocumentKindSchema,
  description: z.string().max(2000).optional(),
  /** File name as uploaded (shown and offered on download). */
  name: z
    .string()
    .min(1)
    .max(200)
    .refine((n) => !/[/\\]|\.\./.test(n) && !/[\u0000-\u001f]/.test(n), 'tên tệp không hợp lệ'),
});
export type DocumentMeta = z.output<typeof DocumentMetaSchema>;

export interface DocumentFile {
  sha256: string;
  bytes: number;
  type: string;
  ext: string;
}

export interface DocumentRecord extends DocumentMeta {
  id: string;
  file: DocumentFile;
  uploadedBy: string;
  createdAt: Instant;
  updatedAt: Instant;
}

const ascii = (b: Uint8Array, at: number, s: string) =>
  b.length >= at + s.length && Buffer.from(b.buffer, b.byteOffset + at, s.length).toString('latin1') === s;

/** Office Open XML, OpenDocument and OLE2 (legacy Office) kinds, told apart by their bytes. */
const OOXML: [string, string, string][] = [
  ['word/document.xml', 'docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xl/workbook.xml', 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  [
    'ppt/presentation.xml',
    'pptx',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  ],
];
const ODF: Record<string, string> = {
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
};
const OLE: Record<string, string> = {
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
};

/**
 * The kind of a document from its bytes: PDF, Word/Excel/PowerPoint (OOXML or legacy OLE2, the
 * latter told apart by the file name's extension), OpenDocument; undefined for anything else.
 */
export function sniffDocument(b: Uint8Array, name: string): { type: string; ext: string } | undefined {
  if (ascii(b, 0, '%PDF-')) return { type: 'application/pdf', ext: 'pdf' };
  if (ascii(b, 0, 'PK\u0003\u0004')) {
    // OpenDocument: the first entry is "mimetype", stored, holding the media type
    if (ascii(b, 30, 'mimetype')) {
      const mime = Buffer.from(b.buffer, b.byteOffset + 38, Math.min(60, b.length - 38))
        .toString('latin1')
        .replace(/[^a-z.\-/].*$/s, '');
      const ext = ODF[mime];
      if (ext) return { type: mime, ext };
      return undefined;
    }
    const text = Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
    if (!text.includes('[Content_Types].xml')) return undefined;
    for (const [part, ext, type] of OOXML) if (text.includes(part)) return { type, ext };
    return undefined;
  }
  if (
    b.length >= 8 &&
    Buffer.from(b.buffer, b.byteOffset, 8).equals(Buffer.from('d0cf11e0a1b11ae1', 'hex'))
  ) {
    const ext = /\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
    const type = OLE[ext];
    if (type) return { type, ext };
  }
  return undefined;
}

/**
 * Whether a reader with `scope` sees a document of `unit`: inside their scope, or issued by a unit
 * above them (a province's document reaches its communes).
 */
export function documentVisible(scope: readonly string[], unit: string): boolean {
  if (scope.includes('*')) return true;
  return anyUnitCovers(scope, unit) || scope.some((s) => unitCovers(unit, s));
}

/** Every word of the query found in the title, number, issuer or description (no diacritics needed). */
export function matchesQuery(
  d: Pick<DocumentRecord, 'title' | 'number' | 'issuer' | 'description' | 'name'>,
  q: string,
): boolean {
  const words = fold(q).split(' ').filter(Boolean);
  if (words.length === 0) return true;
  const hay = fold([d.title, d.number ?? '', d.issuer, d.description ?? '', d.name].join(' '));
  return words.every((w) => hay.includes(w));
}
