/**
 * A text bulletin spoken by the server: espeak-ng reads the text (Vietnamese voice by default)
 * and the WAV goes through the ordinary upload path (sniffed, transcoded to the station format,
 * loudness-normalised, stored as an audio content item). Used by integrations that turn upstream
 * text into bulletins stations can play.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ContentRecord } from '../domain/model.js';
import { expandForSpeech } from '../domain/speech-text.js';
import type { BlobStore } from './blob-store.js';
import type { Actor, ContentService, TextContent } from './content-service.js';
import type { Transcoder } from './transcoder.js';

export async function speakText(
  d: { blobs: BlobStore; transcoder: Transcoder; content: ContentService },
  input: TextContent,
  actor: Actor,
  ip?: string,
): Promise<ContentRecord> {
  const wav = d.blobs.tempPath('.wav');
  try {
    // Vietnamese text is read the Vietnamese way: dates, numbers, abbreviations (speech-text.ts).
    const lang = input.lang.split('-')[0];
    await d.transcoder.synthesize(lang === 'vi' ? expandForSpeech(input.text) : input.text, wav, lang);
    const body = Readable.toWeb(createReadStream(wav)) as ReadableStream<Uint8Array>;
    return await d.content.upload(
      body,
      {
        title: input.title,
        unit: input.unit,
        lang: input.lang,
        ...(input.category ? { category: input.category } : {}),
        name: 'giong-doc.wav',
        kind: 'audio',
      },
      actor,
      ip,
    );
  } finally {
    await d.blobs.removeTemp(wav);
  }
}
