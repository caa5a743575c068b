/**
 * One ffmpeg process (through fluent-ffmpeg) playing one source to the output, with the
 * measuring filters ebur128 (loudness), astats (peak) and silencedetect (dead air) on the output.
 */
import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import { FfmpegLogParser, volumeFilter } from './ffmpeg-log.js';
import type { Segment, SegmentResult, SegmentSpec } from './segment.js';
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

const HEAD_BYTES = 256 * 1024;

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

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
  private gatePipe: PassThrough | undefined;

  constructor(
    private readonly spec: SegmentSpec,
    private readonly deps: FfmpegSegmentDeps,
  ) {
    this.started = new Promise<void>((r) => {
      this.startedResolve = r;
    });
    this.done = this.run().then(
      (r) => {
        this.markStarted();
        return r;
      },
      (e: unknown) => {
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
    this.gateRelease?.();
    // A decoder waiting on its input pipe gets end-of-file, then the signal.
    this.gatePipe?.end();
    this.terminate();
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

  /** Resolves once holdMs has passed and `after` has settled, or at once on stop(). */
  private gateOpen(holdMs: number, after: Promise<unknown> | undefined): Promise<void> {
    const timer =
      holdMs > 0
        ? new Promise<void>((r) => {
            this.gateTimer = setTimeout(r, holdMs);
          })
        : Promise.resolve();
    const both = Promise.all([timer, after?.catch(() => undefined)]).then(() => undefined);
    return Promise.race([
      both,
      new Promise<void>((r) => {
        this.gateRelease = r;
      }),
    ]);
  }

  private markStarted(): void {
    if (this.isStarted) return;
    this.isStarted = true;
    this.startedResolve();
  }

  private terminate(): void {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
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
    if (input.kind === 'file') {
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
    // Held start: a file is fed through a pipe opened at the start instant, once the previous
    // playback has ended (the process is up and waiting by then); other sources start their
    // process at that moment.
    const holdMs = spec.startAt === undefined ? 0 : spec.startAt - performance.now();
    const held = holdMs > 0 || spec.after !== undefined;
    const gate = held ? this.gateOpen(holdMs, spec.after) : Promise.resolve();
    if (held && input.kind !== 'file') {
      await gate;
      if (this.stopRequested) return this.result('stopped');
    }

    const cmd = deps.ffmpegPath ? ffmpeg().setFfmpegPath(deps.ffmpegPath) : ffmpeg();
    this.cmd = cmd;
    switch (input.kind) {
      case 'file': {
        const seek = input.offsetMs > 0 ? ['-ss', (input.offsetMs / 1000).toFixed(3)] : [];
        if (held) {
          const pipe = new PassThrough();
          const path = input.path;
          // Read the head of the file now, so the start instant only writes to the pipe (no
          // file-system round trip on the critical path); the rest streams after it.
          const head = readHead(path, HEAD_BYTES);
          void Promise.all([gate, head])
            .then(([, buf]) => {
              if (this.stopRequested) return;
              pipe.write(buf);
              if (buf.length < HEAD_BYTES) {
                pipe.end();
                return;
              }
              const rs = createReadStream(path, { start: buf.length });
              rs.on('error', (e) => pipe.destroy(e));
              rs.pipe(pipe);
            })
            .catch((e: unknown) => pipe.destroy(e instanceof Error ? e : new Error(String(e))));
          this.gatePipe = pipe;
          cmd.input(pipe).inputOptions(['-re', ...seek]);
        } else cmd.input(input.path).inputOptions(['-re', ...seek]);
        break;
      }
      case 'tone':
        cmd
          .input(`sine=frequency=${input.frequencyHz}:sample_rate=${SINK_RATE}`)
          .inputOptions(['-re', '-f', 'lavfi']);
        break;
      case 'input': {
        const cap = deps.inputs[input.input]!;
        cmd.input(cap.device).inputOptions([...(cap.format === 'lavfi' ? ['-re'] : []), '-f', cap.format]);
        break;
      }
      case 'url':
        cmd.input(input.url).inputOptions(['-re', '-rw_timeout', String(deps.ioTimeoutMs * 1000)]);
        break;
    }
    const silenceD = Math.max(
      0.1,
      Math.min(deps.silenceDetectMs, spec.stopOnSilenceMs ?? Number.POSITIVE_INFINITY) / 1000,
    );
    cmd.audioFilters([
      volumeFilter(spec.volume, spec.gainDb),
      `aresample=${SINK_RATE}`,
      `aformat=sample_fmts=s16:channel_layouts=stereo`,
      'ebur128=peak=sample',
      'astats=metadata=0:measure_overall=Peak_level:measure_perchannel=none',
      `silencedetect=noise=${deps.silenceDb}dB:d=${silenceD.toFixed(2)}`,
    ]);
    cmd.outputOptions(['-nostdin', '-nostats', '-vn', '-t', (spec.maxMs / 1000).toFixed(3)]);

    let pcm: Readable | undefined;
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
        if (!settled && exitResult && pcmEnded) {
          settled = true;
          resolve(exitResult);
        }
      };
      cmd.on('start', () => {
        this.proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (this.stopRequested) this.terminate();
      });
      cmd.on('stderr', (line: string) => {
        if (this.parser.line(line)) {
          if (out.type !== 'wav') this.markStarted();
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
        pcm = cmd.pipe() as Readable;
        let first = true;
        pcm.on('data', (chunk: Buffer) => {
          // Once stopped, what the process still writes is dropped: the output is cut at once.
          if (this.stopRequested) return;
          if (first) {
            first = false;
            sink.beginSegment();
            this.markStarted();
          }
          sink.write(chunk);
        });
        pcm.on('end', () => {
          pcmEnded = true;
          finish();
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
