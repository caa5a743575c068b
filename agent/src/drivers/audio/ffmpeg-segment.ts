/**
 * One ffmpeg process (through fluent-ffmpeg) playing one source to the output, with the
 * measuring filters ebur128 (loudness), astats (peak) and silencedetect (dead air) on the output.
 *
 * Pre-roll: ffmpeg reads a file from a loopback socket it connects to at start-up, so the
 * process is up and waiting; at the start instant (and once the output is not muted) the file's
 * head, read ahead, is written to the socket. The gain of the audio on air is changed through ffmpeg's command
 * interface on stdin (`c` + "volume -1 volume <gain>"), which the volume filter applies to the
 * next frame: volume changes and the amplifier's mute act on the playing item.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import { OutputCut } from './ffmpeg-cut.js';
import { FileFeed, RangeFeed } from './ffmpeg-feed.js';
import { DRAIN_MS, FfmpegLevel } from './ffmpeg-level.js';
import { FfmpegLogParser, linearGain } from './ffmpeg-log.js';
import { toneGraph } from './ffmpeg-output.js';
import type { Segment, SegmentResult, SegmentSpec } from './segment.js';
import { toneWav } from './tone-wav.js';
import type { AudioErrorCode, AudioOutput, CaptureInput, InputName, Levels } from './types.js';
import { SINK_CHANNELS, SINK_RATE, type WavSink } from './wav-sink.js';

export interface FfmpegSegmentDeps {
  output: AudioOutput;
  /** The WAV sink when output.type is 'wav'. */
  sink?: WavSink;
  inputs: Partial<Record<InputName, CaptureInput>>;
  logger: Logger;
  silenceDb: number;
  /** silencedetect duration, ms (the shortest silence worth reporting). */
  silenceDetectMs: number;
  /** Stalled network reads fail after this long, ms. */
  ioTimeoutMs: number;
  /** The output profile's filters (ffmpeg-output.ts), after the resampler; empty: none. */
  outputFilters?: readonly string[];
  ffmpegPath?: string;
}

function codeForInput(spec: SegmentSpec): AudioErrorCode {
  switch (spec.input.kind) {
    case 'url':
      return 'AUDIO_STREAM_FAILED';
    case 'input':
      return 'AUDIO_INPUT_UNAVAILABLE';
    case 'file':
      return 'AUDIO_DECODE_FAILED';
    default:
      return 'AUDIO_DECODE_FAILED';
  }
}

/**
 * The start gate's timer is set this much early and the last stretch is polled (setImmediate):
 * timers fire late on a busy board, a poll loop is late by one turn of the event loop.
 */
const GATE_EARLY_MS = 15;
/** A spare process has no file yet and no length: it is capped by a timer once claimed. */
const SPARE_MAX_MS = 24 * 3600_000;
/** The spare's volume filter, the target of the gain its level file sets. */
const SPARE_VOLUME = 'volume@loa';

/**
 * A spare's gain, read by its `asendcmd` filter when ffmpeg builds the filter graph (on the
 * first decoded audio): the command applies from the first frame (t = 0). Written whole
 * (temporary file, rename), never read half-written; not durable (it matters for one process).
 */
function writeLevelFile(path: string, gain: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `0 ${SPARE_VOLUME} volume ${gain.toFixed(6)};\n`);
  renameSync(tmp, path);
}
/** ebur128 reports every 100 ms of output: ffmpeg may be this far past its last report. */
const REPORT_MS = 100;
/** A process still running this long after its output ended is ended (its audio is complete). */
const LINGER_MS = 5000;

