/** Measures real audio with ffmpeg: duration (ffprobe), mean/peak level (volumedetect), loudness (ebur128). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Measured {
  durationMs: number;
  meanDb: number;
  maxDb: number;
  lufs: number;
}

export async function measureAudio(path: string): Promise<Measured> {
  const probe = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    path,
  ]);
  const vol = await run('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-i',
    path,
    '-af',
    'volumedetect',
    '-f',
    'null',
    '-',
  ]);
  const loud = await run('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-i',
    path,
    '-af',
    'ebur128',
    '-f',
    'null',
    '-',
  ]);
  const summary = loud.stderr.slice(loud.stderr.lastIndexOf('Summary:'));
  return {
    durationMs: Math.round(Number.parseFloat(probe.stdout.trim()) * 1000),
    meanDb: Number.parseFloat(/mean_volume:\s*(-?[\d.]+)/.exec(vol.stderr)?.[1] ?? 'NaN'),
    maxDb: Number.parseFloat(/max_volume:\s*(-?[\d.]+)/.exec(vol.stderr)?.[1] ?? 'NaN'),
    lufs: Number.parseFloat(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1] ?? 'NaN'),
  };
}

/** The phonemes espeak-ng says for a text with a voice (its own transcript). */
export async function phonemes(text: string, voice = 'vi'): Promise<string> {
  const r = await run('espeak-ng', ['-q', '-x', '-v', voice, '--', text]);
  return r.stdout.replace(/\s+/g, ' ').trim();
}
