/**
 * The audio driver: one interface, a real implementation on fluent-ffmpeg + Debian's ffmpeg
 * (ffmpeg.ts) and a simulated one with injected timers (sim.ts). The same contract suite
 * (tests/contracts/audio.test.ts) runs against both.
 *
 * A playback never rejects: its `result` resolves with outcome completed | stopped | failed.
 */

/** One tone of a test tone routine (domain/output-profile.ts plans them). */
export interface ToneSourceStep {
  frequencyHz: number;
  durationMs: number;
  /** Peak level at the source, dBFS (before the output profile's chain). */
  levelDbfs: number;
  channel: 'both' | 'left' | 'right';
}

/** Where the audio goes. */
export type AudioOutput =
  /** An ALSA playback device on a station, e.g. "default" or "hw:0,0". */
  | { type: 'alsa'; device: string }
  /**
   * A WAV file that behaves like a sound card: it runs in real time from `open()`, silence is
   * written between playbacks, so a sound's position in the file is the time it came out.
   */
  | { type: 'wav'; path: string }
  /** Discard the audio, paced in real time (`-re`). */
  | { type: 'null' };

/** An ffmpeg input for line-in / the FM module, e.g. { format: 'alsa', device: 'hw:1,0' }. */
export interface CaptureInput {
  /** ffmpeg input format (`-f`), e.g. "alsa" or "lavfi" (in tests and the simulator). */
  format: string;
  /** ffmpeg input (`-i`), e.g. "hw:1,0". */
  device: string;
}

export type InputName = 'fm' | 'line';

/** What to play. */
export type AudioSource =
  /**
   * A bundle file (content-addressed blob). offsetMs resumes an interrupted item; durationMs is
   * the item's full length when known (play stops there; the simulator needs it for timing).
   */
  | { kind: 'file'; path: string; offsetMs?: number; durationMs?: number }
  /**
   * A sine test tone (at the sine's default level, −18 dBFS), or a routine of tones at set
   * levels and channels (`steps`, played back to back; durationMs is then their sum).
   */
  | { kind: 'tone'; frequencyHz: number; durationMs: number; steps?: ToneSourceStep[] }
  /** Line-in or the FM receiver's audio for a time. */
  | { kind: 'input'; input: InputName; durationMs: number }
  /** A live HTTP/Icecast relay with reconnect and fallback. */
  | { kind: 'stream'; url: string; durationMs: number; relay?: StreamRelayOptions }
  /**
   * A live relay from any primary source (a stream, or the FM module's capture after tuning),
   * with the fallback chain of `relay.chain`. It runs for durationMs of wall time.
   */
  | { kind: 'live'; primary: RelayStep; durationMs: number; relay?: StreamRelayOptions };

/** A live stream's container when known (skips ffmpeg's format probing). */
export type StreamFormat = 'mp3' | 'aac' | 'ogg' | 'hls';

/** Names of the sources a relay switches between (proofs and health carry them). */
export type RelaySourceName = 'stream' | 'fm' | 'line' | 'recording' | 'silence';

/** One source of a relay: its primary, or a step of its fallback chain. */
export type RelayStep =
  | { kind: 'stream'; url: string; format?: StreamFormat }
  | {
      kind: 'input';
      input: InputName;
      /**
       * Called before the input is played (e.g. tune the FM module and check its signal); a
       * rejection counts as this source failing, with the error's message as the reason.
       */
      prepare?: () => Promise<void>;
    }
  | { kind: 'file'; path: string };

export interface StreamRelayOptions {
  /** Give up on the stream (switch to the fallback) after this long failing or silent. Default 10 s. */
  failoverMs?: number;
  /** Wait between reconnect attempts. Default 1 s. */
  reconnectDelayMs?: number;
  /** Silence (below silenceDb) longer than this counts as failure. Default 8 s. */
  silenceMs?: number;
  /** What to play once the stream has failed: a cached file or an input. Absent: silence (failed). */
  fallback?: { kind: 'file'; path: string } | { kind: 'input'; input: InputName };
  /** After a fallback has played for this long (or a fallback file ended), try the stream again. Default 60 s. */
  retryAfterMs?: number;
  /**
   * The fallback chain, tried in order once the primary has failed (each step that fails hands
   * over to the next; after the last, silence). Replaces `fallback` when given.
   */
  chain?: RelayStep[];
  /** Normalise the loudness of the live source on the fly (not of the fallback recording). */
  normalize?: boolean;
  /** Called when the relay falls silent because every source failed (for an alert). */
  onSilence?: (reason: string) => void;
  /** Called once when the relay ends (e.g. mute the FM module again). */
  release?: () => Promise<void>;
}

