/**
 * `POST /api/v1/content/speech`: a text bulletin read aloud by the server (espeak-ng) and stored
 * as an audio content item in the station format; the same body as `POST /content/text`.
 */

import { type ContentRecord, ContentRecordSchema } from '../../domain/model.js';
import { requireScope } from '../../domain/rbac.js';
import { type TextContent, TextContentSchema } from '../../services/content-service.js';
import type { AuthUser } from '../auth.js';
import type { RouteContext } from '../route-context.js';

export type Speak = (input: TextContent, actor: AuthUser, ip: string) => Promise<ContentRecord>;

export function speechRoutes(speak: Speak) {
  return ({ api }: RouteContext): void => {
    api.add({
      method: 'post',
      path: '/content/speech',
      summary: 'Create an audio bulletin from text, spoken by the server (Vietnamese voice by default)',
      description:
        'The text is read by espeak-ng in the voice of `lang`, then transcoded and normalised like an upload.',
      tags: ['content'],
      permission: 'content.write',
      body: TextContentSchema,
      status: 201,
      response: ContentRecordSchema,
      errors: [422],
      handler: ({ body, user, ip }) => {
        requireScope(user, body.unit);
        return speak(body, user, ip);
      },
    });
  };
}
