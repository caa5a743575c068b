/**
 * Reading the agent's WAV sink while the agent still runs. The sink writes its header with a
 * data size of 0 and fixes it only when the output closes, so a running agent's file is read up
 * to its current end. Position 0 of the file is the instant the sink created it: the file's
 * birth time (statx btime) gives that instant on the wall clock.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Wav } from '../../agent/audio/wav-tools.js';

/** Parses a WAV file that may still be written (a data size of 0 or past the end: read to the end). */
export async function readLiveWav(path: string): Promise<Wav> {
  const buf = await readFile(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path} is not a WAV file`);
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
      if (!rate || !channels) throw new Error(`${path}: data before fmt`);
      const declaredEnd = off + 8 + size;
      const end = size === 0 || declaredEnd > buf.length ? buf.length : declaredEnd;
      const frames = Math.floor((end - off - 8) / (2 * channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(off + 8 + i * 2 * channels) / 32768;
      return { rate, channels, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

/**
 * Wall-clock ms of the file's creation (position 0 of the sink), or undefined where the file
 * system does not record birth times.
 */
export async function wavOriginMs(path: string): Promise<number | undefined> {
  const s = await stat(path);
  return s.birthtimeMs > 0 ? s.birthtimeMs : undefined;
}
