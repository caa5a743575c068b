/**
 * Content library. Uploads are the raw file as the request body (no multipart: the body streams
 * to disk with a size limit), metadata in the query string:
 *   POST /api/v1/content/upload?title=Bản tin sáng&unit=08/02500&lang=vi&name=ban-tin.mp3
 * Text bulletins are JSON: POST /api/v1/content/text.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { ContentRecordSchema } from '../../domain/model.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import { TextContentSchema, UploadMetaSchema } from '../../services/content-service.js';
import type { ContentServices } from '../../services/content-services.js';
import type { RouteContext } from '../route-context.js';
import { storeUploadedBody, uploadBodyCap } from './content-upload.js';

const ListQuery = z.strictObject({
  kind: z.enum(['audio', 'image', 'video', 'text']).optional(),
  unit: z.string().max(40).optional(),
  q: z.string().max(100).optional(),
  /** Archived entries: hidden by default ("false"), alone ("true") or with the others ("all"). */
  archived: z.enum(['false', 'true', 'all']).default('false'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export function registerContentRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'content'>,
): void {
  api.add({
    method: 'get',
    path: '/content',
    summary: 'Content library entries in my unit scope, newest first',
    tags: ['content'],
    permission: 'read',
    query: ListQuery,
    response: z.array(ContentRecordSchema),
    handler: async ({ query, user }) => {
      const q = query.q?.toLowerCase();
      const list = await deps.store.content.list(
        (c) =>
          inScope(user, c.unit) &&
          (!query.kind || c.kind === query.kind) &&
          (query.archived === 'all' || (query.archived === 'true') === Boolean(c.archivedAt)) &&
          (!query.unit || c.unit === query.unit || c.unit.startsWith(`${query.unit}/`)) &&
          (!q || c.title.toLowerCase().includes(q)),
      );
      return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, query.limit);
    },
  });

  api.add({
    method: 'get',
    path: '/content/:id',
    summary: 'One content entry',
    tags: ['content'],
    permission: 'read',
    response: ContentRecordSchema,
    handler: async ({ params, user }) => {
      const rec = await services.content.get(params.id);
      if (!inScope(user, rec.unit)) throw new LoaError('CONTENT_NOT_FOUND', 'Không tìm thấy nội dung');
      return rec;
    },
  });

  api.add({
    method: 'post',
    path: '/content/upload',
    summary: 'Upload an audio, image (PNG/JPEG/WebP) or MP4 video file as the raw request body',
    description:
      'The kind is recognised from the bytes. Audio is transcoded to Opus/Ogg 48 kHz mono and ' +
      'normalised to -16 LUFS (two-pass loudnorm); the measured loudness of the result is recorded ' +
      '(`profile=speech`: the speech bitrate, so a short emergency fits inside its MQTT message). ' +
      '`source=recording` (made in the browser) is refused when too short, too long or silent, and ' +
      'loses its silent head and tail. ' +
      'Metadata goes in the query string; `name` must be a plain file name (no "/" or "..").',
    tags: ['content'],
    permission: 'content.write',
    query: UploadMetaSchema,
    status: 201,
    maxBodyBytes: uploadBodyCap(services.content),
    response: ContentRecordSchema,
    responseType: 'application/json',
    errors: [413, 415, 422],
    handler: async ({ c, query, user, ip }) => {
      requireScope(user, query.unit);
      return c.json(await storeUploadedBody(c, services.content, query, user, ip), 201);
    },
  });

  api.add({
    method: 'post',
    path: '/content/text',
    summary: 'Create a text bulletin (noticeboards, tickers)',
    tags: ['content'],
    permission: 'content.write',
    body: TextContentSchema,
    status: 201,
    response: ContentRecordSchema,
    handler: async ({ body, user, ip }) => {
      requireScope(user, body.unit);
      return services.content.createText(body, user, ip);
    },
  });

  for (const archived of [true, false]) {
    api.add({
      method: 'post',
      path: archived ? '/content/:id/archive' : '/content/:id/restore',
      summary: archived
        ? 'Archive a content entry: kept, but hidden from the library and the programme form'
        : 'Bring an archived content entry back into the library',
      tags: ['content'],
      permission: 'content.write',
      response: ContentRecordSchema,
      handler: async ({ params, user, ip }) => {
        const rec = await services.content.get(params.id);
        requireScope(user, rec.unit);
        return services.content.setArchived(rec.id, archived, user, ip);
      },
    });
  }

  api.add({
    method: 'delete',
    path: '/content/:id',
    summary:
      'Delete a content entry (refused with 409 CONTENT_IN_USE while a waiting or live programme uses it)',
    tags: ['content'],
    permission: 'content.write',
    response: z.object({ deleted: z.literal(true) }),
    errors: [409],
    handler: async ({ params, user, ip }) => {
      const rec = await services.content.get(params.id);
      requireScope(user, rec.unit);
      await services.content.remove(rec.id, user, ip);
      return { deleted: true as const };
    },
  });
}
