import { extname } from 'node:path';
import type { ItemKind } from '../manifest.js';

/** Media types Loa plays or shows, by file extension (lowercase, with the dot). */
export const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.flac': 'audio/flac',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.txt': 'text/plain',
};

/** The media type of a file from its extension, or undefined when Loa does not know it. */
export function mediaTypeForPath(path: string): string | undefined {
  return MEDIA_TYPES[extname(path).toLowerCase()];
}

/** The item kind that plays a media type: audio, image, video or text. */
export function kindForMediaType(mediaType: string): Exclude<ItemKind, 'stream' | 'fm'> | undefined {
  const top = mediaType.split('/')[0];
  if (top === 'audio' || top === 'image' || top === 'video') return top;
  if (top === 'text') return 'text';
  return undefined;
}