export class FfmpegSegment implements Segment {
  readonly done: Promise<SegmentResult>;
  readonly started: Promise<void>;
  private readonly parser = new FfmpegLogParser();
  private cmd: ffmpeg.FfmpegCommand | undefined;
  private proc: ChildProcess | undefined;
  private stopRequested = false;
  private silenceFired = false;
  private startedResolve!: () => void;
  private isStarted = false;
  private gateTimer: NodeJS.Timeout | undefined;
  private gateRelease: (() => void) | undefined;
  private feed: FileFeed | undefined;
  private rangeFeed: RangeFeed | undefined;
  private startedMono: number | undefined;
  private readonly gain: FfmpegLevel;
  /** The start gate has opened: audio is on its way out. */
  private outputOpen = false;
  /**
   * A spare: started without a file and without a level, waiting for claim(); its gain comes
   * from this file (written at the claim), read when ffmpeg builds its filter graph.
   */
  private levelFile: string | undefined;
  private claimResolve: ((hold: Promise<unknown>) => void) | undefined;
  private capped = false;
  private capTimer: NodeJS.Timeout | undefined;
  /** The process has ended (a spare that died cannot be claimed). */
  private ended = false;
  /** The process outlived its complete output by LINGER_MS and was ended. */
  private lingered = false;
  /** The hard cut for a mute ffmpeg did not confirm in time (ffmpeg-cut.ts). */
  private readonly cut: OutputCut;

  /**
   * A spare process for the next urgent playback: ffmpeg is started now and waits on its socket,
   * so a playback that claims it (an emergency cutting in) does not wait for a process to start.
   * It waits silent (gain 0 in `levelFile`, written now: throws if it cannot be); the claim
   * writes the playback's gain there before the first byte goes in.
   */
  static spare(deps: FfmpegSegmentDeps, audible: () => Promise<void>, levelFile: string): FfmpegSegment {
    // The path goes into the filter graph as it is: nothing in it may need escaping.
    if (!/^[\w./-]+$/.test(levelFile))
      throw new Error(`level file path not usable in a filter: ${levelFile}`);
    writeLevelFile(levelFile, 0);
    let resolveClaim!: (hold: Promise<unknown>) => void;
    const claimed = new Promise<unknown>((r) => {
      resolveClaim = r;
    }).then((hold) => hold);
    const seg = new FfmpegSegment(
      {
        input: { kind: 'file', path: '', offsetMs: 0 },
        maxMs: SPARE_MAX_MS,
        volume: 0,
        gainDb: 0,
        label: 'spare',
        after: claimed,
        audible,
      },
      deps,
      levelFile,
    );
    seg.claimResolve = resolveClaim;
    return seg;
  }

  /**
   * Takes over an urgent playback's spec (a file from its start, or a plain tone, fed as WAV
   * bytes) if this is an unclaimed spare: its level file gets the playback's gain, which the
   * process takes from its first frame. False otherwise (the caller starts a process of its own).
   */
  claim(spec: SegmentSpec): boolean {
    const input = spec.input;
    const resolve = this.claimResolve;
    const levelFile = this.levelFile;
    if (!resolve || !levelFile || this.stopRequested || this.ended || spec.urgent !== true) return false;
    let tone: Buffer | undefined;
    if (input.kind === 'file') {
      if (input.offsetMs !== 0 || !existsSync(input.path)) return false;
    } else if (input.kind === 'tone' && !input.steps) {
      tone = toneWav(input.frequencyHz, spec.maxMs, SINK_RATE);
    } else return false;
    const gain = linearGain(spec.volume, spec.gainDb);
    try {
      writeLevelFile(levelFile, gain);
    } catch (err) {
      this.deps.logger.warn(
        { err, label: spec.label },
        'level file not written: the waiting decoder is not used',
      );
      return false;
    }
    this.gain.startWith(gain);
    this.claimResolve = undefined;
    Object.assign(this.spec, {
      maxMs: spec.maxMs,
      volume: spec.volume,
      gainDb: spec.gainDb,
      ...(spec.label !== undefined ? { label: spec.label } : {}),
      ...(input.kind === 'file' ? { input } : {}),
    });
    if (spec.stopOnSilenceMs !== undefined) this.spec.stopOnSilenceMs = spec.stopOnSilenceMs;
    if (tone) this.feed?.provide(tone);
    else if (input.kind === 'file') this.feed?.prefetch(input.path);
    const hold = spec.startAt === undefined ? 0 : spec.startAt - performance.now();
    resolve(Promise.all([this.delay(hold), spec.after?.catch(() => undefined)]));
    if (spec.maxMs < SPARE_MAX_MS && !tone) {
      // ffmpeg runs with the spare's -t: cap the output at the playback's length here (a tone's
      // bytes are exactly its length).
      void this.started.then(() => {
        if (this.stopRequested) return;
        const left = spec.maxMs - (performance.now() - (this.startedMono ?? performance.now()));
        this.capTimer = setTimeout(
          () => {
            this.capped = true;
            this.terminate();
          },
          Math.max(0, left),
        );
      });
    }
    return true;
  }

