/**
 * The content library: uploads (streamed to disk with a size limit, recognised by their bytes,
 * decoded by ffmpeg; audio transcoded and loudness-normalised into the station format, images and
 * mp4 video kept as uploaded) and text bulletins. Files are stored content-addressed.
 */
import { randomBytes } from 'node:crypto';
import { IdSchema, LanguageSchema, LoaError, UnitPathSchema } from '@loa/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { withDefaults } from '../defaults.js';
import { bundlesUsing } from '../domain/content-use.js';
import type { ContentKind, ContentRecord } from '../domain/model.js';
import type { Store } from '../store/ports.js';
import type { BlobStore } from './blob-store.js';
import { sniffFile } from './media-sniff.js';
import { type AudioLevels, SPEECH_AUDIO, STATION_AUDIO, type Transcoder } from './transcoder.js';

export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

const TitleSchema = z.string().trim().min(1, 'cần tiêu đề').max(300);
const CategorySchema = z.string().trim().min(1).max(64);

export const UploadMetaSchema = z.strictObject({
  title: TitleSchema,
  unit: UnitPathSchema,
  lang: LanguageSchema.default('vi'),
  category: CategorySchema.optional(),
  /** The file's original name (shown only; never used as a path). */
  name: z.string().max(255).optional(),
  /** What the uploader expects; the bytes decide, a mismatch is refused. */
  kind: z.enum(['audio', 'image', 'video']).optional(),
  /** Show it on the unit's public page once published ("true"/"false"). */
  public: z.enum(['true', 'false']).optional(),
  /**
   * "recording": made in the browser from the microphone; held to the recording limits (not
   * too short, not too long, not silent) before it is transcoded.
   */
  source: z.enum(['recording']).optional(),
  /**
   * Audio encoding: the station format (default), or "speech": the same Opus at the speech
   * bitrate (SPEECH_AUDIO), so that a short recorded alert travels inside the emergency message.
   */
  profile: z.enum(['station', 'speech']).optional(),
});
export type UploadMeta = z.infer<typeof UploadMetaSchema>;

export const TextContentSchema = z.strictObject({
  title: TitleSchema,
  unit: UnitPathSchema,
  lang: LanguageSchema.default('vi'),
  category: CategorySchema.optional(),
  text: z.string().trim().min(1, 'cần nội dung').max(20_000),
  /** How long a noticeboard shows it. */
  durationMs: z.number().int().positive().max(3600_000).optional(),
  /** Show it on the unit's public page once published. */
  public: z.boolean().optional(),
  /** Issuing body printed under the bulletin (absent: the board's own unit name). */
  issuer: z.string().trim().min(1).max(200).optional(),
  /** The bulletin's date, YYYY-MM-DD (absent: the programme's date). */
  dated: z.iso.date({ error: 'ngày dạng YYYY-MM-DD' }).optional(),
});
export type TextContent = z.infer<typeof TextContentSchema>;

/**
 * An uploaded file name must be a plain name: no directories, no "..", no control characters.
 * Throws NAME_INVALID (400).
 */
export function checkFileName(name: string): string {
  const n = name.normalize('NFC');
  if (
    n.length === 0 ||
    n.includes('/') ||
    n.includes('\\') ||
    n.includes('..') ||
    /[\u0000-\u001f\u007f]/.test(n)
  )
    throw new LoaError(
      'NAME_INVALID',
      'Tên tệp không hợp lệ (không được chứa "/", "\\", ".." hoặc ký tự điều khiển)',
      {
        details: { name: name.slice(0, 100) },
      },
    );
  return n;
}

const ATTACHED_PICTURE = new Set(['mjpeg', 'png', 'bmp', 'gif', 'webp']);
const IMAGE_CODECS = new Set(['png', 'mjpeg', 'webp']);

/** Limits of a recording made in the browser (the page stops at `maxMs` itself). */
export const RECORDING_DEFAULTS = {
  /** Shorter than this is a slip of the button. */
  minMs: 1500,
  /** Longest recording (10 minutes: a morning announcement, not a programme). */
  maxMs: 10 * 60_000,
  /** A peak below this (dBFS) is a muted or unplugged microphone. */
  silentPeakDb: -45,
};
export type RecordingLimits = typeof RECORDING_DEFAULTS;

