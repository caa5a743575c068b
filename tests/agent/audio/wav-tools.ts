/** Test helpers: generate real audio with ffmpeg / espeak-ng and inspect WAV files. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Wav {
  rate: number;
  channels: number;
  /** First channel (or the one asked for), as floats -1..1. */
  samples: Float32Array;
}

export async function readWav(path: string, channel = 0): Promise<Wav> {
  const buf = await readFile(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a WAV');
  let off = 12;
  let rate = 0;
  let channels = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10);
      rate = buf.readUInt32LE(off + 12);
    } else if (id === 'data') {
      const end = Math.min(buf.length, off + 8 + size);
      const frames = Math.floor((end - off - 8) / (2 * channels));
      const samples = new Float32Array(frames);
      const at = off + 8 + 2 * Math.min(channel, channels - 1);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(at + i * 2 * channels) / 32768;
      return { rate, channels, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** RMS (dBFS) per window of `windowMs`. */
export function rmsWindows(wav: Wav, windowMs = 10): number[] {
  const n = Math.max(1, Math.round((wav.rate * windowMs) / 1000));
  const out: number[] = [];
  for (let i = 0; i + n <= wav.samples.length; i += n) {
    let s = 0;
    for (let j = i; j < i + n; j++) s += (wav.samples[j] ?? 0) ** 2;
    out.push(10 * Math.log10(s / n + 1e-12));
  }
  return out;
}

/** Runs of sound louder than `thresholdDb`, in ms, merging gaps shorter than `mergeMs`. */
export function soundRuns(
  wav: Wav,
  thresholdDb = -40,
  windowMs = 10,
  mergeMs = 60,
): { startMs: number; endMs: number }[] {
  const w = rmsWindows(wav, windowMs);
  const runs: { startMs: number; endMs: number }[] = [];
  for (let i = 0; i < w.length; i++) {
    if ((w[i] ?? -200) < thresholdDb) continue;
    const t = i * windowMs;
    const last = runs.at(-1);
    if (last && t - last.endMs <= mergeMs) last.endMs = t + windowMs;
    else runs.push({ startMs: t, endMs: t + windowMs });
  }
  return runs;
}

/** Dominant frequency between two instants, by counting zero crossings. */
export function frequencyAt(wav: Wav, startMs: number, endMs: number): number {
  const a = Math.floor((startMs * wav.rate) / 1000);
  const b = Math.min(wav.samples.length, Math.floor((endMs * wav.rate) / 1000));
  let crossings = 0;
  for (let i = a + 1; i < b; i++) {
    const p = wav.samples[i - 1] ?? 0;
    const c = wav.samples[i] ?? 0;
    if ((p < 0 && c >= 0) || (p >= 0 && c < 0)) crossings++;
  }
  return crossings / 2 / ((b - a) / wav.rate);
}

export async function makeTone(
  path: string,
  frequencyHz: number,
  seconds: number,
  amplitude = 0.5,
): Promise<void> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${frequencyHz}:sample_rate=44100:duration=${seconds}`,
    '-af',
    `volume=${(20 * Math.log10(amplitude * 8)).toFixed(2)}dB`,
    path,
  ]);
}

/** Vietnamese speech from espeak-ng, encoded by ffmpeg (e.g. to .mp3 or .ogg). */
export async function makeSpeech(path: string, text: string): Promise<void> {
  const wav = `${path}.espeak.wav`;
  await run('espeak-ng', ['-v', 'vi', '-w', wav, text]);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, path]);
}

export async function probeDurationMs(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    path,
  ]);
  return Math.round(Number(stdout.trim()) * 1000);
}
