/** Test helpers: bundle items made of real tones (ffmpeg), stored as blobs beside a harness. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Item } from '@loa/protocol';
import type { PlanBundle } from '../../agent/src/domain/scheduler/types.js';
import type { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { makeTone } from './audio/wav-tools.js';

/** A tone of `seconds` at `hz`, as an item whose blob lies in `dir`/blobs. */
export async function toneItem(dir: string, id: string, hz: number, seconds: number): Promise<Item> {
  const src = join(dir, `${id}.wav`);
  await makeTone(src, hz, seconds);
  const data = await readFile(src);
  const sha256 = createHash('sha256').update(data).digest('hex');
  await mkdir(join(dir, 'blobs'), { recursive: true });
  await writeFile(join(dir, 'blobs', sha256), data);
  return {
    id,
    title: `Âm ${hz} Hz`,
    kind: 'audio',
    priority: 'normal',
    lang: 'vi',
    blob: { sha256, size: data.length, mediaType: 'audio/wav' },
    durationMs: seconds * 1000,
  } as Item;
}

/** The bundle with its blobs in `dir`/blobs. */
export function withDir(b: PlanBundle, dir: string): PlanBundle {
  return { ...b, blobDir: join(dir, 'blobs') };
}

/** The WAV position (ms) of a wall-clock instant. */
export function position(audio: FfmpegAudioDriver, wallMs: number): number {
  return wallMs - (audio.outputOpenedAt() as number);
}
