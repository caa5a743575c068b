/**
 * Media processing with Debian's ffmpeg/ffprobe (speech synthesis is the TTS port's: services/tts/).
 *
 * Station audio format (one for every station): Opus in Ogg, 48 kHz, mono, 48 kbit/s VBR
 * (`audio/ogg`), loudness-normalised with two-pass loudnorm to -16 LUFS integrated, true peak
 * ≤ -1.5 dBTP. The integrated loudness and true peak of the OUTPUT file are then measured with
 * ebur128 and recorded. Opus keeps speech clear at low bit rates (4G data) and every agent
 * decodes it with the same ffmpeg.
 */
import { readFile } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import { withDefaults } from '../defaults.js';
import { framesIn, INPUT_GUARD, imageDecodeArgs } from './media-intake.js';
import { runProcess, tail } from './process-run.js';

export const STATION_AUDIO = {
  mediaType: 'audio/ogg',
  codec: 'opus',
  sampleRate: 48_000,
  channels: 1,
  bitrate: '48k',
  extension: 'ogg',
} as const;

/**
 * Spoken emergencies: the same container and codec at a speech bitrate, so a short alert fits in
 * the emergency message itself (EMERGENCY_INLINE_MAX_BYTES: about 30 s at 16 kbit/s).
 */
export const SPEECH_AUDIO = { ...STATION_AUDIO, bitrate: '16k', application: 'voip' } as const;

export interface TranscoderOptions {
  ffmpeg?: string;
  ffprobe?: string;
  targetLufs?: number;
  truePeakDb?: number;
  lra?: number;
  /** Per tool run (default 10 minutes). */
  timeoutMs?: number;
  /** Longest accepted audio (default 2 hours). */
  maxDurationMs?: number;
}

/** Tools and targets when not given: EBU R128-style loudness for loudspeakers, generous limits. */
export const TRANSCODER_DEFAULTS = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffprobe',
  targetLufs: -16,
  truePeakDb: -1.5,
  lra: 11,
  timeoutMs: 10 * 60_000,
  maxDurationMs: 2 * 3600_000,
};

export interface ProbeStream {
  codecType: string;
  codecName: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

export interface ProbeResult {
  formatName: string;
  durationMs?: number;
  streams: ProbeStream[];
}

export interface Loudness {
  integratedLufs: number;
  truePeakDbfs: number;
}

export interface AudioLevels {
  /** Mean and peak level, dBFS (volumedetect). */
  meanDb: number;
  maxDb: number;
  /** Decoded length. */
  durationMs: number;
  /** Between the silent head and tail (the whole file when there is none). */
  speech: { startMs: number; endMs: number };
}

export interface AudioResult extends Loudness {
  durationMs: number;
  /** Loudness of the input before normalisation. */
  inputLufs: number;
}

interface LoudnormStats {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number.parseFloat(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

export class Transcoder {
  readonly #ffmpeg: string;
  readonly #ffprobe: string;
  readonly #target: number;
  readonly #tp: number;
  readonly #lra: number;
  readonly #timeoutMs: number;
  readonly #maxDurationMs: number;

  constructor(opts: TranscoderOptions = {}) {
    const o = withDefaults(TRANSCODER_DEFAULTS, opts);
    this.#ffmpeg = o.ffmpeg;
    this.#ffprobe = o.ffprobe;
    this.#target = o.targetLufs;
    this.#tp = o.truePeakDb;
    this.#lra = o.lra;
    this.#timeoutMs = o.timeoutMs;
    this.#maxDurationMs = o.maxDurationMs;
  }

  /**
   * ffmpeg decoding `input`'s audio through `filter` into nothing, for what the filter prints on
   * stderr (loudnorm, ebur128, volumedetect, silencedetect); `before` goes ahead of the filter.
   */
  #analyse(input: string, filter: string, before: readonly string[] = []) {
    return runProcess(
      this.#ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        ...INPUT_GUARD,
        '-i',
        input,
        '-vn',
        ...before,
        '-af',
        filter,
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: this.#timeoutMs },
    );
  }

  /** ffmpeg encoding `input`'s audio through `filter` into mono Opus in Ogg at `output`, without metadata. */
  #encodeOpus(input: string, output: string, filter: string, codec: readonly string[]) {
    return runProcess(
      this.#ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        '-loglevel',
        'error',
        '-y',
        ...INPUT_GUARD,
        '-i',
        input,
        '-vn',
        '-map_metadata',
        '-1',
        '-af',
        filter,
        '-ac',
        String(STATION_AUDIO.channels),
        '-c:a',
        'libopus',
        ...codec,
        '-f',
        'ogg',
        output,
      ],
      { timeoutMs: this.#timeoutMs },
    );
  }

  get targetLufs(): number {
    return this.#target;
  }

