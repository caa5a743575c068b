/**
 * Noticeboard screenshots, kept per device on disk: `screenshots/<deviceId>/<id>.<png|jpg>` with
 * a `<id>.json` beside it (when it was taken on the board, when it arrived, size, type, the
 * command that asked for it). Only the last `keep` pictures of a device stay; older ones are
 * deleted after a new one is stored. Every write is atomic (temp file, fsync, rename), so a
 * power cut leaves the previous pictures whole. Pictures are checked by their magic bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import { writeFileAtomic, writeJsonAtomic } from '@loa/protocol/fs';
import { z } from 'zod';
import { withDefaults } from '../defaults.js';

export const SCREENSHOT_DEFAULTS = {
  /** Largest picture accepted (bytes): a 1080p PNG of a busy page stays well under it. */
  maxBytes: 4 * 1024 * 1024,
  /** Pictures kept per device. */
  keep: 10,
};

export const ScreenshotMetaSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  mediaType: z.enum(['image/png', 'image/jpeg']),
  size: z.number().int().nonnegative(),
  /** When the board took it (its clock). */
  takenAt: z.string(),
  /** When the server stored it (the server's clock). */
  receivedAt: z.string(),
  commandId: z.string().optional(),
});
export type ScreenshotMeta = z.infer<typeof ScreenshotMetaSchema>;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The picture's type from its first bytes, or undefined when it is neither PNG nor JPEG. */
export function sniffScreenshot(bytes: Uint8Array): 'image/png' | 'image/jpeg' | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 8));
  if (b.length >= 8 && b.equals(PNG_MAGIC)) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return undefined;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SHOT_ID = /^[0-9]{13}-[0-9a-f]{8}$/;

export interface ScreenshotStoreOptions {
  dir: string;
  now: () => number;
  maxBytes?: number;
  keep?: number;
}

export class ScreenshotStore {
  readonly maxBytes: number;
  readonly keep: number;
  /** One write at a time per device, so pruning never races a new picture. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(m: ScreenshotMeta) => void>();

  constructor(private readonly o: ScreenshotStoreOptions) {
    const d = withDefaults(SCREENSHOT_DEFAULTS, { maxBytes: o.maxBytes, keep: o.keep });
    this.maxBytes = d.maxBytes;
    this.keep = d.keep;
  }

  private deviceDir(deviceId: string): string {
    if (!SAFE_ID.test(deviceId)) throw new LoaError('DEVICE_NOT_FOUND', 'mã thiết bị không hợp lệ');
    return join(this.o.dir, deviceId);
  }

  /** Stores a picture; throws SCREENSHOT_TOO_LARGE, SCREENSHOT_EMPTY or SCREENSHOT_NOT_IMAGE. */
  async add(
    deviceId: string,
    bytes: Uint8Array,
    meta: { takenAt?: string; commandId?: string; declaredType?: string },
  ): Promise<ScreenshotMeta> {
    if (bytes.byteLength === 0) throw new LoaError('SCREENSHOT_EMPTY', 'ảnh màn hình trống');
    if (bytes.byteLength > this.maxBytes)
      throw new LoaError(
        'SCREENSHOT_TOO_LARGE',
        `ảnh màn hình vượt quá ${Math.round(this.maxBytes / 1024)} KB (${bytes.byteLength} byte)`,
      );
    const mediaType = sniffScreenshot(bytes);
    if (!mediaType)
      throw new LoaError('SCREENSHOT_NOT_IMAGE', 'ảnh màn hình phải là tệp PNG hoặc JPEG (sai chữ ký tệp)');
    if (meta.declaredType && meta.declaredType.split(';')[0]?.trim() !== mediaType)
      throw new LoaError(
        'SCREENSHOT_TYPE_MISMATCH',
        `nội dung là ${mediaType} nhưng khai báo là ${meta.declaredType}`,
      );
    const dir = this.deviceDir(deviceId);
    const now = this.o.now();
    const takenMs = meta.takenAt ? Date.parse(meta.takenAt) : Number.NaN;
    const id = `${String(now).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    const rec: ScreenshotMeta = {
      id,
      deviceId,
      mediaType,
      size: bytes.byteLength,
      takenAt: new Date(Number.isFinite(takenMs) ? takenMs : now).toISOString(),
      receivedAt: new Date(now).toISOString(),
      ...(meta.commandId ? { commandId: meta.commandId } : {}),
    };
    return this.serial(deviceId, async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // the picture first, its record last: a record always has its picture
      await writeFileAtomic(join(dir, `${id}.${ext(mediaType)}`), bytes, 0o600);
      await writeJsonAtomic(join(dir, `${id}.json`), rec, 0o600);
      await this.prune(dir);
      for (const l of this.listeners) l(rec);
      return rec;
    });
  }

  /** Calls `listener` after each stored picture; returns the unsubscribe function. */
  onAdded(listener: (m: ScreenshotMeta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A device's pictures, newest first. */
  async list(deviceId: string): Promise<ScreenshotMeta[]> {
    const dir = this.deviceDir(deviceId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const ids = names
      .filter((n) => n.endsWith('.json') && SHOT_ID.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort()
      .reverse();
    const out: ScreenshotMeta[] = [];
    for (const id of ids) {
      const raw = await readFile(join(dir, `${id}.json`), 'utf8').catch(() => undefined);
      const parsed = raw ? ScreenshotMetaSchema.safeParse(safeJson(raw)) : undefined;
      if (parsed?.success) out.push(parsed.data);
    }
    return out;
  }

  async latest(deviceId: string): Promise<ScreenshotMeta | undefined> {
    return (await this.list(deviceId))[0];
  }

  /** The picture's bytes with its record; undefined when there is no such picture. */
  async read(deviceId: string, id: string): Promise<{ meta: ScreenshotMeta; bytes: Buffer } | undefined> {
    if (!SHOT_ID.test(id)) return undefined;
    const dir = this.deviceDir(deviceId);
    const raw = await readFile(join(dir, `${id}.json`), 'utf8').catch(() => undefined);
    const parsed = raw ? ScreenshotMetaSchema.safeParse(safeJson(raw)) : undefined;
    if (!parsed?.success) return undefined;
    const bytes = await readFile(join(dir, `${id}.${ext(parsed.data.mediaType)}`)).catch(() => undefined);
    return bytes ? { meta: parsed.data, bytes } : undefined;
  }

  private async prune(dir: string): Promise<void> {
    const names = await readdir(dir);
    const ids = [
      ...new Set(names.filter((n) => SHOT_ID.test(n.split('.')[0] ?? '')).map((n) => n.split('.')[0])),
    ]
      .sort()
      .reverse();
    for (const old of ids.slice(this.keep))
      for (const n of names) if (n.startsWith(`${old}.`)) await rm(join(dir, n), { force: true });
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}

function ext(mediaType: ScreenshotMeta['mediaType']): string {
  return mediaType === 'image/png' ? 'png' : 'jpg';
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
