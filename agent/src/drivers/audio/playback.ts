/**
 * Playbacks built from segments, shared by the real and the simulated driver: a file, tone or
 * input is one segment; a stream relay reconnects after failures and, once the stream has been
 * failing or silent for failoverMs, plays the fallback (a cached file or the FM input) and later
 * tries the stream again, in the manner of Barix boxes and Liquidsoap's fallback().
 */
import type { Segment, SegmentResult, SegmentRunner, SegmentSpec } from './segment.js';
import type { Levels, Playback, PlayRequest, PlayResult, RelayReport, StreamRelayOptions } from './types.js';

export interface PlaybackDeps {
  runner: SegmentRunner;
  /** Monotonic ms. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  deadAirMs: number;
}

type State = ReturnType<Playback['state']>;

/**
 * The output's mute, shared by a driver and its playbacks: audio not yet out is held while
 * muted (audible() waits), audio on air goes silent through its segment.
 */
export class OutputMute {
  private isMuted = false;
  private waiters: (() => void)[] = [];

  get muted(): boolean {
    return this.isMuted;
  }

  set(muted: boolean): void {
    this.isMuted = muted;
    if (muted) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  readonly audible = (): Promise<void> =>
    this.isMuted
      ? new Promise<void>((r) => {
          this.waiters.push(r);
        })
      : Promise.resolve();
}

export function validateRequest(req: PlayRequest): string | undefined {
  const s = req.source;
  const vol = req.volume ?? 100;
  if (!Number.isFinite(vol) || vol < 0 || vol > 100) return 'volume must be 0..100';
  if (req.gainDb !== undefined && (!Number.isFinite(req.gainDb) || req.gainDb < -60 || req.gainDb > 20))
    return 'gainDb must be -60..20';
  if ('durationMs' in s && s.durationMs !== undefined && !(s.durationMs > 0)) return 'durationMs must be > 0';
  if (s.kind === 'tone' && !(s.frequencyHz >= 20 && s.frequencyHz <= 20_000))
    return 'frequencyHz must be 20..20000';
  if (s.kind === 'file' && (s.offsetMs ?? 0) < 0) return 'offsetMs must be >= 0';
  if (s.kind === 'stream' && !/^https?:\/\//.test(s.url)) return 'a stream url is http(s)';
  return undefined;
}

export class SegmentPlayback implements Playback {
  readonly result: Promise<PlayResult>;
  readonly started: Promise<void>;
  private current: Segment | undefined;
  private stopped = false;
  private st: State = 'starting';
  private doneMs = 0;
  private startedResolve!: () => void;
  private releasedResolve!: () => void;
  /** Resolves once the output is free for the next playback: stop() was called or it ended. */
  readonly released: Promise<void>;
  private wake: (() => void) | undefined;
  private readonly startAt: number | undefined;
  private firstDone = false;
  private volume: number;
  private readonly gainDb: number;
  private firstAudioAt: number | undefined;

  constructor(
    readonly id: number,
    private readonly req: PlayRequest,
    private readonly deps: PlaybackDeps,
    /** Resolves when the output is free (the previous playback has ended). */
    private readonly after?: Promise<unknown>,
    /** The driver's output mute. */
    private readonly mute?: OutputMute,
  ) {
    this.volume = req.volume ?? 100;
    this.gainDb = req.gainDb ?? 0;
    this.started = new Promise<void>((r) => {
      this.startedResolve = r;
    });
    this.released = new Promise<void>((r) => {
      this.releasedResolve = r;
    });
    const delay = req.startDelayMs;
    this.startAt = delay !== undefined && delay > 0 ? deps.now() + delay : undefined;
    this.result = this.run()
      .catch(
        (e: unknown): PlayResult => ({
          outcome: 'failed',
          positionMs: this.doneMs,
          playedMs: this.doneMs,
          deadAir: false,
          error: { code: 'AUDIO_PROCESS_DIED', message: e instanceof Error ? e.message : String(e) },
        }),
      )
      .finally(() => {
        this.st = 'ended';
        this.startedResolve();
        this.releasedResolve();
      });
  }

  readonly state = (): State => this.st;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.current?.stop();
    // A stopped segment's output is cut at once (see FfmpegSegment): the next may start.
    this.releasedResolve();
    this.wake?.();
  }

  startLagMs(): number {
    return this.firstAudioAt === undefined ? 0 : Math.max(0, this.deps.now() - this.firstAudioAt);
  }

  setVolume(volume: number): Promise<void> {
    if (!Number.isFinite(volume) || volume < 0 || volume > 100) return Promise.resolve();
    this.volume = volume;
    const seg = this.current;
    if (!seg?.setLevel || this.st === 'ended') return Promise.resolve();
    return seg.setLevel(volume, this.gainDb);
  }

  /** The driver's mute reaches the audio on air (later segments wait for the unmute). */
  setMuted(muted: boolean): Promise<void> {
    const seg = this.current;
    if (!seg?.setMuted || this.st === 'ended') return Promise.resolve();
    return seg.setMuted(muted);
  }

  position(): number {
    const s = this.req.source;
    const offset = s.kind === 'file' ? (s.offsetMs ?? 0) : 0;
    return offset + this.doneMs + (this.current?.elapsedMs() ?? 0);
  }

  levels(): Levels {
    return this.current?.levels() ?? {};
  }

  private async segment(spec: SegmentSpec): Promise<SegmentResult> {
    // Only the first segment of a playback is held for its start instant.
    // Only the first segment is held: for its start instant and until the previous playback on
    // the output has ended (its process starts meanwhile).
    if (!this.firstDone) {
      if (this.startAt !== undefined) spec.startAt = this.startAt;
      if (this.after) spec.after = this.after;
    }
    this.firstDone = true;
    // Segments start at the volume of now (it may have changed since play()); while the output
    // is muted their audio is held.
    spec.volume = this.volume;
    spec.gainDb = this.gainDb;
    if (this.mute) spec.audible = this.mute.audible;
    const seg = this.deps.runner(spec);
    this.current = seg;
    if (this.stopped) seg.stop();
    else if (this.mute?.muted) void seg.setMuted?.(true);
    void seg.started.then(() => {
      if (this.firstAudioAt === undefined) this.firstAudioAt = seg.startedAt?.() ?? this.deps.now();
      this.startedResolve();
    });
    const r = await seg.done;
    this.current = undefined;
    this.doneMs += r.producedMs;
    return r;
  }

  private async run(): Promise<PlayResult> {
    const invalid = validateRequest(this.req);
    if (invalid) {
      return {
        outcome: 'failed',
        positionMs: 0,
        playedMs: 0,
        deadAir: false,
        error: { code: 'AUDIO_BAD_REQUEST', message: invalid },
      };
    }
    if (this.stopped) return { outcome: 'stopped', positionMs: 0, playedMs: 0, deadAir: false };
    const s = this.req.source;
    const base = {
      volume: this.req.volume ?? 100,
      gainDb: this.req.gainDb ?? 0,
      label: this.req.label ?? '',
    };
    if (s.kind === 'stream') return this.relay(s.url, s.durationMs, s.relay ?? {}, base);
    this.st = 'playing';
    const spec: SegmentSpec =
      s.kind === 'file'
        ? {
            ...base,
            input: { kind: 'file', path: s.path, offsetMs: s.offsetMs ?? 0 },
            // durationMs is the item's full length: play from the offset to it.
            maxMs: s.durationMs !== undefined ? Math.max(1, s.durationMs - (s.offsetMs ?? 0)) : 24 * 3600_000,
          }
        : s.kind === 'tone'
          ? { ...base, input: { kind: 'tone', frequencyHz: s.frequencyHz }, maxMs: s.durationMs }
          : { ...base, input: { kind: 'input', input: s.input }, maxMs: s.durationMs };
    const r = await this.segment(spec);
    const offset = s.kind === 'file' ? (s.offsetMs ?? 0) : 0;
    const out: PlayResult = {
      outcome: r.end === 'stopped' ? 'stopped' : r.end === 'error' ? 'failed' : 'completed',
      positionMs: offset + r.producedMs,
      playedMs: r.producedMs,
      deadAir: r.longestSilenceMs >= this.deps.deadAirMs,
    };
    if (r.loudnessLufs !== undefined) out.loudnessLufs = r.loudnessLufs;
    if (r.peakDbfs !== undefined) out.peakDbfs = r.peakDbfs;
    if (r.error) out.error = r.error;
    return out;
  }

  private async relay(
    url: string,
    durationMs: number,
    o: StreamRelayOptions,
    base: { volume: number; gainDb: number; label: string },
  ): Promise<PlayResult> {
    const failoverMs = o.failoverMs ?? 10_000;
    const reconnectDelayMs = o.reconnectDelayMs ?? 1000;
    const silenceMs = o.silenceMs ?? 8000;
    const retryAfterMs = o.retryAfterMs ?? 60_000;
    const report: RelayReport = { connects: 0, failures: 0, fallbackUsed: false, streamMs: 0, fallbackMs: 0 };
    const results: SegmentResult[] = [];
    let failingSince: number | undefined;
    let lastError: PlayResult['error'];
    // A relay runs for durationMs of wall time (its slot), whatever failed in between.
    const relayStart = this.deps.now();
    const remaining = () => durationMs - (this.deps.now() - relayStart);

    while (!this.stopped && remaining() > 50) {
      const failingFor = failingSince === undefined ? 0 : this.deps.now() - failingSince;
      if (failingSince !== undefined && failingFor >= failoverMs) {
        if (!o.fallback) {
          lastError = { code: 'AUDIO_STREAM_FAILED', message: lastError?.message ?? 'the stream failed' };
          break;
        }
        this.st = 'fallback';
        report.fallbackUsed = true;
        const fb = o.fallback;
        const r = await this.segment({
          ...base,
          input:
            fb.kind === 'file'
              ? { kind: 'file', path: fb.path, offsetMs: 0 }
              : { kind: 'input', input: fb.input },
          maxMs: Math.min(retryAfterMs, remaining()),
        });
        results.push(r);
        report.fallbackMs += r.producedMs;
        if (r.end === 'error') {
          lastError = r.error;
          // A broken fallback must not spin: wait before trying the stream again.
          await this.pause(reconnectDelayMs);
        }
        failingSince = undefined;
        continue;
      }
      this.st = report.connects === 0 ? 'starting' : failingSince === undefined ? 'playing' : 'reconnecting';
      report.connects++;
      const segStart = this.deps.now();
      const seg = this.segment({
        ...base,
        input: { kind: 'url', url },
        maxMs: remaining(),
        stopOnSilenceMs: silenceMs,
      });
      void this.current?.started.then(() => {
        if (this.st !== 'ended') this.st = 'playing';
      });
      const r = await seg;
      results.push(r);
      report.streamMs += r.producedMs;
      if (this.stopped || remaining() <= 50) break;
      // The stream ended early, errored or went silent: a failure.
      report.failures++;
      if (r.error) lastError = r.error;
      else if (r.end === 'silence')
        lastError = { code: 'AUDIO_STREAM_FAILED', message: 'the stream went silent' };
      else lastError = { code: 'AUDIO_STREAM_FAILED', message: 'the stream ended early' };
      // Audio that came through resets the failure clock; then the failure starts when the
      // audio stopped (or the silence began).
      const audible = r.producedMs - (r.end === 'silence' ? silenceMs : 0) > 0;
      if (audible) failingSince = r.end === 'silence' ? this.deps.now() - silenceMs : this.deps.now();
      else failingSince ??= segStart;
      this.st = 'reconnecting';
      await this.pause(reconnectDelayMs);
    }

    const played = this.doneMs;
    const measured = results.filter((r) => r.producedMs > 0);
    const out: PlayResult = {
      outcome: this.stopped ? 'stopped' : remaining() <= 50 && played > 0 ? 'completed' : 'failed',
      positionMs: played,
      playedMs: played,
      deadAir: results.some((r) => r.longestSilenceMs >= this.deps.deadAirMs),
      relay: report,
    };
    // Loudness of the whole relay: the energy-weighted mean of the segments is close enough
    // for a proof; the peak is the maximum.
    if (measured.some((r) => r.loudnessLufs !== undefined)) {
      let energy = 0;
      let weight = 0;
      for (const r of measured) {
        if (r.loudnessLufs === undefined) continue;
        energy += 10 ** (r.loudnessLufs / 10) * r.producedMs;
        weight += r.producedMs;
      }
      out.loudnessLufs = Math.round(10 * Math.log10(energy / weight) * 10) / 10;
    }
    const peaks = measured.map((r) => r.peakDbfs).filter((p): p is number => p !== undefined);
    if (peaks.length) out.peakDbfs = Math.max(...peaks);
    if (out.outcome === 'failed')
      out.error = lastError ?? { code: 'AUDIO_STREAM_FAILED', message: 'the stream failed' };
    return out;
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    await Promise.race([
      this.deps.sleep(ms),
      new Promise<void>((r) => {
        this.wake = r;
      }),
    ]);
    this.wake = undefined;
  }
}
