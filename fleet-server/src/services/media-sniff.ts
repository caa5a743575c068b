/**
 * Recognises uploaded media by its first bytes (never by the file name alone).
 */
import { open } from 'node:fs/promises';

export type SniffedFamily = 'image' | 'av' | 'unknown';

export interface Sniffed {
  family: SniffedFamily;
  /** Media type when the magic number identifies it. */
  mediaType?: string;
}

const startsWith = (b: Buffer, sig: readonly number[], at = 0): boolean =>
  b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (b: Buffer, s: string, at = 0): boolean =>
  b.subarray(at, at + s.length).toString('latin1') === s;

/** Classifies a file by its magic number. */
export function sniffBytes(b: Buffer): Sniffed {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { family: 'image', mediaType: 'image/png' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { family: 'image', mediaType: 'image/jpeg' };
  if (ascii(b, 'RIFF') && ascii(b, 'WEBP', 8)) return { family: 'image', mediaType: 'image/webp' };
  if (ascii(b, 'RIFF') && ascii(b, 'WAVE', 8)) return { family: 'av', mediaType: 'audio/wav' };
  if (ascii(b, 'OggS')) return { family: 'av', mediaType: 'audio/ogg' };
  if (ascii(b, 'fLaC')) return { family: 'av', mediaType: 'audio/flac' };
  if (ascii(b, 'ID3')) return { family: 'av', mediaType: 'audio/mpeg' };
  if (b.length >= 2 && b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)
    return { family: 'av', mediaType: 'audio/mpeg' };
  if (ascii(b, 'ftyp', 4)) return { family: 'av', mediaType: 'video/mp4' };
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return { family: 'av', mediaType: 'video/webm' };
  if (ascii(b, '#!AMR')) return { family: 'av', mediaType: 'audio/amr' };
  if (ascii(b, 'FORM') && (ascii(b, 'AIFF', 8) || ascii(b, 'AIFC', 8)))
    return { family: 'av', mediaType: 'audio/aiff' };
  return { family: 'unknown' };
}

/** Reads the first bytes of a file and classifies it. */
export async function sniffFile(path: string): Promise<Sniffed> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    return sniffBytes(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
