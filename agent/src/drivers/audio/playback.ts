/**
 * Playbacks built from segments, shared by the real and the simulated driver: a file, tone or
 * input is one segment; a stream relay reconnects after failures and, once the stream has been
 * failing or silent for failoverMs, plays the fallback (a cached file or the FM input) and later
 * tries the stream again, in the manner of Barix boxes and Liquidsoap's fallback().
 */
import type { Segment, SegmentInput, SegmentResult, SegmentRunner, SegmentSpec } from './segment.js';
import type {
  Levels,
  Playback,
  PlayRequest,
  PlayResult,
  RelayReport,
  RelaySourceName,
  RelayStep,
  StreamRelayOptions,
} from './types.js';

const TIMER_SLACK_MS = 20;

function stepName(step: RelayStep): RelaySourceName {
  if (step.kind === 'stream') return 'stream';
  if (step.kind === 'file') return 'recording';
  return step.input;
}

function stepInput(step: RelayStep): SegmentInput {
  if (step.kind === 'stream')
    return { kind: 'url', url: step.url, ...(step.format ? { format: step.format } : {}) };
  if (step.kind === 'file') return { kind: 'file', path: step.path, offsetMs: 0 };
  return { kind: 'input', input: step.input };
}

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
  if (s.kind === 'tone' && s.steps) {
    if (s.steps.length === 0 || s.steps.length > 32) return 'a tone routine has 1..32 steps';
    for (const t of s.steps) {
      if (!(t.frequencyHz >= 20 && t.frequencyHz <= 20_000)) return 'frequencyHz must be 20..20000';
      if (!(t.durationMs > 0)) return 'durationMs must be > 0';
      if (!(t.levelDbfs >= -90 && t.levelDbfs <= 0)) return 'a tone level is -90..0 dBFS';
      if (!['both', 'left', 'right'].includes(t.channel)) return 'a tone channel is both, left or right';
    }
  }
  if (s.kind === 'file' && (s.offsetMs ?? 0) < 0) return 'offsetMs must be >= 0';
  if (s.kind === 'stream' && !/^https?:\/\//.test(s.url)) return 'a stream url is http(s)';
  if (s.kind === 'live' && s.primary.kind === 'stream' && !/^https?:\/\//.test(s.primary.url))
    return 'a stream url is http(s)';
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
  private src: { name: RelaySourceName; reason?: string } | undefined;

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

  /** The relay's source on air (live playbacks only). */
  source(): { name: RelaySourceName; reason?: string } | undefined {
    return this.st === 'ended' ? undefined : this.src;
  }

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
    if (s.kind === 'stream')
      return this.relay({ kind: 'stream', url: s.url }, s.durationMs, s.relay ?? {}, base);
    if (s.kind === 'live') return this.relay(s.primary, s.durationMs, s.relay ?? {}, base);
    this.st = 'playing';
    // An emergency's file or tone may take the driver's waiting decoder.
    const urgent = this.req.urgent === true && s.kind !== 'input' ? { urgent: true } : {};
    const spec: SegmentSpec =
      s.kind === 'file'
        ? {
            ...base,
            ...urgent,
            input: { kind: 'file', path: s.path, offsetMs: s.offsetMs ?? 0 },
            // durationMs is the item's full length: play from the offset to it.
            maxMs: s.durationMs !== undefined ? Math.max(1, s.durationMs - (s.offsetMs ?? 0)) : 24 * 3600_000,
          }
        : s.kind === 'tone'
          ? {
              ...base,
              ...urgent,
              input: { kind: 'tone', frequencyHz: s.frequencyHz, ...(s.steps ? { steps: s.steps } : {}) },
              maxMs: s.durationMs,
            }
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
    primary: RelayStep,
    durationMs: number,
    o: StreamRelayOptions,
    base: { volume: number; gainDb: number; label: string },
  ): Promise<PlayResult> {
    const failoverMs = o.failoverMs ?? 10_000;
    const reconnectDelayMs = o.reconnectDelayMs ?? 1000;
    const silenceMs = o.silenceMs ?? 8000;
    const retryAfterMs = o.retryAfterMs ?? 60_000;
    const chain: RelayStep[] = o.chain ?? (o.fallback ? [o.fallback] : []);
    const report: RelayReport = {
      connects: 0,
      failures: 0,
      fallbackUsed: false,
      streamMs: 0,
      fallbackMs: 0,
      switches: [],
    };
    const results: SegmentResult[] = [];
    let failingSince: number | undefined;
    let giveUp = false;
    let lastError: PlayResult['error'];
    // A relay runs for durationMs of wall time from its slot's start, whatever failed in
    // between, and ends then even if its source runs over (the segment on air is cut).
    const relayStart = Math.max(this.startAt ?? 0, this.deps.now());
    const remaining = () => durationMs - (this.deps.now() - relayStart);
    let over = false;
    void this.deps.sleep(Math.max(0, relayStart + durationMs - this.deps.now())).then(() => {
      if (over) return;
      over = true;
      this.current?.stop();
      this.wake?.();
    });
    const primaryName = stepName(primary);
    this.src = { name: primaryName };
    const switchTo = (to: RelaySourceName, reason: string, at = this.deps.now()) => {
      if (this.src?.name === to) return;
      this.src = { name: to, reason };
      if (report.switches.length < 32)
        report.switches.push({
          atMs: Math.max(0, Math.round(at - relayStart)),
          to,
          reason: reason.slice(0, 200),
        });
    };
    /** Plays one step for up to maxMs; the switch is recorded when its audio comes out. */
    const run = async (
      step: RelayStep,
      maxMs: number,
      reason: string,
    ): Promise<SegmentResult | undefined> => {
      if (step.kind === 'input' && step.prepare) {
        try {
          await step.prepare();
        } catch (e) {
          lastError = {
            code: 'AUDIO_INPUT_UNAVAILABLE',
            message: `${stepName(step)}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 400),
          };
          return undefined;
        }
      }
      if (this.stopped) return undefined;
      const live = step.kind !== 'file';
      const seg = this.segment({
        ...base,
        input: stepInput(step),
        maxMs,
        ...(live ? { stopOnSilenceMs: silenceMs } : {}),
        ...(live && o.normalize ? { normalize: true } : {}),
      });
      const current = this.current;
      let switched = false;
      // The switch is recorded when the source's audio comes out (not when it merely ended).
      void current?.started.then(() => {
        const at = current.startedAt?.();
        if (at === undefined) return;
        switched = true;
        switchTo(stepName(step), reason, at);
        if (this.st !== 'ended' && step === primary) this.st = 'playing';
      });
      const r = await seg;
      results.push(r);
      if (!switched && r.producedMs > 0) switchTo(stepName(step), reason);
      return r;
    };

    try {
      while (!this.stopped && remaining() > 50) {
        // Timers may fire a little early on the monotonic clock: a few ms of slack.
        const failingFor = failingSince === undefined ? 0 : this.deps.now() - failingSince + TIMER_SLACK_MS;
        // A stream may come back (reconnect until failoverMs); another source fails over at once.
        if (failingSince !== undefined && (giveUp || failingFor >= failoverMs || primary.kind !== 'stream')) {
          giveUp = false;
          let reason = lastError?.message ?? `${primaryName} failed`;
          let held = false;
          for (const step of chain) {
            if (this.stopped || remaining() <= 50) break;
            this.st = 'fallback';
            const r = await run(step, Math.min(retryAfterMs, remaining()), reason);
            if (!r) {
              reason = lastError?.message ?? reason;
              continue;
            }
            report.fallbackUsed = true;
            report.fallbackMs += r.producedMs;
            // It ran its time (or the recording ended, or the relay was stopped): try the primary again.
            if (r.end === 'stopped' || (r.end === 'eof' && r.producedMs > 0)) {
              held = true;
              break;
            }
            lastError = r.error ?? {
              code: 'AUDIO_STREAM_FAILED',
              message: `${stepName(step)} ${r.end === 'silence' ? 'went silent' : 'ended early'}`,
            };
            reason = lastError.message;
          }
          if (!held && !this.stopped && remaining() > 50) {
            // Every source failed: silence (the station raises an alert) until the next try.
            switchTo('silence', reason);
            o.onSilence?.(reason);
            // No fallback at all: the relay fails (a stream with nothing to fall back on).
            if (chain.length === 0 && primary.kind === 'stream') break;
            this.st = 'fallback';
            await this.pause(Math.min(retryAfterMs, remaining()));
          }
          failingSince = undefined;
          continue;
        }
        this.st =
          report.connects === 0 ? 'starting' : failingSince === undefined ? 'playing' : 'reconnecting';
        report.connects++;
        const segStart = this.deps.now();
        const backReason = report.switches.length ? `${primaryName} is back` : 'scheduled';
        const r = await run(primary, remaining(), backReason);
        if (r) report.streamMs += r.producedMs;
        if (this.stopped || remaining() <= 50) break;
        // The source ended early, errored or went silent: a failure.
        report.failures++;
        if (r?.error) lastError = r.error;
        else if (r?.end === 'silence')
          lastError = { code: 'AUDIO_STREAM_FAILED', message: `the ${primaryName} went silent` };
        else if (r) lastError = { code: 'AUDIO_STREAM_FAILED', message: `the ${primaryName} ended early` };
        // Audio that came through resets the failure clock; then the failure starts when the
        // audio stopped (or the silence began).
        const audible = r !== undefined && r.producedMs - (r.end === 'silence' ? silenceMs : 0) > 0;
        if (audible) failingSince = r.end === 'silence' ? this.deps.now() - silenceMs : this.deps.now();
        else failingSince ??= segStart;
        this.st = 'reconnecting';
        // No time for another try before the failover: fall back now rather than wait in silence.
        if (this.deps.now() - failingSince + reconnectDelayMs > failoverMs) giveUp = true;
        else await this.pause(reconnectDelayMs);
      }
    } finally {
      over = true;
      await o.release?.().catch(() => undefined);
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
