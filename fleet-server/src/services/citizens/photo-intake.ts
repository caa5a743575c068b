/**
 * A citizen's photo: accepted only as JPEG, PNG or WebP by its magic number, refused when it
 * carries another format inside (script, SVG/HTML, PDF, ZIP: a polyglot) or declares more pixels
 * than a phone camera makes (a decompression bomb, checked from the header before decoding and
 * again by the decoder's own `max_pixels`), then re-encoded by ffmpeg into a fresh JPEG of at
 * most `maxSide` px with every metadata block dropped (EXIF, GPS, XMP, comments). Only the
 * re-encoded bytes are ever stored or served.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import { withDefaults } from '../../defaults.js';
import { INPUT_GUARD } from '../media-intake.js';
import { sniffBytes } from '../media-sniff.js';
import { runProcess, tail } from '../process-run.js';

export const PHOTO_DEFAULTS = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffprobe',
  /** Largest upload accepted (bytes). */
  maxBytes: 6 * 1024 * 1024,
  /** Largest declared picture (pixels); a 50 MP phone photo passes. */
  maxPixels: 50_000_000,
  /** Longest side of the stored picture. */
  maxSide: 1600,
  timeoutMs: 30_000,
};
export type PhotoOptions = Partial<typeof PHOTO_DEFAULTS>;

const FOREIGN = [/<script/i, /<svg/i, /<html/i, /<\?php/i, /<iframe/i, /javascript:/i];

/** Why these bytes are not a plain photo, or undefined when they may be one. */
export function photoRefusal(b: Buffer, maxBytes: number): { code: string; message: string } | undefined {
  if (b.length === 0) return { code: 'PHOTO_EMPTY', message: 'Tệp ảnh rỗng' };
  if (b.length > maxBytes)
    return { code: 'PHOTO_TOO_LARGE', message: `Ảnh quá lớn (tối đa ${Math.round(maxBytes / 1048576)} MB)` };
  const kind = sniffBytes(b.subarray(0, 64));
  if (kind.family !== 'image') return { code: 'PHOTO_TYPE', message: 'Chỉ nhận ảnh JPEG, PNG hoặc WebP' };
  const latin = b.toString('latin1');
  if (FOREIGN.some((re) => re.test(latin)) || latin.includes('%PDF-') || latin.includes('PK\u0005\u0006'))
    return { code: 'PHOTO_POLYGLOT', message: 'Ảnh chứa dữ liệu khác ngoài hình ảnh' };
  return undefined;
}

/**
 * The picture size a file declares in its header (JPEG SOFn, PNG IHDR, WebP VP8/VP8L/VP8X),
 * read without decoding anything; undefined when no header is found.
 */
export function declaredSize(b: Buffer): { width: number; height: number } | undefined {
  if (b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1] as number;
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2;
        continue;
      }
      const len = b.readUInt16BE(i + 2);
      const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (sof) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      i += 2 + len;
    }
    return undefined;
  }
  if (b.length >= 24 && b.toString('latin1', 12, 16) === 'IHDR')
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const chunk = b.toString('latin1', 12, 16);
    if (chunk === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
    if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const v = b.readUInt32LE(21);
      return { width: (v & 0x3fff) + 1, height: ((v >> 14) & 0x3fff) + 1 };
    }
  }
  return undefined;
}

export class PhotoIntake {
  readonly #o: typeof PHOTO_DEFAULTS;
  constructor(opts: PhotoOptions = {}) {
    this.#o = withDefaults(PHOTO_DEFAULTS, opts);
  }

  get maxBytes(): number {
    return this.#o.maxBytes;
  }

  /** Checks and re-encodes; `tmp(suffix)` gives scratch paths the caller removes. */
  async reencode(bytes: Buffer, tmp: (suffix: string) => string): Promise<Buffer> {
    const refusal = photoRefusal(bytes, this.#o.maxBytes);
    if (refusal) throw new LoaError(refusal.code, refusal.message);
    const demuxer = { 'image/jpeg': 'jpeg_pipe', 'image/png': 'png_pipe', 'image/webp': 'webp_pipe' }[
      sniffBytes(bytes.subarray(0, 64)).mediaType ?? ''
    ];
    if (!demuxer) throw new LoaError('PHOTO_TYPE', 'Chỉ nhận ảnh JPEG, PNG hoặc WebP');
    const declared = declaredSize(bytes);
    if (
      declared &&
      (declared.width * declared.height > this.#o.maxPixels ||
        declared.width > 20_000 ||
        declared.height > 20_000)
    )
      throw new LoaError('PHOTO_DIMENSIONS', 'Ảnh có kích thước bất thường', { details: declared });
    const input = tmp('.bin');
    const output = tmp('.jpg');
    await writeFile(input, bytes, { mode: 0o600 });
    const probe = await runProcess(
      this.#o.ffprobe,
      [
        '-v',
        'error',
        ...INPUT_GUARD,
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=width,height,codec_name',
        '-of',
        'json',
        input,
      ],
      { timeoutMs: this.#o.timeoutMs },
    );
    let w = 0;
    let h = 0;
    let codec = '';
    try {
      const s = (
        JSON.parse(probe.stdout) as { streams?: { width?: number; height?: number; codec_name?: string }[] }
      ).streams?.[0];
      w = s?.width ?? 0;
      h = s?.height ?? 0;
      codec = s?.codec_name ?? '';
    } catch {
      /* refused below */
    }
    if (probe.code !== 0 || !w || !h || !['mjpeg', 'png', 'webp'].includes(codec))
      throw new LoaError('PHOTO_UNDECODABLE', 'Không đọc được ảnh (tệp hỏng?)', {
        details: { tool: tail(probe.stderr) },
      });
    if (w * h > this.#o.maxPixels || w > 20_000 || h > 20_000)
      throw new LoaError('PHOTO_DIMENSIONS', 'Ảnh có kích thước bất thường', {
        details: { width: w, height: h },
      });
    const side = this.#o.maxSide;
    const r = await runProcess(
      this.#o.ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-v',
        'error',
        '-threads',
        '1',
        '-max_pixels',
        String(this.#o.maxPixels),
        ...INPUT_GUARD,
        '-f',
        demuxer,
        '-i',
        input,
        '-frames:v',
        '1',
        '-map',
        '0:v:0',
        '-map_metadata',
        '-1',
        '-vf',
        `scale='if(gt(iw,ih),min(${side},iw),-2)':'if(gt(iw,ih),-2,min(${side},ih))',format=yuvj420p`,
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        '-f',
        'image2',
        '-y',
        output,
      ],
      { timeoutMs: this.#o.timeoutMs },
    );
    if (r.code !== 0)
      throw new LoaError('PHOTO_UNDECODABLE', 'Không đọc được ảnh (tệp hỏng?)', {
        details: { tool: tail(r.stderr) },
      });
    const out = await readFile(output);
    if (sniffBytes(out).mediaType !== 'image/jpeg' || out.length < 100)
      throw new LoaError('PHOTO_UNDECODABLE', 'Không đọc được ảnh (tệp hỏng?)');
    return out;
  }
}
