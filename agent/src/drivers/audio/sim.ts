/**
 * The simulated audio driver: keeps real timing with injected timers (a playback lasts as long
 * as its source would) and reports levels from its settings. A test or the simulator can make
 * the current playback fail, go silent, or take a stream down. It runs the same playback logic
 * (reconnect, fallback) as the real driver; only the segment runner differs.
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Timers } from '@loa/protocol';
import { OutputMute, SegmentPlayback } from './playback.js';
import type { Segment, SegmentResult, SegmentSpec } from './segment.js';
import type { AudioDriver, AudioErrorCode, InputName, Levels, Playback, PlayRequest } from './types.js';

export interface SimAudioOptions {
  timers?: Timers;
  /** Monotonic ms; default performance.now(). */
  now?: () => number;
  /** Length of a file whose request carries no durationMs. Default 30 s. */
  defaultFileMs?: number;
  /** Levels reported while sound plays. */
  loudnessLufs?: number;
  peakDbfs?: number;
  deadAirMs?: number;
  /** Inputs that exist (line-in, FM). Default both. */
  inputs?: InputName[];
  /** Check that files exist on disk (default true; the simulator plays real bundle files). */
  checkFiles?: boolean;
}

export interface SimSegmentRecord {
  input: SegmentSpec['input'];
  /** Volume the segment plays at now (0 while muted). */
  volume: number;
  gainDb: number;
  /** Volume changes while it played (setVolume, mute), with the driver's clock. */
  levelChanges?: { at: number; volume: number }[];
  startedAt: number;
  endedAt?: number;
  end?: SegmentResult['end'];
}

interface SimFailure {
  code: AudioErrorCode;
  message: string;
  afterMs: number;
}

class SimSegment implements Segment {
  readonly done: Promise<SegmentResult>;
  readonly started: Promise<void>;
  private t0: number | undefined;
  private silentSince: number | undefined;
  private longestSilence = 0;
  private finish!: (end: SegmentResult['end'], error?: SegmentResult['error']) => void;
  private endTimer: unknown;
  private silenceTimer: unknown;
  private ended = false;

  constructor(
    private readonly spec: SegmentSpec,
    private readonly sim: SimAudioDriver,
    private readonly lengthMs: number,
    private readonly failure: SimFailure | undefined,
    readonly record: SimSegmentRecord,
  ) {
    let startedResolve!: () => void;
    this.started = new Promise<void>((r) => {
      startedResolve = r;
    });
    this.done = new Promise<SegmentResult>((resolve) => {
      this.finish = (end, error) => {
        if (this.ended) return;
        this.ended = true;
        this.sim.timers.clearTimeout(this.endTimer);
        this.sim.timers.clearTimeout(this.silenceTimer);
        const now = this.sim.now();
        const produced = this.t0 === undefined ? 0 : Math.max(0, Math.round(now - this.t0));
        if (this.silentSince !== undefined)
          this.longestSilence = Math.max(this.longestSilence, now - this.silentSince);
        record.endedAt = now;
        record.end = end;
        startedResolve();
        const r: SegmentResult = {
          end,
          producedMs: produced,
          longestSilenceMs: Math.round(this.longestSilence),
        };
        if (produced > 0 && this.longestSilence < produced) {
          r.loudnessLufs = this.sim.opts.loudnessLufs ?? -18;
          r.peakDbfs = this.sim.opts.peakDbfs ?? -3;
        }
        if (error) r.error = error;
        resolve(r);
      };
    });
    const begin = () => {
      if (this.ended) return;
      this.t0 = this.sim.now();
      record.startedAt = this.t0;
      startedResolve();
      if (this.failure) {
        const f = this.failure;
        this.endTimer = this.sim.timers.setTimeout(
          () => this.finish('error', { code: f.code, message: f.message }),
          Math.min(f.afterMs, this.lengthMs),
        );
      } else this.endTimer = this.sim.timers.setTimeout(() => this.finish('eof'), this.lengthMs);
      if (this.sim.silent) this.goSilent();
    };
    // Held like the real driver: until the start instant and the previous playback's end.
    void (spec.after ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.sim.timers.setTimeout(begin, Math.max(0, (spec.startAt ?? 0) - this.sim.now()));
      });
  }

  stop(): void {
    this.finish('stopped');
  }

  startedAt(): number | undefined {
    return this.t0;
  }

  async setLevel(volume: number, gainDb: number): Promise<void> {
    this.level = volume;
    this.record.gainDb = gainDb;
    this.recordLevel();
  }

  async setMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    this.recordLevel();
  }

  private level: number | undefined;
  private muted = false;

  private recordLevel(): void {
    if (this.ended) return;
    const volume = this.muted ? 0 : (this.level ?? this.spec.volume);
    if (volume === this.record.volume) return;
    this.record.volume = volume;
    // Before the sound starts a mute only holds it back (the real driver's start gate).
    if (this.t0 === undefined) return;
    this.record.levelChanges ??= [];
    this.record.levelChanges.push({ at: this.sim.now(), volume });
  }

  fail(code: AudioErrorCode, message: string): void {
    this.finish('error', { code, message });
  }

  goSilent(): void {
    if (this.ended || this.silentSince !== undefined || this.t0 === undefined) return;
    this.silentSince = this.sim.now();
    const limit = this.spec.stopOnSilenceMs;
    if (limit !== undefined)
      this.silenceTimer = this.sim.timers.setTimeout(() => this.finish('silence'), limit);
  }

  elapsedMs(): number {
    return this.t0 === undefined ? 0 : Math.round(this.sim.now() - this.t0);
  }

  levels(): Levels {
    if (this.t0 === undefined || this.ended) return {};
    if (this.silentSince !== undefined) return { silent: true };
    return {
      momentaryLufs: this.sim.opts.loudnessLufs ?? -18,
      peakDbfs: this.sim.opts.peakDbfs ?? -3,
      silent: false,
    };
  }
}

