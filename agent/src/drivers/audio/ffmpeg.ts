/**
 * The real audio driver: Debian's ffmpeg through fluent-ffmpeg (archived upstream, so it stays
 * behind this one driver). One output, one playback at a time: play() stops the previous one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A waiting decoder that died is replaced after this long, doubling up to SPARE_RETRY_MAX_MS. */
const SPARE_RETRY_MS = 1000;
const SPARE_RETRY_MAX_MS = 60_000;
/** A waiting decoder that lived this long resets the retry delay. */
const SPARE_HEALTHY_MS = 60_000;

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
    this.keepSpare();
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.prepare(false);
    const all = [...this.active];
    for (const p of all) p.stop();
    await Promise.all([...all.map((p) => p.result), spare?.done]);
    await this.sink?.close();
    this.sink = undefined;
    this.opened = false;
    if (this.ownRunDir) rmSync(this.ownRunDir, { recursive: true, force: true });
    this.ownRunDir = undefined;
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
          // An emergency's sound takes the waiting process at once (no process start-up).
          const spare = this.spare;
          const claimed = spare?.claim(spec) === true;
          if (claimed) {
            this.log.info({ id, label: req.label }, 'urgent playback took the waiting decoder');
            this.spare = undefined;
            this.spareClaims++;
            this.spareRetryMs = SPARE_RETRY_MS;
          }
          const seg = claimed && spare ? spare : new FfmpegSegment(spec, deps);
          // The segment on air is the one whose audio came out last (a queued one waits).
          void seg.started.then(() => {
            this.lastSegment = seg;
            // Replaced once the audio is out (not while the emergency starts).
            if (claimed) this.keepSpare();
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
   * Keeps (true) one ffmpeg process started and waiting for input, so that the next urgent
   * playback (an emergency's chime or audio cutting in) starts without waiting for a process, at
   * the level it asks (written to the process's level file when it takes it). One that is taken
   * is replaced once its audio is out; one that dies is replaced after 1 s, doubling up to a
   * minute while they keep dying. false ends it.
   */
  prepare(keep: boolean): void {
    this.keep = keep;
    if (keep) {
      this.keepSpare();
      return;
    }
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const cur = this.spare;
    this.spare = undefined;
    cur?.stop();
  }

  /** The waiting process (tests kill it), and how many playbacks took one. */
  spareInfo(): { pid: number | undefined; claims: number } {
    return { pid: this.spare?.pid, claims: this.spareClaims };
  }

  private keepSpare(): void {
    if (!this.keep || !this.opened || this.spare || this.retryTimer !== undefined) return;
    const file = join(this.runDir(), `spare-${this.nextSpare++}.cmd`);
    let spare: FfmpegSegment;
    try {
      spare = FfmpegSegment.spare(this.segmentDeps(), this.mute.audible, file);
    } catch (err) {
      this.log.warn(
        { err, code: 'AUDIO_SPARE_FAILED' },
        'no waiting decoder: its level file cannot be written',
      );
      this.retrySpare();
      return;
    }
    this.spare = spare;
    const bornAt = performance.now();
    void spare.done.then((r) => {
      rmSync(file, { force: true });
      if (this.spare !== spare) return; // taken by a playback, or let go
      this.spare = undefined;
      if (performance.now() - bornAt >= SPARE_HEALTHY_MS) this.spareRetryMs = SPARE_RETRY_MS;
      this.log.warn(
        { code: 'AUDIO_SPARE_DIED', error: r.error, retryMs: this.spareRetryMs },
        'the waiting decoder ended: starting another',
      );
      this.retrySpare();
    });
  }

  private retrySpare(): void {
    if (!this.keep) return;
    const wait = this.spareRetryMs;
    this.spareRetryMs = Math.min(SPARE_RETRY_MAX_MS, wait * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.keepSpare();
    }, wait);
    this.retryTimer.unref();
  }

  /** Where the waiting decoder's level files go: a directory of its own, removed at close(). */
  private runDir(): string {
    this.ownRunDir ??= mkdtempSync(join(tmpdir(), 'loa-audio-'));
    return this.ownRunDir;
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
  /** A waiting decoder is wanted (prepare(true)). */
  private keep = false;
  private nextSpare = 1;
  private spareClaims = 0;
  private spareRetryMs = SPARE_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private ownRunDir: string | undefined;
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
