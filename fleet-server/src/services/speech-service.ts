/**
 * Spoken bulletins, for every priority: a text is put in its spoken form (dates, numbers, the
 * built-in lexicon and the editors' entries for its unit: domain/speech-text.ts,
 * services/lexicon-service.ts), spoken by the TTS engine (services/tts/) with a chosen voice and
 * rate, then either previewed (a short Opus clip the page plays) or stored through the ordinary
 * upload path (transcoded, loudness-normalised, an audio content item). Emergencies speak through
 * `speak` too, so an alert reads place names the way the province's bulletins do.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { LanguageSchema, LoaError, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import type { ContentRecord } from '../domain/model.js';
import { spokenForm } from '../domain/speech-text.js';
import type { BlobStore } from './blob-store.js';
import { type Actor, type ContentService, TextContentSchema } from './content-service.js';
import type { LexiconService } from './lexicon-service.js';
import type { Transcoder } from './transcoder.js';
import { TTS_RATE, type TtsEngine, type TtsVoice } from './tts/types.js';

const VoiceId = z.string().trim().min(1).max(64);
const Rate = z.number().int().min(TTS_RATE.min).max(TTS_RATE.max);

/** A spoken bulletin: the text bulletin's fields, a voice and a rate (defaults: the language's first voice, 150 wpm). */
export const SpeechContentSchema = TextContentSchema.extend({
  voice: VoiceId.optional(),
  rate: Rate.optional(),
});
export type SpeechContent = z.infer<typeof SpeechContentSchema>;

export const SpeechPreviewSchema = z.strictObject({
  unit: UnitPathSchema,
  lang: LanguageSchema.default('vi'),
  text: z.string().trim().min(1, 'cần nội dung').max(20_000),
  voice: VoiceId.optional(),
  rate: Rate.optional(),
});
export type SpeechPreviewInput = z.infer<typeof SpeechPreviewSchema>;

export const SpeechPreviewResultSchema = z.object({
  /** The whole text as it is spoken (what the lexicon made of it). */
  spoken: z.string(),
  voice: z.string(),
  rate: z.number(),
  /** The first part of it, spoken: `data:audio/ogg;base64,…` (Opus). */
  audio: z.string(),
  durationMs: z.number(),
  /** True when the clip speaks only the beginning of the text. */
  truncated: z.boolean(),
});
export type SpeechPreviewResult = z.infer<typeof SpeechPreviewResultSchema>;

export const SPEECH_DEFAULTS = {
  /** Characters of spoken text in a preview clip (about 30 s at 150 words per minute). */
  previewChars: 400,
};

export interface Spoken {
  engine: string;
  voice: string;
  rate: number;
  spoken: string;
}

export interface SpeechDeps {
  engine: TtsEngine;
  lexicon: LexiconService;
  blobs: BlobStore;
  transcoder: Transcoder;
  content: ContentService;
  previewChars?: number;
}

/** The beginning of a text, cut after a sentence or a word, at most `max` characters. */
export function previewPart(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const sentence = Math.max(head.lastIndexOf('. '), head.lastIndexOf('! '), head.lastIndexOf('? '));
  if (sentence > max / 2) return head.slice(0, sentence + 1);
  const space = head.lastIndexOf(' ');
  return space > 0 ? head.slice(0, space) : head;
}

export class SpeechService {
  readonly #d: SpeechDeps;

  constructor(d: SpeechDeps) {
    this.#d = d;
  }

  get engine(): string {
    return this.#d.engine.name;
  }

  voices(): Promise<TtsVoice[]> {
    return this.#d.engine.voices();
  }

  /** The voice to speak `lang` with: the one asked for (it must speak that language) or the first. */
  async voiceFor(lang: string, voice?: string): Promise<TtsVoice> {
    const primary = lang.toLowerCase().split('-')[0];
    const all = await this.voices();
    const mine = all.filter((v) => v.lang === primary);
    if (voice) {
      const v = mine.find((x) => x.id === voice);
      if (!v)
        throw new LoaError('TTS_VOICE', `Không có giọng đọc "${voice.slice(0, 40)}" cho ngôn ngữ ${lang}`, {
          details: { voices: mine.map((x) => x.id) },
        });
      return v;
    }
    const first = mine[0];
    if (!first)
      throw new LoaError(
        'TTS_NO_VOICE',
        `Chưa có giọng đọc tự động cho ngôn ngữ "${lang}": hãy ghi âm hoặc tải tệp âm thanh lên`,
        { details: { lang } },
      );
    return first;
  }

  /** The text as it is spoken in a bulletin of `unit` (the editors' entries of the unit and above). */
  async spokenText(text: string, unit: string, lang: string): Promise<string> {
    return spokenForm(text, lang, await this.#d.lexicon.entriesFor(unit, lang));
  }

  /** Speaks `text` into the WAV file `output`; says what it spoke and how. */
  async speak(
    text: string,
    o: { unit: string; lang: string; voice?: string | undefined; rate?: number | undefined },
    output: string,
  ): Promise<Spoken> {
    const voice = await this.voiceFor(o.lang, o.voice);
    const rate = o.rate ?? TTS_RATE.default;
    const spoken = await this.spokenText(text, o.unit, o.lang);
    await this.#d.engine.synthesize(spoken, output, { voice: voice.id, rate });
    return { engine: this.#d.engine.name, voice: voice.id, rate, spoken };
  }

  /** A short clip of the beginning of the text, and the whole spoken form, before anything is stored. */
  async preview(input: SpeechPreviewInput): Promise<SpeechPreviewResult> {
    const { blobs, transcoder } = this.#d;
    const voice = await this.voiceFor(input.lang, input.voice);
    const rate = input.rate ?? TTS_RATE.default;
    const spoken = await this.spokenText(input.text, input.unit, input.lang);
    const part = previewPart(spoken, this.#d.previewChars ?? SPEECH_DEFAULTS.previewChars);
    const wav = blobs.tempPath('.wav');
    const ogg = blobs.tempPath('.ogg');
    try {
      await this.#d.engine.synthesize(part, wav, { voice: voice.id, rate });
      const clip = await transcoder.encodePreview(wav, ogg);
      return {
        spoken,
        voice: voice.id,
        rate,
        audio: `data:audio/ogg;base64,${clip.bytes.toString('base64')}`,
        durationMs: clip.durationMs,
        truncated: part.length < spoken.length,
      };
    } finally {
      await blobs.removeTemp(wav);
      await blobs.removeTemp(ogg);
    }
  }

  /** Speaks a bulletin and stores it as an audio content item through the upload path. */
  async createBulletin(input: SpeechContent, actor: Actor, ip?: string): Promise<ContentRecord> {
    const wav = this.#d.blobs.tempPath('.wav');
    try {
      const how = await this.speak(input.text, input, wav);
      const body = Readable.toWeb(createReadStream(wav)) as ReadableStream<Uint8Array>;
      return await this.#d.content.upload(
        body,
        {
          title: input.title,
          unit: input.unit,
          lang: input.lang,
          ...(input.category ? { category: input.category } : {}),
          ...(input.public ? { public: 'true' as const } : {}),
          name: 'giong-doc.wav',
          kind: 'audio',
        },
        actor,
        ip,
        { meta: { tts: how } },
      );
    } finally {
      await this.#d.blobs.removeTemp(wav);
    }
  }
}