export interface PlayRequest {
  source: AudioSource;
  /** Gain in dB on top of the volume (the item's gainDb). */
  gainDb?: number;
  /** Station volume 0..100 (100 = unity gain). Default 100. */
  volume?: number;
  /** For logs: slot or item id. */
  label?: string;
  /**
   * Hold the audio until this long after play() (prefetch): the decoder starts now and waits, so
   * its start-up time does not delay the sound. Files are held at the input (the decoder reads
   * them from a pipe opened at the start instant); other sources start their process then.
   */
  startDelayMs?: number;
  /**
   * Queue after the playback on air instead of stopping it: the decoder starts now and its audio
   * follows when the previous one ends (back-to-back items without a start-up gap).
   */
  queue?: boolean;
  /**
   * An emergency's sound (its chime or its audio): a file from its start, or a plain tone, may
   * take the decoder the driver keeps waiting (`AudioDriver.prepare`), at this request's level.
   * Other playbacks never take it.
   */
  urgent?: boolean;
}

/** Stable error codes a failed playback carries. */
export type AudioErrorCode =
  | 'AUDIO_FILE_MISSING'
  | 'AUDIO_DECODE_FAILED'
  | 'AUDIO_PROCESS_DIED'
  | 'AUDIO_OUTPUT_FAILED'
  | 'AUDIO_STREAM_FAILED'
  | 'AUDIO_INPUT_UNAVAILABLE'
  | 'AUDIO_BAD_REQUEST';

export interface PlayResult {
  outcome: 'completed' | 'stopped' | 'failed';
  /** Position reached in the source, in ms (includes the start offset). */
  positionMs: number;
  /** How long audio was actually produced, in ms. */
  playedMs: number;
  /** Integrated loudness (EBU R128) measured on the output, if measured. */
  loudnessLufs?: number;
  /** Sample peak of the output in dBFS, if measured. */
  peakDbfs?: number;
  /** A silence of at least the dead-air threshold happened on the output. */
  deadAir: boolean;
  /** Stream relays: what happened (connects, failures, whether the fallback played). */
  relay?: RelayReport;
  error?: { code: AudioErrorCode; message: string };
}

export interface RelayReport {
  connects: number;
  failures: number;
  fallbackUsed: boolean;
  /** ms of audio from the stream itself vs from the fallback. */
  streamMs: number;
  fallbackMs: number;
  /** Every change of source, ms after the relay began, with the reason (at most 32). */
  switches: { atMs: number; to: RelaySourceName; reason: string }[];
}

/** Live levels while playing (for health / the technician page). */
export interface Levels {
  momentaryLufs?: number;
  peakDbfs?: number;
  /** Silence detected right now. */
  silent?: boolean;
}

export interface Playback {
  readonly id: number;
  /** Resolves once the playback has ended for any reason; never rejects. */
  readonly result: Promise<PlayResult>;
  /** Resolves when audio first comes out (or with the result if it never does). */
  readonly started: Promise<void>;
  /** Stop it now; the result's outcome is `stopped`. Safe to call twice or after the end. */
  stop(): void;
  /** Current position in the source, ms. */
  position(): number;
  levels(): Levels;
  /** Source being played right now: the stream or its fallback (stream relays). */
  readonly state: () => 'starting' | 'playing' | 'fallback' | 'reconnecting' | 'ended';
  /** Live relays: the source on air now and why it was taken (undefined for other playbacks). */
  source?(): { name: RelaySourceName; reason?: string } | undefined;
  /**
   * How long ago the audio began to come out (0 before): `started` may resolve later than that
   * (the real driver learns the instant from ffmpeg's output clock).
   */
  startLagMs(): number;
  /**
   * Changes the volume (0..100) of this playback while it plays (and of later segments, e.g. a
   * relay's fallback). Resolves once the change has reached the output.
   */
  setVolume(volume: number): Promise<void>;
}

export interface AudioDriver {
  /** Opens the output (the WAV sink starts its clock here). */
  open(): Promise<void>;
  /** Stops any playback and closes the output (finalises the WAV header). */
  close(): Promise<void>;
  play(req: PlayRequest): Playback;
  /**
   * Mutes (or unmutes) the output for every playback, present and later, without stopping them
   * (the amplifier switches relays meanwhile). Resolves once the output is silent (unmuted:
   * once the audio is back).
   */
  setMuted(muted: boolean): Promise<void>;
  /**
   * Optional: keep (true) one decoder started and waiting for input, so the next urgent playback
   * (an emergency's file or tone, at whatever level it asks) starts without a process start-up;
   * one that is taken or dies is replaced while kept. false lets it go.
   */
  prepare?(keep: boolean): void;
}

/** Loudness/peak/dead-air thresholds. */
export interface MeasureOptions {
  /** Output below this (dBFS) counts as silence. Default -50. */
  silenceDb?: number;
  /** A silence this long is dead air. Default 5000 ms. */
  deadAirMs?: number;
}