  constructor(
    private readonly spec: SegmentSpec,
    private readonly deps: FfmpegSegmentDeps,
    levelFile?: string,
  ) {
    if (levelFile !== undefined) this.levelFile = levelFile;
    this.started = new Promise<void>((r) => {
      this.startedResolve = r;
    });
    this.gain = new FfmpegLevel(linearGain(spec.volume, spec.gainDb), deps.logger, spec.label);
    this.cut = new OutputCut(deps.output.type, deps.sink, () => this.proc);
    this.done = this.run().then(
      (r) => {
        this.ended = true;
        this.markStarted();
        return r;
      },
      (e: unknown) => {
        this.ended = true;
        this.markStarted();
        return this.result('error', {
          code: 'AUDIO_PROCESS_DIED',
          message: e instanceof Error ? e.message : String(e),
        });
      },
    );
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.gateTimer !== undefined) clearTimeout(this.gateTimer);
    if (this.capTimer !== undefined) clearTimeout(this.capTimer);
    this.claimResolve = undefined;
    this.gateRelease?.();
    // A decoder waiting on its input socket gets end-of-file, then the signal.
    this.feed?.close();
    this.rangeFeed?.close();
    this.terminate();
    this.gain.close();
  }

  startedAt(): number | undefined {
    return this.startedMono;
  }

  /**
   * Sets the gain of the audio on air. Before the process runs, it starts with it; once it runs
   * the command goes to ffmpeg and the promise resolves when ffmpeg applied it and the audio
   * already past the filter has drained (or after a time limit, or when the process ends).
   */
  async setLevel(volume: number, gainDb: number): Promise<void> {
    await this.gain.setLevel(linearGain(volume, gainDb));
  }

  /**
   * The output's mute. Before the start gate opens there is nothing to mute: the gate waits for
   * the unmute (spec.audible). Once audio is on its way, the gain goes to 0 through ffmpeg; if
   * ffmpeg does not confirm it in time (a decoder starved of CPU may still write audio at full
   * gain once it runs again), the output is cut hard: the process is paused and nothing it
   * writes reaches the output until the unmute. Resolves once the output is silent.
   */
  async setMuted(muted: boolean): Promise<void> {
    if (!muted) {
      this.cut.resume();
      await this.gain.setMuted(false, this.outputOpen);
      return;
    }
    const confirmed = await this.gain.setMuted(true, this.outputOpen);
    // Unmuted meanwhile, or nothing on its way out yet: nothing to cut.
    if (!this.gain.mutedWanted || !this.outputOpen) return;
    if (!confirmed) {
      if (this.cut.cutting || this.ended || this.stopRequested) return;
      this.deps.logger.warn(
        { label: this.spec.label },
        'ffmpeg did not confirm the mute in time: output cut, decoder paused',
      );
      // What an ALSA device holds still plays: about ffmpeg's output clock's lead over the time
      // it has been playing (ffmpeg may be a report past its last one).
      await this.cut.cut(this.parser.m.timeMs + REPORT_MS - this.playingForMs() + DRAIN_MS);
      return;
    }
    // Applied: the output still holds what was written ahead of it (after a stall, ffmpeg
    // catches up and runs ahead by as much).
    await this.cut.drained(Math.max(0, this.parser.m.timeMs - this.playingForMs()));
  }

  /** How long the output has been playing this segment's audio, ms. */
  private playingForMs(): number {
    return this.startedMono === undefined ? 0 : performance.now() - this.startedMono;
  }

  elapsedMs(): number {
    return this.parser.m.timeMs;
  }

  levels(): Levels {
    const out: Levels = { silent: this.parser.m.silenceStartMs !== undefined };
    if (this.parser.m.momentaryLufs !== undefined) out.momentaryLufs = this.parser.m.momentaryLufs;
    if (this.parser.m.peakDbfs !== undefined) out.peakDbfs = this.parser.m.peakDbfs;
    return out;
  }

  /**
   * Resolves once holdMs has passed, `after` has settled and the output is not muted, or at
   * once on stop().
   */
  private gateOpen(
    holdMs: number,
    after: Promise<unknown> | undefined,
    audible: (() => Promise<void>) | undefined,
  ): Promise<void> {
    const both = Promise.all([this.delay(holdMs), after?.catch(() => undefined)])
      .then(() => audible?.())
      .then(() => {
        this.outputOpen = true;
      });
    return Promise.race([
      both,
      new Promise<void>((r) => {
        this.gateRelease = r;
      }),
    ]);
  }

  /** Resolves after ms (the timer fires early, the last stretch is polled), or on stop(). */
  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    const due = performance.now() + ms;
    return new Promise<void>((r) => {
      const poll = () => {
        if (this.stopRequested || performance.now() >= due) r();
        else setImmediate(poll);
      };
      this.gateTimer = setTimeout(poll, Math.max(0, ms - GATE_EARLY_MS));
    });
  }

  private markStarted(at?: number): void {
    if (this.isStarted) return;
    this.isStarted = true;
    if (at !== undefined) this.startedMono = at;
    this.startedResolve();
  }

  private terminate(): void {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      // A paused process (a cut) would act on SIGTERM only once continued, and could write
      // audio then: it is killed (an ALSA device is closed and silent at once).
      p.kill(this.cut.cutting ? 'SIGKILL' : 'SIGTERM');
      // ffmpeg normally exits within milliseconds of SIGTERM; make sure it does.
      const t = setTimeout(() => {
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }, 3000);
      t.unref();
    } else if (!p && this.cmd) {
      // Not spawned yet: the 'start' handler kills it.
    }
  }

  private result(end: SegmentResult['end'], error?: SegmentResult['error']): SegmentResult {
    const m = this.parser.m;
    const r: SegmentResult = { end, producedMs: m.timeMs, longestSilenceMs: this.parser.longestSilenceMs() };
    if (m.integratedLufs !== undefined) r.loudnessLufs = m.integratedLufs;
    if (m.peakDbfs !== undefined) r.peakDbfs = m.peakDbfs;
    if (error) r.error = error;
    return r;
  }

  private async run(): Promise<SegmentResult> {
    const { spec, deps } = this;
    const input = spec.input;
    if (input.kind === 'file' && this.levelFile === undefined) {
      try {
        await stat(input.path);
      } catch (cause) {
        return this.result('error', {
          code: 'AUDIO_FILE_MISSING',
          message: `audio file not found: ${input.path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        });
      }
    }
    if (input.kind === 'input' && !deps.inputs[input.input]) {
      return this.result('error', {
        code: 'AUDIO_INPUT_UNAVAILABLE',
        message: `no capture device configured for the ${input.input} input`,
      });
    }
    if (this.stopRequested) return this.result('stopped');
    // Held start: a file is fed through a socket at the start instant, once the previous
    // playback has ended and the output is not muted (the process is up and waiting by then);
    // other sources start their process at that moment.
    const holdMs = spec.startAt === undefined ? 0 : spec.startAt - performance.now();
    const gate = this.gateOpen(holdMs, spec.after, spec.audible);
    // A file is pre-rolled: the process starts now and its input waits for the gate (a resumed
    // file, from an offset, over a seekable loopback HTTP feed).
    if (input.kind !== 'file') {
      await gate;
      if (this.stopRequested) return this.result('stopped');
    }

    const cmd = deps.ffmpegPath ? ffmpeg().setFfmpegPath(deps.ffmpegPath) : ffmpeg();
    this.cmd = cmd;
    switch (input.kind) {
      case 'file': {
        if (input.offsetMs > 0) {
          const ranged = new RangeFeed(input.path);
          this.rangeFeed = ranged;
          const url = await ranged.listen(gate, () => void this.gain.sync());
          if (this.stopRequested) {
            ranged.close();
            return this.result('stopped');
          }
          cmd.input(url).inputOptions(['-re', '-ss', (input.offsetMs / 1000).toFixed(3)]);
          break;
        }
        const feed = new FileFeed();
        this.feed = feed;
        // A spare learns its file when claimed.
        if (this.levelFile === undefined) feed.prefetch(input.path);
        const url = await feed.listen();
        if (this.stopRequested) {
          feed.close();
          return this.result('stopped');
        }
        // Muted again between the gate and the first byte: the process runs unmuted, send it.
        feed.release(gate, () => void this.gain.sync());
        cmd.input(url).inputOptions(['-re']);
        break;
      }
      case 'tone':
        // A routine: tones at set levels and channels; a plain tone: the sine at its own level.
        cmd
          .input(
            input.steps
              ? toneGraph(input.steps, SINK_RATE)
              : `sine=frequency=${input.frequencyHz}:sample_rate=${SINK_RATE}`,
          )
          .inputOptions(['-re', '-f', 'lavfi']);
        break;
      case 'input': {
        const cap = deps.inputs[input.input]!;
        cmd.input(cap.device).inputOptions([...(cap.format === 'lavfi' ? ['-re'] : []), '-f', cap.format]);
        break;
      }
      case 'url':
        // A live stream is probed briefly (a few frames) so the relay starts without seconds of delay.
        cmd
          .input(input.url)
          .inputOptions([
            '-re',
            '-rw_timeout',
            String(deps.ioTimeoutMs * 1000),
            '-probesize',
            '16384',
            '-analyzeduration',
            '500000',
            ...(input.format && input.format !== 'hls' ? ['-f', input.format] : []),
          ]);
        break;
    }
    const silenceD = Math.max(
      0.1,
      Math.min(deps.silenceDetectMs, spec.stopOnSilenceMs ?? Number.POSITIVE_INFINITY) / 1000,
    );
    // The process starts with the unmuted gain: its audio leaves only once unmuted (the gate).
    cmd.audioFilters([
      // Live sources: dynamic normalisation with a short look-ahead (about 0.2 s), so a relay
      // reaches the loudspeakers at an even level without a long delay.
      ...(spec.normalize ? ['dynaudnorm=f=100:g=3:p=0.5:m=10'] : []),
      // A spare takes its gain from its level file from the first frame (timestamps from 0, so
      // the command at t = 0 comes before any audio).
      ...(this.levelFile !== undefined ? ['asetpts=PTS-STARTPTS', `asendcmd=f=${this.levelFile}`] : []),
      `${this.levelFile !== undefined ? SPARE_VOLUME : 'volume'}=${this.gain.initial().toFixed(6)}`,
      `aresample=${SINK_RATE}`,
      // The output profile (FM exciter, wired line): band limits, pre-emphasis, limiter.
      ...(deps.outputFilters ?? []),
      `aformat=sample_fmts=s16:channel_layouts=stereo`,
      'ebur128=peak=sample',
      'astats=metadata=0:measure_overall=Peak_level:measure_perchannel=none',
      `silencedetect=noise=${deps.silenceDb}dB:d=${silenceD.toFixed(2)}`,
    ]);
    // stdin stays open: it carries gain commands (no -nostdin).
    cmd.outputOptions(['-nostats', '-vn', '-t', (spec.maxMs / 1000).toFixed(3)]);

    const out = deps.output;
    if (out.type === 'wav') {
      cmd.outputOptions([
        '-f',
        's16le',
        '-acodec',
        'pcm_s16le',
        '-ar',
        String(SINK_RATE),
        '-ac',
        String(SINK_CHANNELS),
      ]);
    } else if (out.type === 'alsa') {
      cmd.output(out.device).outputOptions(['-f', 'alsa']);
    } else {
      cmd.output('-').outputOptions(['-f', 'null']);
    }

    return new Promise<SegmentResult>((resolve) => {
      let settled = false;
      let pcmEnded = out.type !== 'wav';
      let exitResult: SegmentResult | undefined;
      const finish = () => {
        if (exitResult) this.ended = true;
        if (!settled && exitResult && pcmEnded) {
          settled = true;
          this.feed?.close();
          this.rangeFeed?.close();
          this.gain.close();
          if (this.capTimer !== undefined) clearTimeout(this.capTimer);
          resolve(exitResult);
        }
      };
      cmd.on('start', () => {
        this.proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        this.gain.attach(this.proc?.stdin ?? undefined);
        if (this.stopRequested) this.terminate();
        else if (this.cut.cutting) this.cut.spawned();
        else if (this.outputOpen) void this.gain.sync();
      });
      cmd.on('stderr', (line: string) => {
        if (this.gain.line(line)) return;
        if (this.parser.line(line)) {
          this.gain.flowing();
          // ebur128 reports every 100 ms of output; with -re the output runs in real time, so
          // the audio began this report's output time ago.
          if (out.type !== 'wav') this.markStarted(performance.now() - this.parser.m.timeMs);
          const limit = spec.stopOnSilenceMs;
          if (limit !== undefined && !this.silenceFired && this.parser.currentSilenceMs() >= limit) {
            this.silenceFired = true;
            this.terminate();
          }
        }
      });
      cmd.on('end', () => {
        exitResult = this.result(this.stopRequested ? 'stopped' : this.silenceFired ? 'silence' : 'eof');
        finish();
      });
      cmd.on('error', (err: Error) => {
        if (this.stopRequested) exitResult = this.result('stopped');
        else if (this.silenceFired) exitResult = this.result('silence');
        else if (this.capped || this.lingered) exitResult = this.result('eof');
        else {
          const detail = this.parser.m.errors.at(-1);
          const killed = /killed with signal/i.test(err.message);
          exitResult = this.result('error', {
            code: killed ? 'AUDIO_PROCESS_DIED' : codeForInput(spec),
            message: (killed ? err.message : (detail ?? err.message)).slice(0, 400),
          });
        }
        // If the process died, its stdout may never end cleanly: do not wait for it forever.
        setTimeout(() => {
          pcmEnded = true;
          finish();
        }, 1000).unref();
        finish();
      });
      if (out.type === 'wav') {
        const sink = deps.sink!;
        // The process's exit decides how it ended: fluent-ffmpeg reports an output stream that
        // closes before the exit is seen (20 ms later, as on a loaded board) as an error
        // ("Output stream closed"), so this stream never says it closed.
        const pcm = new PassThrough({ emitClose: false });
        cmd.pipe(pcm, { end: true });
        let first = true;
        pcm.on('data', (chunk: Buffer) => {
          // Once stopped, what the process still writes is dropped: the output is cut at once.
          // The same during a cut (a mute ffmpeg did not confirm).
          if (this.stopRequested) return;
          const fate = this.cut.chunk();
          if (fate === 'drop') return;
          if (first) {
            first = false;
            sink.beginSegment();
            this.markStarted(performance.now());
          } else if (fate === 'pad') sink.beginSegment();
          sink.write(chunk);
        });
        pcm.on('end', () => {
          pcmEnded = true;
          finish();
          // Its output is complete: a process that does not exit after it is ended (no failure).
          setTimeout(() => {
            if (exitResult) return;
            this.lingered = true;
            this.terminate();
          }, LINGER_MS).unref();
        });
        pcm.on('error', () => {
          pcmEnded = true;
          finish();
        });
      } else {
        cmd.run();
      }
    });
  }
}
