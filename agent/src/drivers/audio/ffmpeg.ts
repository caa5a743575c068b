/**
 * The real audio driver: Debian's ffmpeg through fluent-ffmpeg (archived upstream, so it stays
 * behind this one driver). One output, one playback at a time: play() stops the previous one.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoaError } from '@loa/protocol';
import ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import type { OutputStage } from '../../domain/output-profile.js';
import { outputFilters } from './ffmpeg-output.js';
import { FfmpegSegment } from './ffmpeg-segment.js';
import { OutputMute, SegmentPlayback } from './playback.js';
import type {
  AudioDriver,
  AudioOutput,
  CaptureInput,
  InputName,
  MeasureOptions,
  Playback,
  PlayRequest,
} from './types.js';
import { WavSink } from './wav-sink.js';

export interface FfmpegAudioOptions extends MeasureOptions {
  output: AudioOutput;
  /** Capture devices for line-in and the FM module. */
  inputs?: Partial<Record<InputName, CaptureInput>>;
  logger: Logger;
  ffmpegPath?: string;
  /** Network reads that stall this long fail (streams). Default 5000 ms. */
  ioTimeoutMs?: number;
  /**
   * The output profile's processing (domain/output-profile.ts `outputChain` at 48 kHz): band
   * limits, pre-emphasis and the limiter for an FM exciter or a wired line. Absent or empty:
   * none (a loudspeaker station).
   */
  outputChain?: readonly OutputStage[];
}

export class FfmpegAudioDriver implements AudioDriver {
  private sink: WavSink | undefined;
  private current: SegmentPlayback | undefined;
  private readonly active = new Set<SegmentPlayback>();
  private nextId = 1;
  private readonly log: Logger;

  private readonly filters: string[];

  constructor(private readonly opts: FfmpegAudioOptions) {
    this.log = opts.logger.child({ module: 'audio' });
    this.filters = outputFilters(opts.outputChain ?? []);
  }

  async open(): Promise<void> {
    if (this.opened) return;
    // fluent-ffmpeg probes ffmpeg's formats/encoders/filters once per process: do it now, not
    // on the first (possibly urgent) playback.
    await new Promise<void>((resolve, reject) => {
      const cmd = this.opts.ffmpegPath ? ffmpeg().setFfmpegPath(this.opts.ffmpegPath) : ffmpeg();
      cmd.getAvailableFormats((err) => {
        if (err) {
          reject(
            new LoaError(
              'AUDIO_FFMPEG_MISSING',
              `ffmpeg is not usable: ${err.message} (install it: apt-get install -y ffmpeg)`,
              { cause: err },
            ),
          );
          return;
        }
        cmd.getAvailableEncoders((err2) => (err2 ? reject(err2) : resolve()));
      });
    });
    if (this.opts.output.type === 'wav') {
      this.sink = new WavSink(this.opts.output.path);
      await this.sink.open();
    }
    this.opened = true;
    this.openedAt = Date.now();
    this.log.info({ output: this.opts.output.type }, 'audio output open');
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.prepare(undefined);
    const all = [...this.active];
    for (const p of all) p.stop();
    await Promise.all([...all.map((p) => p.result), spare?.done]);
    await this.sink?.close();
    this.sink = undefined;
    this.opened = false;
  }

  play(req: PlayRequest): Playback {
    const prev = this.current;
    const live = prev !== undefined && prev.state() !== 'ended';
    const queue = req.queue === true && live;
    if (!queue) for (const p of this.active) p.stop();
    const id = this.nextId++;
    const deps = this.segmentDeps();
    const pb = new SegmentPlayback(
      id,
      req,
      {
        runner: (spec) => {
          // A spare process at the same level takes the file at once (no process start-up).
          const spare = this.spare;
          const claimed = spare?.claim(spec) === true;
          if (claimed) this.spare = undefined;
          const seg = claimed && spare ? spare : new FfmpegSegment(spec, deps);
          // The segment on air is the one whose audio came out last (a queued one waits).
          void seg.started.then(() => {
            this.lastSegment = seg;
          });
          return seg;
        },
        now: () => performance.now(),
        sleep: (ms) => sleep(ms),
        deadAirMs: this.opts.deadAirMs ?? 5000,
      },
      // An ALSA device (hw:) is free only once the previous process has exited; the WAV and
      // null sinks cut the previous output at stop().
      // A queued playback follows the natural end of the previous one.
      live ? (queue || this.opts.output.type === 'alsa' ? prev.result : prev.released) : undefined,
      this.mute,
    );
    this.current = pb;
    this.active.add(pb);
    void pb.result.then((r) => {
      this.active.delete(pb);
      if (this.current === pb) this.current = [...this.active].at(-1);
      const level = r.outcome === 'failed' ? 'warn' : 'debug';
      this.log[level]({ id, label: req.label, ...r }, 'playback ended');
    });
    return pb;
  }

  async setMuted(muted: boolean): Promise<void> {
    if (this.mute.muted === muted) return;
    this.mute.set(muted);
    this.log.debug({ muted }, 'output mute');
    await Promise.all([...this.active].map((p) => p.setMuted(muted)));
  }

  /**
   * Keeps one ffmpeg process started and waiting at this level (volume and gain), so that the
   * next file playback at that level (an emergency's chime cutting in) starts without waiting
   * for a process; undefined ends it. The player keeps one while something is on air.
   */
  prepare(level: { volume: number; gainDb: number } | undefined): void {
    const cur = this.spare;
    if (cur && level && cur.runsAt(level.volume, level.gainDb)) return;
    this.spare = undefined;
    cur?.stop();
    if (!level || !this.opened) return;
    const spare = FfmpegSegment.spare(this.segmentDeps(), level, this.mute.audible);
    this.spare = spare;
    void spare.done.then(() => {
      if (this.spare === spare) this.spare = undefined;
    });
  }

  private segmentDeps() {
    return {
      output: this.opts.output,
      inputs: this.opts.inputs ?? {},
      logger: this.log,
      silenceDb: this.opts.silenceDb ?? -50,
      silenceDetectMs: Math.min(this.opts.deadAirMs ?? 5000, 2000),
      ioTimeoutMs: this.opts.ioTimeoutMs ?? 5000,
      ...(this.filters.length ? { outputFilters: this.filters } : {}),
      ...(this.sink ? { sink: this.sink } : {}),
      ...(this.opts.ffmpegPath ? { ffmpegPath: this.opts.ffmpegPath } : {}),
    };
  }

  /** The ffmpeg process playing now (fault tests kill it). */
  currentPid(): number | undefined {
    return this.lastSegment?.pid;
  }

  /** Wall-clock ms when the output opened: position 0 of the WAV sink. */
  outputOpenedAt(): number | undefined {
    return this.openedAt;
  }

  private lastSegment: FfmpegSegment | undefined;
  private opened = false;
  private openedAt: number | undefined;
  private readonly mute = new OutputMute();
  private spare: FfmpegSegment | undefined;
}

/** Length of an audio file in ms (ffprobe through fluent-ffmpeg); undefined when unknown. */
export function probeDurationMs(path: string, ffprobePath?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const cmd = ffmpeg(path);
    if (ffprobePath) cmd.setFfprobePath(ffprobePath);
    cmd.ffprobe((err, data) => {
      const d = Number(data?.format?.duration);
      resolve(err || !Number.isFinite(d) || d <= 0 ? undefined : Math.round(d * 1000));
    });
  });
}