export class SimAudioDriver implements AudioDriver {
  readonly timers: Timers;
  readonly now: () => number;
  /** Every segment played, in order (for tests and the simulator's log). */
  readonly history: SimSegmentRecord[] = [];
  silent = false;
  private readonly downUrls = new Set<string>();
  private current: SegmentPlayback | undefined;
  private readonly active = new Set<SegmentPlayback>();
  private segment: SimSegment | undefined;
  private nextFailure: SimFailure | undefined;
  private nextId = 1;
  private isOpen = false;
  private readonly mute = new OutputMute();

  constructor(readonly opts: SimAudioOptions = {}) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    this.now = opts.now ?? (() => performance.now());
  }

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    const all = [...this.active];
    for (const p of all) p.stop();
    await Promise.all(all.map((p) => p.result));
    this.isOpen = false;
  }

  async setMuted(muted: boolean): Promise<void> {
    this.mute.set(muted);
    await Promise.all([...this.active].map((p) => p.setMuted(muted)));
  }

  /** The next segment fails after `afterMs` of audio (a dying decoder). */
  failNext(code: AudioErrorCode = 'AUDIO_PROCESS_DIED', afterMs = 0): void {
    this.nextFailure = { code, message: 'simulated failure', afterMs };
  }

  /** The segment playing now fails at once (as if ffmpeg were killed). */
  failCurrent(code: AudioErrorCode = 'AUDIO_PROCESS_DIED'): void {
    this.segment?.fail(code, 'simulated process death');
  }

  /** The output goes silent (dead air) from now on, until setSilent(false). */
  setSilent(silent: boolean): void {
    this.silent = silent;
    if (silent) this.segment?.goSilent();
  }

  /** Makes a stream URL unreachable (or reachable again). */
  setStreamDown(url: string, down: boolean): void {
    if (down) {
      this.downUrls.add(url);
      const seg = this.segment;
      if (seg && seg.record.input.kind === 'url' && seg.record.input.url === url)
        seg.fail('AUDIO_STREAM_FAILED', 'simulated stream drop');
    } else this.downUrls.delete(url);
  }

  play(req: PlayRequest): Playback {
    const prev = this.current;
    const live = prev !== undefined && prev.state() !== 'ended';
    const queue = req.queue === true && live;
    if (!queue) for (const p of this.active) p.stop();
    const pb = new SegmentPlayback(
      this.nextId++,
      req,
      {
        runner: (spec) => this.run(spec, req),
        now: this.now,
        sleep: (ms) =>
          new Promise<void>((r) => {
            this.timers.setTimeout(r, ms);
          }),
        deadAirMs: this.opts.deadAirMs ?? 5000,
      },
      live ? (queue ? prev.result : prev.released) : undefined,
      this.mute,
    );
    this.current = pb;
    this.active.add(pb);
    void pb.result.then(() => {
      this.active.delete(pb);
      if (this.current === pb) this.current = [...this.active].at(-1);
    });
    return pb;
  }

  private run(spec: SegmentSpec, req: PlayRequest): Segment {
    const record: SimSegmentRecord = {
      input: spec.input,
      volume: spec.volume,
      gainDb: spec.gainDb,
      startedAt: this.now(),
    };
    this.history.push(record);
    if (this.history.length > 1000) this.history.shift();
    const failed = (code: AudioErrorCode, message: string): Segment => {
      const result: SegmentResult = {
        end: 'error',
        producedMs: 0,
        longestSilenceMs: 0,
        error: { code, message },
      };
      record.endedAt = record.startedAt;
      record.end = 'error';
      return {
        done: Promise.resolve(result),
        started: Promise.resolve(),
        stop: () => {},
        elapsedMs: () => 0,
        levels: () => ({}),
      };
    };
    if (!this.isOpen) return failed('AUDIO_OUTPUT_FAILED', 'the audio output is not open');
    const input = spec.input;
    let length = spec.maxMs;
    if (input.kind === 'file') {
      const src = req.source;
      const total =
        src.kind === 'file' && src.path === input.path && src.durationMs !== undefined
          ? src.durationMs
          : (this.opts.defaultFileMs ?? 30_000);
      length = Math.min(spec.maxMs, Math.max(0, total - input.offsetMs));
    }
    if (input.kind === 'input' && !(this.opts.inputs ?? ['fm', 'line']).includes(input.input))
      return failed('AUDIO_INPUT_UNAVAILABLE', `no ${input.input} input`);
    if (input.kind === 'url' && this.downUrls.has(input.url))
      return failed('AUDIO_STREAM_FAILED', `simulated: ${input.url} unreachable`);
    const failure = this.nextFailure;
    this.nextFailure = undefined;
    const checkFile = input.kind === 'file' && this.opts.checkFiles !== false;
    if (checkFile) {
      // Files are checked like the real driver does (the simulator plays real bundle files).
      const path = input.path;
      const seg = new Promise<Segment>((resolve) => {
        stat(path).then(
          () => resolve(this.startSegment(spec, length, failure, record)),
          () => resolve(failed('AUDIO_FILE_MISSING', `audio file not found: ${path}`)),
        );
      });
      return lazySegment(seg);
    }
    return this.startSegment(spec, length, failure, record);
  }

  private startSegment(
    spec: SegmentSpec,
    length: number,
    failure: SimFailure | undefined,
    record: SimSegmentRecord,
  ): Segment {
    const seg = new SimSegment(spec, this, length, failure, record);
    // The segment on air is the one whose audio came out last (a queued one waits).
    void seg.started.then(() => {
      if (seg.elapsedMs() >= 0 && record.end === undefined) this.segment = seg;
    });
    void seg.done.then(() => {
      if (this.segment === seg) this.segment = undefined;
    });
    return seg;
  }
}

/** A segment whose start waits for an async check. */
function lazySegment(p: Promise<Segment>): Segment {
  let seg: Segment | undefined;
  let stopped = false;
  let level: [number, number] | undefined;
  let muted: boolean | undefined;
  void p.then((s) => {
    seg = s;
    if (stopped) s.stop();
    if (level) void s.setLevel?.(...level);
    if (muted !== undefined) void s.setMuted?.(muted);
  });
  return {
    done: p.then((s) => s.done),
    started: p.then((s) => s.started),
    stop: () => {
      stopped = true;
      seg?.stop();
    },
    elapsedMs: () => seg?.elapsedMs() ?? 0,
    levels: () => seg?.levels() ?? {},
    setLevel: async (volume, gainDb) => {
      level = [volume, gainDb];
      await seg?.setLevel?.(volume, gainDb);
    },
    setMuted: async (m) => {
      muted = m;
      await seg?.setMuted?.(m);
    },
    startedAt: () => seg?.startedAt?.(),
  };
}
