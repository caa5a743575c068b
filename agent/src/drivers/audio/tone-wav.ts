/**
 * A plain test or chime tone as WAV bytes (mono, 16-bit), the same sine as ffmpeg's
 * `sine=frequency=F` source (peak 4095, −18 dBFS): fed to a decoder that is already running (the
 * driver's waiting decoder), it sounds as the lavfi tone a new process would have generated.
 */

/** ffmpeg's asrc_sine amplitude (1/8 of full scale). */
const AMPLITUDE = 4095;
const HEADER_BYTES = 44;

/** The last tone made: a station's chime is the same every time, and a 30 s one is 2.9 MB. */
let last: { key: string; wav: Buffer } | undefined;

/** The tone's WAV bytes, made once per frequency, duration and rate (never written to after). */
export function toneWav(frequencyHz: number, durationMs: number, sampleRate: number): Buffer {
  const key = `${frequencyHz}:${durationMs}:${sampleRate}`;
  if (last?.key !== key) last = { key, wav: makeToneWav(frequencyHz, durationMs, sampleRate) };
  return last.wav;
}

function makeToneWav(frequencyHz: number, durationMs: number, sampleRate: number): Buffer {
  const samples = Math.max(0, Math.round((durationMs * sampleRate) / 1000));
  const dataBytes = samples * 2;
  const buf = Buffer.alloc(HEADER_BYTES + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < samples; i++)
    buf.writeInt16LE(Math.round(AMPLITUDE * Math.sin(step * i)), HEADER_BYTES + 2 * i);
  return buf;
}