  /** Describes a media file; MEDIA_UNDECODABLE when ffprobe cannot read it. */
  async probe(path: string): Promise<ProbeResult> {
    const r = await runProcess(
      this.#ffprobe,
      ['-v', 'error', ...INPUT_GUARD, '-print_format', 'json', '-show_format', '-show_streams', '--', path],
      { timeoutMs: 60_000 },
    );
    if (r.code !== 0)
      throw new LoaError('MEDIA_UNDECODABLE', 'Không đọc được tệp: định dạng không hỗ trợ hoặc tệp bị hỏng', {
        details: { tool: tail(r.stderr) },
      });
    let json: { format?: Record<string, unknown>; streams?: Record<string, unknown>[] };
    try {
      json = JSON.parse(r.stdout);
    } catch (cause) {
      throw new LoaError('MEDIA_UNDECODABLE', 'Không đọc được thông tin tệp', { cause });
    }
    const seconds = num(json.format?.duration);
    const streams = (json.streams ?? []).map((s) => {
      const out: ProbeStream = {
        codecType: String(s.codec_type ?? ''),
        codecName: String(s.codec_name ?? ''),
      };
      const w = num(s.width);
      const h = num(s.height);
      const sr = num(s.sample_rate);
      const ch = num(s.channels);
      if (w !== undefined) out.width = w;
      if (h !== undefined) out.height = h;
      if (sr !== undefined) out.sampleRate = sr;
      if (ch !== undefined) out.channels = ch;
      return out;
    });
    const res: ProbeResult = { formatName: String(json.format?.format_name ?? ''), streams };
    if (seconds !== undefined) res.durationMs = Math.round(seconds * 1000);
    return res;
  }

  /**
   * Transcodes any audio ffmpeg decodes into the station format at `output`, normalised with
   * two-pass loudnorm, and measures the result. `trim` keeps only that span of the input (a
   * recording's silent head and tail cut off); `speech`: at the speech bitrate (SPEECH_AUDIO).
   */
  async transcodeAudio(
    input: string,
    output: string,
    opts: { trim?: { startMs: number; endMs: number }; speech?: boolean } = {},
  ): Promise<AudioResult> {
    const cut = opts.trim
      ? `atrim=start=${(opts.trim.startMs / 1000).toFixed(3)}:end=${(opts.trim.endMs / 1000).toFixed(3)},asetpts=PTS-STARTPTS,`
      : '';
    const codec = opts.speech
      ? ['-b:a', SPEECH_AUDIO.bitrate, '-application', SPEECH_AUDIO.application]
      : ['-b:a', STATION_AUDIO.bitrate];
    const filter = `loudnorm=I=${this.#target}:TP=${this.#tp}:LRA=${this.#lra}`;
    const pass1 = await this.#analyse(input, `${cut}${filter}:print_format=json`);
    if (pass1.code !== 0)
      throw new LoaError(
        'MEDIA_UNDECODABLE',
        'Không giải mã được tệp âm thanh (định dạng không hỗ trợ hoặc tệp hỏng)',
        {
          details: { tool: tail(pass1.stderr) },
        },
      );
    const stats = parseLoudnorm(pass1.stderr);
    const inputLufs = num(stats?.input_i);
    if (!stats || inputLufs === undefined || inputLufs < -70)
      throw new LoaError('AUDIO_SILENT', 'Tệp âm thanh im lặng hoặc quá nhỏ, không thể chuẩn hoá âm lượng', {
        details: { inputLufs: stats?.input_i },
      });
    const measured = [
      `measured_I=${stats.input_i}`,
      `measured_TP=${num(stats.input_tp) ?? -99}`,
      `measured_LRA=${num(stats.input_lra) ?? 0}`,
      `measured_thresh=${num(stats.input_thresh) ?? -70}`,
      `offset=${num(stats.target_offset) ?? 0}`,
      'linear=true',
    ].join(':');
    const pass2 = await this.#encodeOpus(
      input,
      output,
      `${cut}${filter}:${measured},aresample=${STATION_AUDIO.sampleRate}`,
      [...codec, '-vbr', 'on'],
    );
    if (pass2.code !== 0)
      throw new LoaError('TRANSCODE_FAILED', 'Chuyển đổi âm thanh thất bại', {
        details: { tool: tail(pass2.stderr) },
      });
    const probe = await this.probe(output);
    const durationMs = probe.durationMs ?? 0;
    if (durationMs <= 0)
      throw new LoaError('TRANSCODE_FAILED', 'Tệp âm thanh sau chuyển đổi không có thời lượng');
    if (durationMs > this.#maxDurationMs)
      throw new LoaError(
        'AUDIO_TOO_LONG',
        `Âm thanh dài quá ${Math.round(this.#maxDurationMs / 60_000)} phút`,
      );
    const loud = await this.measure(output);
    return { ...loud, durationMs, inputLufs };
  }