export interface UploadOptions {
  /** Merged into the stored record's `meta` (how the audio was made: TTS voice, …). */
  meta?: Record<string, unknown>;
}

export interface Actor {
  id: string;
  username: string;
}

export class ContentService {
  readonly #d: { store: Store; blobs: BlobStore; transcoder: Transcoder; logger: Logger; now: () => number };
  readonly maxUploadBytes: number;
  readonly recording: RecordingLimits;

  constructor(d: {
    store: Store;
    blobs: BlobStore;
    transcoder: Transcoder;
    logger: Logger;
    now: () => number;
    maxUploadBytes?: number;
    recording?: Partial<RecordingLimits>;
  }) {
    this.#d = d;
    this.maxUploadBytes = d.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    this.recording = withDefaults(RECORDING_DEFAULTS, d.recording);
  }

  /**
   * A recording's length and level, refused with RECORDING_TOO_SHORT, RECORDING_TOO_LONG or
   * RECORDING_SILENT (measured with ffmpeg's volumedetect on what was uploaded).
   */
  async #checkRecording(path: string): Promise<AudioLevels> {
    const lv = await this.#d.transcoder.levels(path);
    const lim = this.recording;
    if (lv.durationMs < lim.minMs)
      throw new LoaError(
        'RECORDING_TOO_SHORT',
        `Bản ghi quá ngắn (${(lv.durationMs / 1000).toFixed(1)} giây): hãy ghi ít nhất ${Math.ceil(lim.minMs / 1000)} giây`,
        { details: { durationMs: lv.durationMs, minMs: lim.minMs } },
      );
    if (lv.durationMs > lim.maxMs + 1000)
      throw new LoaError(
        'RECORDING_TOO_LONG',
        `Bản ghi dài quá ${Math.round(lim.maxMs / 60_000)} phút: hãy chia thành nhiều bản tin`,
        { details: { durationMs: lv.durationMs, maxMs: lim.maxMs } },
      );
    if (lv.maxDb >= lim.silentPeakDb && lv.speech.endMs - lv.speech.startMs < lim.minMs)
      throw new LoaError(
        'RECORDING_TOO_SHORT',
        `Bản ghi chỉ có ${((lv.speech.endMs - lv.speech.startMs) / 1000).toFixed(1)} giây tiếng nói: hãy ghi ít nhất ${Math.ceil(lim.minMs / 1000)} giây`,
        { details: { speech: lv.speech, minMs: lim.minMs } },
      );
    if (lv.maxDb < lim.silentPeakDb)
      throw new LoaError(
        'RECORDING_SILENT',
        'Bản ghi gần như im lặng: hãy kiểm tra micrô (đã cắm, chưa tắt tiếng) rồi ghi lại',
        { details: { meanDb: lv.meanDb, maxDb: lv.maxDb, thresholdDb: lim.silentPeakDb } },
      );
    return lv;
  }

  #newId(): string {
    return `c-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Stores an upload. The body streams to a staging file (UPLOAD_TOO_LARGE past the limit); the
   * kind comes from the bytes (magic number, then ffprobe). Refusals are 4xx LoaErrors with a
   * Vietnamese message; nothing is stored when one is thrown.
   */
  async upload(
    body: ReadableStream<Uint8Array> | null,
    meta: UploadMeta,
    actor: Actor,
    ip?: string,
    opts: UploadOptions = {},
  ): Promise<ContentRecord> {
    const name = meta.name === undefined ? undefined : checkFileName(meta.name);
    const { blobs, transcoder } = this.#d;
    const staged = await blobs.receive(body, this.maxUploadBytes);
    const extra: string[] = [staged.path];
    try {
      const sniff = await sniffFile(staged.path);
      const probe = await transcoder.probe(staged.path).catch((e: unknown) => {
        if (sniff.family === 'unknown')
          throw new LoaError(
            'MEDIA_UNSUPPORTED',
            'Định dạng tệp không được hỗ trợ (cần âm thanh, ảnh PNG/JPEG/WebP hoặc video MP4)',
            {
              cause: e,
            },
          );
        throw e;
      });
      const video = probe.streams.find((s) => s.codecType === 'video' && !ATTACHED_PICTURE.has(s.codecName));
      const audio = probe.streams.find((s) => s.codecType === 'audio');
      let kind: ContentKind;
      if (sniff.family === 'image') {
        if (!probe.streams.some((s) => IMAGE_CODECS.has(s.codecName)))
          throw new LoaError('MEDIA_UNDECODABLE', 'Không đọc được ảnh (tệp hỏng?)');
        // a valid signature is not an image: the picture must decode
        await transcoder.verifyImage(staged.path);
        kind = 'image';
      } else if (video) kind = 'video';
      else if (audio) kind = 'audio';
      else throw new LoaError('MEDIA_UNSUPPORTED', 'Tệp không chứa âm thanh hay hình ảnh dùng được');
      if (meta.source === 'recording' && kind !== 'audio')
        throw new LoaError('CONTENT_KIND_MISMATCH', `Bản ghi âm phải là âm thanh, không phải ${kind}`, {
          details: { expected: 'audio', actual: kind },
        });
      const recorded = meta.source === 'recording' ? await this.#checkRecording(staged.path) : undefined;
      if (meta.kind && meta.kind !== kind)
        throw new LoaError('CONTENT_KIND_MISMATCH', `Tệp là ${kind}, không phải ${meta.kind}`, {
          details: { expected: meta.kind, actual: kind },
        });

      const rec: ContentRecord = {
        id: this.#newId(),
        kind,
        title: meta.title,
        lang: meta.lang,
        unit: meta.unit,
        createdBy: actor.id,
        createdAt: new Date(this.#d.now()).toISOString(),
      };
      if (meta.category) rec.category = meta.category;
      if (meta.public === 'true') rec.public = true;
      if (name) rec.originalName = name;
      let file = staged.path;
      if (kind === 'audio') {
        const out = blobs.tempPath(`.${STATION_AUDIO.extension}`);
        extra.push(out);
        // a recording loses its silent head and tail (the wait after pressing the button)
        const trim =
          recorded && (recorded.speech.startMs > 0 || recorded.speech.endMs < recorded.durationMs)
            ? recorded.speech
            : undefined;
        const speech = meta.profile === 'speech';
        const r = await transcoder.transcodeAudio(staged.path, out, {
          ...(trim ? { trim } : {}),
          ...(speech ? { speech } : {}),
        });
        file = out;
        rec.mediaType = STATION_AUDIO.mediaType;
        rec.durationMs = r.durationMs;
        rec.loudnessLufs = r.integratedLufs;
        rec.truePeakDbfs = r.truePeakDbfs;
        rec.meta = {
          source: {
            format: probe.formatName,
            codec: audio?.codecName,
            bytes: staged.size,
            lufs: r.inputLufs,
          },
          transcode: {
            codec: STATION_AUDIO.codec,
            sampleRate: STATION_AUDIO.sampleRate,
            channels: 1,
            bitrate: speech ? SPEECH_AUDIO.bitrate : STATION_AUDIO.bitrate,
            targetLufs: transcoder.targetLufs,
          },
          ...(recorded
            ? {
                recording: {
                  durationMs: recorded.durationMs,
                  meanDb: recorded.meanDb,
                  maxDb: recorded.maxDb,
                  kept: recorded.speech,
                },
              }
            : {}),
          ...opts.meta,
        };
      } else if (kind === 'video') {
        if (!probe.formatName.split(',').includes('mp4'))
          throw new LoaError('VIDEO_FORMAT', 'Video phải ở định dạng MP4', {
            details: { format: probe.formatName },
          });
        rec.mediaType = 'video/mp4';
        if (probe.durationMs !== undefined) rec.durationMs = probe.durationMs;
        rec.meta = { video: { codec: video?.codecName, width: video?.width, height: video?.height } };
      } else {
        rec.mediaType = sniff.mediaType ?? 'application/octet-stream';
        const img = probe.streams.find((s) => s.codecType === 'video');
        rec.meta = { image: { width: img?.width, height: img?.height } };
      }
      const stored = await blobs.importFile(file);
      rec.sha256 = stored.sha256;
      rec.size = stored.size;
      await this.#d.store.content.insert(rec);
      await this.#audit(actor, 'content.create', rec, ip);
      return rec;
    } finally {
      for (const p of extra) await blobs.removeTemp(p);
    }
  }

  /** A text bulletin (no file). */
  async createText(input: TextContent, actor: Actor, ip?: string): Promise<ContentRecord> {
    const rec: ContentRecord = {
      id: this.#newId(),
      kind: 'text',
      title: input.title,
      lang: input.lang,
      unit: input.unit,
      text: input.text,
      createdBy: actor.id,
      createdAt: new Date(this.#d.now()).toISOString(),
    };
    if (input.category) rec.category = input.category;
    if (input.durationMs !== undefined) rec.durationMs = input.durationMs;
    if (input.public) rec.public = true;
    if (input.issuer) rec.issuer = input.issuer.normalize('NFC');
    if (input.dated) rec.dated = input.dated;
    await this.#d.store.content.insert(rec);
    await this.#audit(actor, 'content.create', rec, ip);
    return rec;
  }

  async get(id: string): Promise<ContentRecord> {
    const rec = IdSchema.safeParse(id).success ? await this.#d.store.content.get(id) : undefined;
    if (!rec) throw new LoaError('CONTENT_NOT_FOUND', `Không tìm thấy nội dung "${id.slice(0, 64)}"`);
    return rec;
  }

  /** Archives (hides from the pickers) or restores an entry; audited. */
  async setArchived(id: string, archived: boolean, actor: Actor, ip?: string): Promise<ContentRecord> {
    const rec = await this.get(id);
    const next = archived
      ? await this.#d.store.content.update(rec.id, {
          archivedAt: new Date(this.#d.now()).toISOString(),
          archivedBy: actor.username,
        })
      : await this.#d.store.content.put(omitArchive(rec));
    await this.#audit(actor, archived ? 'content.archive' : 'content.restore', next, ip);
    return next;
  }

  /**
   * Deletes an entry from the library, refused (CONTENT_IN_USE, naming the programmes) while a
   * programme waiting for approval or on air uses it. The file stays in the blob store: stations
   * that hold an older, published bundle may still fetch it.
   */
  async remove(id: string, actor: Actor, ip?: string): Promise<void> {
    const rec = await this.get(id);
    const users = bundlesUsing(rec, await this.#d.store.bundles.list(), this.#d.now());
    if (users.length > 0) {
      // the programmes on air first, then those waiting for approval
      const named = [...users].sort(
        (a, z) => Number(z.state === 'published') - Number(a.state === 'published'),
      );
      const names = named.slice(0, 3).map((b) => `"${b.manifest.description || b.channel}"`);
      throw new LoaError(
        'CONTENT_IN_USE',
        `Không thể xoá: nội dung đang được dùng trong chương trình ${names.join(', ')}. Hãy gỡ chương trình hoặc lưu trữ nội dung thay vì xoá.`,
        { details: { bundles: users.map((b) => b.id) } },
      );
    }
    await this.#d.store.content.delete(rec.id);
    await this.#audit(actor, 'content.delete', rec, ip);
  }

  async #audit(actor: Actor, action: string, rec: ContentRecord, ip?: string): Promise<void> {
    await this.#d.store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action,
      target: { type: 'content', id: rec.id },
      unit: rec.unit,
      ...(ip ? { ip } : {}),
      details: { kind: rec.kind, title: rec.title, sha256: rec.sha256, size: rec.size },
    });
  }
}

function omitArchive(rec: ContentRecord): ContentRecord {
  const { archivedAt: _a, archivedBy: _b, ...rest } = rec;
  return rest;
}
