/**
 * The document library API: list and search (what the caller's units and those above them
 * issued), upload a PDF or office file as the raw body with its metadata in the query string,
 * read a record, download its file, remove it.
 *   POST /api/v1/documents?unit=08&title=…&number=49/2024/NĐ-CP&issuer=Chính phủ&issuedOn=2024-05-10&kind=legal&name=nd-49.pdf
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { DOCUMENT_KINDS, DocumentKindSchema, DocumentMetaSchema } from '../../domain/documents.js';
import { Instant } from '../../domain/model.js';
import type { DocumentActor, DocumentLibrary } from '../../services/document-library.js';
import type { AuthUser } from '../auth.js';
import type { RouteContext } from '../route-context.js';

const DocumentOut = DocumentMetaSchema.extend({
  id: z.string(),
  kindName: z.string(),
  file: z.object({ sha256: z.string(), bytes: z.number().int(), type: z.string(), ext: z.string() }),
  uploadedBy: z.string(),
  createdAt: Instant,
  updatedAt: Instant,
});

const actorOf = (user: AuthUser, ip: string | undefined): DocumentActor => ({
  id: user.id,
  username: user.username,
  role: user.role,
  scope: user.scope,
  ip,
  via: user.via === 'token' ? 'token' : 'session',
});

const withName = <T extends { kind: keyof typeof DOCUMENT_KINDS }>(d: T) => ({
  ...d,
  kindName: DOCUMENT_KINDS[d.kind],
});

/** The upload's metadata as sent (checked whole by the library: DOCUMENT_INVALID). */
const UploadQuery = z.strictObject(
  Object.fromEntries(
    ['unit', 'title', 'number', 'issuer', 'issuedOn', 'kind', 'name', 'description'].map((k) => [
      k,
      z.string().max(2000).optional(),
    ]),
  ) as Record<
    'unit' | 'title' | 'number' | 'issuer' | 'issuedOn' | 'kind' | 'name' | 'description',
    z.ZodOptional<z.ZodString>
  >,
);

/** Query-string metadata with empty fields left out (a form's blank number is no number). */
export const metaFrom = (q: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v.trim() !== ''));

export function documentRoutes(library: DocumentLibrary) {
  return ({ api }: RouteContext): void => {
    api.add({
      method: 'get',
      path: '/documents',
      summary: 'Documents of the library the caller sees (their units and those above), newest issue first',
      description: '`q` matches every word in title, number, issuer or description, diacritics optional.',
      tags: ['documents'],
      permission: 'read',
      query: z.strictObject({
        q: z.string().max(200).optional(),
        kind: DocumentKindSchema.optional(),
        unit: z.string().max(64).optional(),
      }),
      response: z.array(DocumentOut),
      handler: async ({ query, user, ip }) =>
        (
          await library.list(actorOf(user, ip), {
            ...(query.q ? { q: query.q } : {}),
            ...(query.kind ? { kind: query.kind } : {}),
            ...(query.unit ? { unit: query.unit } : {}),
          })
        ).map(withName),
    });

    api.add({
      method: 'post',
      path: '/documents',
      summary: 'Upload a document (PDF, Word, Excel, PowerPoint, OpenDocument) as the raw request body',
      description:
        'Metadata in the query string (unit, title, number, issuer, issuedOn, kind, name, description). The kind of file is recognised from its bytes. Refusals: DOCUMENT_INVALID (metadata), DOCUMENT_EMPTY, DOCUMENT_TOO_LARGE (413), DOCUMENT_TYPE_REFUSED (415).',
      tags: ['documents'],
      permission: 'document.manage',
      query: UploadQuery,
      maxBodyBytes: library.maxBytes + 64 * 1024,
      response: DocumentOut,
      status: 201,
      errors: [404, 413, 415, 422],
      handler: async ({ c, query, user, ip }) => {
        const declared = Number(c.req.header('content-length') ?? '0');
        if (declared > library.maxBytes)
          throw new LoaError(
            'DOCUMENT_TOO_LARGE',
            `tệp vượt quá ${Math.round(library.maxBytes / 1048576)} MB`,
          );
        const data = Buffer.from(await c.req.arrayBuffer());
        return c.json(withName(await library.upload(actorOf(user, ip), metaFrom(query), data)), 201);
      },
    });

    api.add({
      method: 'get',
      path: '/documents/:id',
      summary: 'One document’s record',
      tags: ['documents'],
      permission: 'read',
      response: DocumentOut,
      handler: async ({ params, user, ip }) => withName(await library.get(actorOf(user, ip), params.id)),
    });

    api.add({
      method: 'get',
      path: '/documents/:id/file',
      summary: 'Download a document’s file (as uploaded, checked against its hash)',
      tags: ['documents'],
      permission: 'read',
      response: z.string().describe('the file'),
      responseType: 'application/octet-stream',
      handler: async ({ c, params, user, ip }) => {
        const { record, data } = await library.file(actorOf(user, ip), params.id);
        const ascii = record.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
        return c.body(new Uint8Array(data), 200, {
          'content-type': record.file.type,
          'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(record.name)}`,
          'x-content-type-options': 'nosniff',
          'cache-control': 'private, no-store',
        });
      },
    });

    api.add({
      method: 'delete',
      path: '/documents/:id',
      summary: 'Remove a document (its unit’s scope only)',
      tags: ['documents'],
      permission: 'document.manage',
      status: 204,
      handler: async ({ params, user, ip }) => {
        await library.remove(actorOf(user, ip), params.id);
        return undefined;
      },
    });
  };
}
