/**
 * What an upload may be, as ffprobe/ffmpeg input options. An upload is one self-contained media
 * file: a playlist or any container that points at other files (HLS, concat, image2 patterns,
 * subtitle or data formats) would make the server read its own disk. Every ffprobe/ffmpeg run on
 * an upload therefore gets
 *   - `-protocol_whitelist file`: no network, no pipes, no data: URLs;
 *   - `-format_whitelist <demuxers>`: only the demuxers of the accepted upload formats.
 * An image must also decode (a valid signature followed by garbage is refused).
 */

/** Demuxers of accepted uploads (ffmpeg names; "mov" covers mp4/m4a, "matroska" covers webm). */
export const UPLOAD_DEMUXERS = [
  'mp3',
  'aac',
  'wav',
  'ogg',
  'flac',
  'mov',
  'matroska',
  'amr',
  'aiff',
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
] as const;

/** Input options placed before every `-i` (and before the probed path). */
export const INPUT_GUARD: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  UPLOAD_DEMUXERS.join(','),
];

/** Arguments of an ffmpeg run that decodes the first frame of an image and prints its CRC. */
export function imageDecodeArgs(path: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-xerror',
    ...INPUT_GUARD,
    '-i',
    path,
    '-frames:v',
    '1',
    '-f',
    'framecrc',
    '-',
  ];
}

/** Decoded frames in framecrc output (lines that are not comments). */
export function framesIn(framecrc: string): number {
  return framecrc.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
}