  /** Integrated loudness (EBU R128) and true peak of a file, measured with ebur128. */
  async measure(path: string): Promise<Loudness> {
    const r = await this.#analyse(path, 'ebur128=peak=true');
    if (r.code !== 0)
      throw new LoaError('MEDIA_UNDECODABLE', 'Không đo được độ lớn âm thanh', {
        details: { tool: tail(r.stderr) },
      });
    const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
    const i = num(/I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1]);
    const peak = num(/Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1]);
    if (i === undefined) throw new LoaError('MEASURE_FAILED', 'Không đọc được kết quả đo độ lớn âm thanh');
    return { integratedLufs: i, truePeakDbfs: peak ?? -200 };
  }

  /** MEDIA_UNDECODABLE unless the image decodes to at least one frame. */
  async verifyImage(path: string): Promise<void> {
    const r = await runProcess(this.#ffmpeg, imageDecodeArgs(path), { timeoutMs: 60_000 });
    if (r.code !== 0 || framesIn(r.stdout) < 1)
      throw new LoaError('MEDIA_UNDECODABLE', 'Không đọc được ảnh (tệp hỏng?)', {
        details: { tool: tail(r.stderr) },
      });
  }

  /**
   * Levels of an audio file measured with volumedetect: mean and peak (dBFS), the decoded length
   * and, from silencedetect, the span between its silent head and tail (below `silenceDb` for at
   * least 0.3 s; `PAD_MS` of the silence kept on each side). MEDIA_UNDECODABLE when ffmpeg cannot
   * decode it.
   */
  async levels(path: string, silenceDb = -50): Promise<AudioLevels> {
    const r = await this.#analyse(path, `silencedetect=noise=${silenceDb}dB:d=0.3,volumedetect`, [
      '-ac',
      '1',
      '-ar',
      '48000',
    ]);
    if (r.code !== 0)
      throw new LoaError('MEDIA_UNDECODABLE', 'Không giải mã được tệp âm thanh', {
        details: { tool: tail(r.stderr) },
      });
    const samples = num(/n_samples:\s*(\d+)/.exec(r.stderr)?.[1]) ?? 0;
    // digital silence: volumedetect prints -91 dB (no sample above the 16-bit floor)
    const mean = num(/mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(r.stderr)?.[1]) ?? -91;
    const max = num(/max_volume:\s*(-?[\d.]+|-inf) dB/.exec(r.stderr)?.[1]) ?? -91;
    const durationMs = Math.round((samples / 48_000) * 1000);
    return { meanDb: mean, maxDb: max, durationMs, speech: speechSpan(r.stderr, durationMs) };
  }

  /**
   * A quick listening copy (Opus in Ogg, 32 kbit/s, one-pass loudnorm) for previews that are
   * played in the browser and never stored.
   */
  async encodePreview(input: string, output: string): Promise<{ bytes: Buffer; durationMs: number }> {
    const r = await this.#encodeOpus(
      input,
      output,
      `loudnorm=I=${this.#target}:TP=${this.#tp}:LRA=${this.#lra},aresample=${STATION_AUDIO.sampleRate}`,
      ['-b:a', '32k'],
    );
    if (r.code !== 0)
      throw new LoaError('TRANSCODE_FAILED', 'Không tạo được bản nghe thử', {
        details: { tool: tail(r.stderr) },
      });
    const probe = await this.probe(output);
    return { bytes: await readFile(output), durationMs: probe.durationMs ?? 0 };
  }
}

/** Silence kept before and after the speech when a recording's head and tail are cut. */
const PAD_MS = 250;

/**
 * The span of a file between a silence at its very start and one running to its end, from
 * silencedetect's lines ("silence_start: 0.0075", "silence_end: 1.92 | …"; timestamps may start
 * a few milliseconds late, after an Opus pre-skip).
 */
export function speechSpan(stderr: string, durationMs: number): { startMs: number; endMs: number } {
  const events = [...stderr.matchAll(/silence_(start|end): (-?[\d.]+)/g)].map((m) => ({
    kind: m[1] as 'start' | 'end',
    ms: Math.max(0, Math.round(Number.parseFloat(m[2] ?? '0') * 1000)),
  }));
  let startMs = 0;
  let endMs = durationMs;
  const first = events[0];
  const second = events[1];
  if (first?.kind === 'start' && first.ms <= 50 && second?.kind === 'end') {
    // silence from start to end: nothing to cut (the level check refuses such a file)
    if (second.ms >= durationMs - 100) return { startMs: 0, endMs: durationMs };
    startMs = second.ms;
  }
  // the tail: the last silence that starts after the speech and runs to the end (silencedetect
  // closes it at the end of the stream, or leaves it open)
  const lastStart = events.map((e) => e.kind).lastIndexOf('start');
  const tail = events[lastStart];
  const closing = events[lastStart + 1];
  if (tail && tail.ms > startMs && (!closing || closing.ms >= durationMs - 100)) endMs = tail.ms;
  startMs = Math.max(0, startMs - PAD_MS);
  endMs = Math.min(durationMs, endMs + PAD_MS);
  return endMs > startMs ? { startMs, endMs } : { startMs: 0, endMs: durationMs };
}

/** Extracts loudnorm's JSON block from ffmpeg's stderr. */
export function parseLoudnorm(stderr: string): LoudnormStats | undefined {
  const at = stderr.lastIndexOf('[Parsed_loudnorm');
  if (at < 0) return undefined;
  const start = stderr.indexOf('{', at);
  const end = stderr.indexOf('}', start);
  if (start < 0 || end < 0) return undefined;
  try {
    return JSON.parse(stderr.slice(start, end + 1)) as LoudnormStats;
  } catch {
    return undefined;
  }
}
