/**
 * The editors' pronunciation lexicon: entries (written form → spoken form) per unit and language,
 * used by every spoken bulletin of the unit's subtree. Reading needs `read`; writing needs
 * `content.write` and the entry's unit in scope. Refusals carry the domain's codes
 * (domain/lexicon.ts).
 */
import { LanguageSchema } from '@loa/protocol';
import { z } from 'zod';
import { LexiconEntryRecordSchema } from '../../domain/model.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import { LexiconInputSchema, LexiconPatchSchema } from '../../services/lexicon-service.js';
import type { RouteContext } from '../route-context.js';

const ListQuery = z.strictObject({
  /** Entries of this unit's subtree. */
  unit: z.string().max(40).optional(),
  lang: LanguageSchema.optional(),
});

export function registerLexiconRoutes(
  { api }: RouteContext,
  services: Pick<ContentServices, 'lexicon'>,
): void {
  const lexicon = services.lexicon;
  api.add({
    method: 'get',
    path: '/lexicon',
    summary: 'Pronunciation entries in my unit scope, by unit, language and written form',
    tags: ['content'],
    permission: 'read',
    query: ListQuery,
    response: z.array(LexiconEntryRecordSchema),
    handler: ({ query, user }) =>
      lexicon.list(
        (e) =>
          inScope(user, e.unit) &&
          (!query.lang || e.lang === query.lang.toLowerCase()) &&
          (!query.unit || e.unit === query.unit || e.unit.startsWith(`${query.unit}/`)),
      ),
  });

  api.add({
    method: 'post',
    path: '/lexicon',
    summary: 'Add a pronunciation entry (written form → spoken form) for a unit and language',
    description:
      'Refused with LEXICON_FROM_EMPTY, LEXICON_TO_EMPTY, LEXICON_FROM_TOO_LONG (60), LEXICON_TO_TOO_LONG (200), ' +
      'LEXICON_CONTROL_CHARS, LEXICON_FROM_NO_WORD, LEXICON_DUPLICATE (409) or LEXICON_FULL.',
    tags: ['content'],
    permission: 'content.write',
    body: LexiconInputSchema,
    status: 201,
    response: LexiconEntryRecordSchema,
    errors: [409],
    handler: ({ body, user, ip }) => {
      requireScope(user, body.unit);
      return lexicon.add(body, user, ip);
    },
  });

  api.add({
    method: 'patch',
    path: '/lexicon/:id',
    summary: 'Change the written or spoken form of an entry',
    tags: ['content'],
    permission: 'content.write',
    body: LexiconPatchSchema,
    response: LexiconEntryRecordSchema,
    errors: [409],
    handler: async ({ params, body, user, ip }) => {
      const rec = await lexicon.get(params.id);
      requireScope(user, rec.unit);
      return lexicon.update(rec.id, body, user, ip);
    },
  });

  api.add({
    method: 'delete',
    path: '/lexicon/:id',
    summary: 'Remove a pronunciation entry',
    tags: ['content'],
    permission: 'content.write',
    response: z.object({ deleted: z.literal(true) }),
    handler: async ({ params, user, ip }) => {
      const rec = await lexicon.get(params.id);
      requireScope(user, rec.unit);
      await lexicon.remove(rec.id, user, ip);
      return { deleted: true as const };
    },
  });
}
