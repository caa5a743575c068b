/**
 * A segment is one continuous run of one source to the output (one ffmpeg process in the real
 * driver, a timer in the simulator). Playbacks are built from segments: a file or a tone is one
 * segment; a stream relay is a sequence of stream and fallback segments.
 */
import type { AudioErrorCode, InputName, Levels, ToneSourceStep } from './types.js';

export type SegmentInput =
  | { kind: 'file'; path: string; offsetMs: number }
  /** A plain tone (the sine at its default level), or a routine of tones at set levels. */
  | { kind: 'tone'; frequencyHz: number; steps?: ToneSourceStep[] }
  | { kind: 'input'; input: InputName }
  | { kind: 'url'; url: string; format?: 'mp3' | 'aac' | 'ogg' | 'hls' };

export interface SegmentSpec {
  input: SegmentInput;
  /** Hard cap on output length, ms. */
  maxMs: number;
  volume: number;
  gainDb: number;
  /** Normalise the loudness on the fly (live sources). */
  normalize?: boolean;
  /** End the segment (end 'silence') once silence lasts this long (stream relays). */
  stopOnSilenceMs?: number;
  label?: string;
  /** Audio must come out at this instant of the driver's monotonic clock (prefetch). */
  startAt?: number;
  /** Hold the audio until this settles too (the previous playback on the output has ended). */
  after?: Promise<unknown>;
  /** Resolves when the output is not muted: audio is held until then (real driver). */
  audible?: () => Promise<void>;
  /** An emergency's sound: it may take the driver's waiting decoder (PlayRequest.urgent). */
  urgent?: boolean;
}

export interface SegmentResult {
  /** eof: the source ended or the cap was reached; stopped: stop() was called; silence: stopOnSilence fired. */
  end: 'eof' | 'stopped' | 'silence' | 'error';
  /** Audio produced, ms. */
  producedMs: number;
  loudnessLufs?: number;
  peakDbfs?: number;
  /** Longest silence seen, ms. */
  longestSilenceMs: number;
  error?: { code: AudioErrorCode; message: string };
}

export interface Segment {
  readonly done: Promise<SegmentResult>;
  /** Resolves when the first audio comes out (or when the segment ends without any). */
  readonly started: Promise<void>;
  stop(): void;
  elapsedMs(): number;
  levels(): Levels;
  /** OS process id (real driver), for fault tests. */
  readonly pid?: number;
  /**
   * Changes the gain of the audio on air (station volume 0..100 and item gain).
   * Resolves once the change has reached the output (or at once if nothing plays yet).
   */
  setLevel?(volume: number, gainDb: number): Promise<void>;
  /** Mutes the audio on air without stopping it; resolves once the output is silent. */
  setMuted?(muted: boolean): Promise<void>;
  /**
   * When the audio began to come out, on the driver's monotonic clock (may be earlier than
   * `started` resolved: the real driver learns it from ffmpeg's output clock).
   */
  startedAt?(): number | undefined;
}

export type SegmentRunner = (spec: SegmentSpec) => Segment;
