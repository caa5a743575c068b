/**
 * Spoken bulletins: the voices of the TTS engine, a preview (the spoken form of a text and a short
 * clip of it, nothing stored) and `POST /api/v1/content/speech`, a text bulletin read aloud by the
 * server with a chosen voice and rate and stored as an audio content item in the station format.
 */
import { z } from 'zod';
import { ContentRecordSchema } from '../../domain/model.js';
import { requireScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import {
  SpeechContentSchema,
  SpeechPreviewResultSchema,
  SpeechPreviewSchema,
} from '../../services/speech-service.js';
import { TTS_RATE } from '../../services/tts/types.js';
import type { RouteContext } from '../route-context.js';

const VoicesSchema = z.object({
  engine: z.string(),
  voices: z.array(z.object({ id: z.string(), lang: z.string(), label: z.string() })),
  rate: z.object({ min: z.number(), max: z.number(), default: z.number() }),
});

export function registerSpeechRoutes({ api }: RouteContext, services: Pick<ContentServices, 'speech'>): void {
  const speech = services.speech;
  api.add({
    method: 'get',
    path: '/speech/voices',
    summary: 'Voices of the text-to-speech engine, and the speaking rates it accepts (words per minute)',
    tags: ['content'],
    permission: 'read',
    response: VoicesSchema,
    handler: async () => ({ engine: speech.engine, voices: await speech.voices(), rate: { ...TTS_RATE } }),
  });

  api.add({
    method: 'post',
    path: '/speech/preview',
    summary: 'Hear a text before it is saved: its spoken form and a short clip of its beginning',
    description:
      'The text is put in its spoken form (dates, numbers, the built-in lexicon and the lexicon entries ' +
      'of the unit and its parents), and its beginning is spoken with the voice and rate. `audio` is a data URL (Opus in Ogg). Nothing is stored.',
    tags: ['content'],
    permission: 'content.write',
    body: SpeechPreviewSchema,
    response: SpeechPreviewResultSchema,
    errors: [422],
    handler: ({ body, user }) => {
      requireScope(user, body.unit);
      return speech.preview(body);
    },
  });

  api.add({
    method: 'post',
    path: '/content/speech',
    summary: 'Create an audio bulletin from text, spoken by the server (Vietnamese voice by default)',
    description:
      'The text is put in its spoken form (see /speech/preview), spoken with `voice` (default: the ' +
      "language's first voice) at `rate` words per minute, then transcoded and normalised like an upload.",
    tags: ['content'],
    permission: 'content.write',
    body: SpeechContentSchema,
    status: 201,
    response: ContentRecordSchema,
    errors: [422],
    handler: ({ body, user, ip }) => {
      requireScope(user, body.unit);
      return speech.createBulletin(body, user, ip);
    },
  });
}
