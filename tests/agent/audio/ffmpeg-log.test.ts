import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FfmpegLogParser, volumeFilter } from '../../../agent/src/drivers/audio/ffmpeg-log.js';
import { WavSink, wavHeader } from '../../../agent/src/drivers/audio/wav-sink.js';
import { readWav } from './wav-tools.js';

// Lines as Debian's ffmpeg 5.1 writes them (ebur128 frames, summary, astats, silencedetect).
const STDERR = [
  '[Parsed_ebur128_3 @ 0x55b856e303c0] t: 0.0999773  TARGET:-23 LUFS    M:-120.7 S:-120.7     I: -70.0 LUFS       LRA:   0.0 LU  SPK: -24.1 dBFS',
  '[Parsed_ebur128_3 @ 0x55b856e303c0] t: 0.399977   TARGET:-23 LUFS    M: -27.8 S:-120.7     I: -27.8 LUFS       LRA:   0.0 LU  SPK: -24.1 dBFS',
  '[silencedetect @ 0x55d1] silence_start: 0.5',
  '[Parsed_ebur128_3 @ 0x55b856e303c0] t: 2.89998    TARGET:-23 LUFS    M: -inf S:-120.7     I: -27.8 LUFS       LRA:   0.0 LU  SPK: -24.1 dBFS',
  '[silencedetect @ 0x55d1] silence_end: 2.9 | silence_duration: 2.4',
  '[Parsed_ebur128_3 @ 0x55b856e303c0] t: 3.49998    TARGET:-23 LUFS    M: -21.0 S:-120.7     I: -25.0 LUFS       LRA:   0.0 LU  SPK: -24.1 dBFS',
  '[Parsed_astats_4 @ 0x55b856e30ec0] Overall',
  '[Parsed_astats_4 @ 0x55b856e30ec0] Peak level dB: -24.063921',
  '[Parsed_ebur128_3 @ 0x55b856e303c0] Summary:',
  '',
  '  Integrated loudness:',
  '    I:         -27.8 LUFS',
  '    Threshold: -37.8 LUFS',
  '  Sample peak:',
  '    Peak:      -24.1 dBFS',
  'http://127.0.0.1:9/live: Connection refused',
];

describe('ffmpeg stderr parser', () => {
  test('reads time, momentary and integrated loudness, peak, silences and errors', () => {
    const p = new FfmpegLogParser();
    const frames = STDERR.map((l) => p.line(l)).filter(Boolean).length;
    expect(frames).toBe(4);
    expect(p.m.timeMs).toBe(3500);
    expect(p.m.momentaryLufs).toBe(-21);
    expect(p.m.integratedLufs).toBe(-27.8);
    expect(p.m.peakDbfs).toBeCloseTo(-24.064, 3);
    expect(p.longestSilenceMs()).toBe(2400);
    expect(p.currentSilenceMs()).toBe(0);
    expect(p.m.errors).toEqual(['http://127.0.0.1:9/live: Connection refused']);
  });

  test('a silence still running at the end counts; -70 LUFS (the gate) means nothing measured', () => {
    const p = new FfmpegLogParser();
    p.line('[silencedetect @ 0x1] silence_start: 1');
    p.line('[Parsed_ebur128_0 @ 0x1] t: 4.0  TARGET:-23 LUFS    M:-120.7 S:-120.7     I: -70.0 LUFS');
    p.line('  Summary:');
    p.line('    I:         -70.0 LUFS');
    expect(p.currentSilenceMs()).toBe(3000);
    expect(p.m.integratedLufs).toBeUndefined();
  });

  test('volume 0..100 maps to a gain; 0 mutes', () => {
    expect(volumeFilter(100, 0)).toBe('volume=0.00dB');
    expect(volumeFilter(50, 0)).toBe('volume=-6.02dB');
    expect(volumeFilter(100, -3)).toBe('volume=-3.00dB');
    expect(volumeFilter(0, 6)).toBe('volume=0');
  });
});

describe('WAV sink', () => {
  test('writes a valid header and places each segment at its clock position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loa-wavsink-'));
    let t = 0;
    const sink = new WavSink(join(dir, 'o.wav'), () => t);
    await sink.open();
    t = 250; // 250 ms later a sound of 100 ms comes out
    sink.beginSegment();
    const frames = 4800;
    const pcm = Buffer.alloc(frames * 4);
    for (let i = 0; i < frames; i++) {
      pcm.writeInt16LE(10_000, i * 4);
      pcm.writeInt16LE(10_000, i * 4 + 2);
    }
    sink.write(pcm);
    await sink.flush();
    t = 600;
    await sink.close();
    const wav = await readWav(join(dir, 'o.wav'));
    expect(wav.rate).toBe(48_000);
    expect(wav.channels).toBe(2);
    expect(wav.samples.length).toBe(600 * 48);
    const firstLoud = wav.samples.findIndex((x) => x !== 0);
    expect(firstLoud).toBe(250 * 48);
    expect(wav.samples[250 * 48 + frames]).toBe(0);
    const raw = await readFile(join(dir, 'o.wav'));
    expect(raw.subarray(0, 44).equals(wavHeader(600 * 48 * 4))).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});
