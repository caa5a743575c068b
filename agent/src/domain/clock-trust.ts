/**
 * Clock trust: pure rules. A station has no RTC, so after a power cut its system clock may be
 * anywhere (1970, or the last time fake-hwclock saved). Time becomes trusted from NTP
 * synchronisation, the fleet server's time, or the modem's network time. Once trusted, the
 * agent's time is an anchor plus monotonic elapsed time, so a later jump of the system clock
 * does not move the programme. The latest trusted time is persisted; the agent never runs on a
 * clock earlier than it.
 *
 * A weaker source must not be able to poison that floor: modems do report wrong network time
 * (a bad NITZ from a cell, a year off after a firmware bug). So the persisted instant remembers
 * which source set it; a better source (NTP over a modem, say) that disagrees corrects it, even
 * backwards; and a weaker source may move a fresh anchor of a better one only once that anchor
 * has gone stale (the better source has been silent for `staleAfterMs`).
 */
import type { ClockState } from '@loa/protocol';

export type TimeSource = 'ntp' | 'server' | 'modem';

/** Precedence when several sources agree: NTP is the most precise. */
const SOURCE_RANK: Record<TimeSource, number> = { ntp: 3, server: 2, modem: 1 };

/**
 * The rank of the source behind the persisted instant; a file written before sources were
 * recorded counts as the weakest (a modem), so any better source can correct it.
 */
function floorRank(state: ClockTrustState): number {
  return state.lastTrustedSource ? SOURCE_RANK[state.lastTrustedSource] : SOURCE_RANK.modem;
}

/** A reading of the machine's clocks at one moment. */
export interface ClockReading {
  /** System wall clock (Date.now()), possibly wrong. */
  wallMs: number;
  /** Monotonic clock (performance.now() or process.hrtime), never jumps. */
  monoMs: number;
}

/** A time reported by a source, observed at `reading`. For NTP, `timeMs` is the system time. */
export interface TimeSample {
  source: TimeSource;
  timeMs: number;
  /** Uncertainty of the sample (round trip / 2, or the modem's 1 s resolution). */
  uncertaintyMs?: number;
}

export interface TrustAnchor {
  source: TimeSource;
  /** Trusted time at monoMs. */
  trustedMs: number;
  monoMs: number;
  uncertaintyMs: number;
}

export interface ClockTrustState {
  anchor?: TrustAnchor;
  /** Latest trusted instant known (persisted across reboots). */
  lastTrustedMs?: number;
  /** The source whose anchor set lastTrustedMs (persisted with it). */
  lastTrustedSource?: TimeSource;
  /**
   * While untrusted: a lower bound on the true time that runs on with the monotonic clock (not
   * persisted). It starts at the persisted last trusted time and is raised by the creation time
   * of a verified signed document (a bundle brought on a USB stick was signed no earlier than
   * it says). Without it the agent's time would stand still at lastTrustedMs whenever the system
   * clock is behind it (a board without an RTC after a power cut), and every proof and slot of the
   * offline hours would carry the same instant.
   */
  floor?: { ms: number; monoMs: number };
}

export interface ClockTrustRules {
  /** A sample earlier than this is nonsense (modems report 1980/2000 before registration). */
  minPlausibleMs: number;
  /** A sample earlier than lastTrusted by more than this is rejected. Default 60 s. */
  backwardsToleranceMs: number;
  /** A worse source may re-anchor only if it disagrees by more than this. Default 5 s. */
  reanchorThresholdMs: number;
  /**
   * ... and only once the better anchor is this old (its source silent; NTP re-anchors at every
   * poll while synchronised). Default 6 h: a crystal drifts a few seconds in that time.
   */
  staleAfterMs: number;
  /**
   * A server or modem sample carries an unknown one-way delay (the server stamps its time, the
   * message then crosses the broker and 4G), so every such sample is early by tens to hundreds of
   * milliseconds, by a different amount each time. Re-anchoring on each would make the station's
   * clock jitter, and step backwards, by that much. So a sample of the anchor's own source that
   * agrees within this tolerance is not used, unless it is more precise (a measured round trip:
   * the time request, against an ack's unknown delay) or the anchor is older than
   * `refreshAfterMs` (the board's crystal drifts: 50 ppm is 180 ms an hour). NTP samples (the
   * disciplined system clock, no delay) always re-anchor. Default 500 ms.
   */
  sameSourceToleranceMs: number;
  /** Default 1 h. */
  refreshAfterMs: number;
}

export const DEFAULT_CLOCK_RULES: ClockTrustRules = {
  minPlausibleMs: Date.UTC(2025, 0, 1),
  backwardsToleranceMs: 60_000,
  reanchorThresholdMs: 5_000,
  staleAfterMs: 6 * 3600_000,
  sameSourceToleranceMs: 500,
  refreshAfterMs: 3600_000,
};

export type SampleVerdict =
  | {
      accepted: true;
      state: ClockTrustState;
      /** Set when a better source moved the persisted instant backwards (ms it moved back). */
      correctedBackMs?: number;
    }
  | { accepted: false; state: ClockTrustState; reason: 'implausible' | 'before-last-trusted' | 'not-better' };

/** Trusted time now, or undefined while untrusted. */
export function trustedNow(state: ClockTrustState, reading: ClockReading): number | undefined {
  if (!state.anchor) return undefined;
  return state.anchor.trustedMs + (reading.monoMs - state.anchor.monoMs);
}

/**
 * The time the agent runs on: the trusted time when there is one, otherwise the system clock,
 * but never earlier than the persisted last trusted time, nor, while untrusted, than the floor
 * advanced by the monotonic time since it was set.
 */
export function agentNow(state: ClockTrustState, reading: ClockReading): number {
  const trusted = trustedNow(state, reading);
  let t = trusted ?? reading.wallMs;
  if (state.lastTrustedMs !== undefined) t = Math.max(t, state.lastTrustedMs);
  if (trusted === undefined && state.floor)
    t = Math.max(t, state.floor.ms + Math.max(0, reading.monoMs - state.floor.monoMs));
  return t;
}

/**
 * Raises the untrusted floor to `ms` (the persisted last trusted time at start, or a verified
 * signed document's creation time); never lowers it, and changes nothing once trusted.
 */
export function raiseFloor(state: ClockTrustState, ms: number, reading: ClockReading): ClockTrustState {
  if (state.anchor || !Number.isFinite(ms)) return state;
  if (agentNow(state, reading) >= ms) return state;
  return { ...state, floor: { ms, monoMs: reading.monoMs } };
}

/** Applies a sample from a source. */
export function applySample(
  state: ClockTrustState,
  sample: TimeSample,
  reading: ClockReading,
  rules: ClockTrustRules = DEFAULT_CLOCK_RULES,
): SampleVerdict {
  if (!Number.isFinite(sample.timeMs) || sample.timeMs < rules.minPlausibleMs)
    return { accepted: false, state, reason: 'implausible' };
  const rank = SOURCE_RANK[sample.source];
  let correctedBackMs: number | undefined;
  if (state.lastTrustedMs !== undefined && sample.timeMs < state.lastTrustedMs - rules.backwardsToleranceMs) {
    // earlier than the floor: only a better source than the one that set it may correct it
    if (rank <= floorRank(state)) return { accepted: false, state, reason: 'before-last-trusted' };
    correctedBackMs = state.lastTrustedMs - sample.timeMs;
  }
  const uncertaintyMs = sample.uncertaintyMs ?? (sample.source === 'modem' ? 1000 : 0);
  const current = state.anchor;
  if (current && rank < SOURCE_RANK[current.source]) {
    const ours = trustedNow(state, reading) ?? reading.wallMs;
    const fresh = reading.monoMs - current.monoMs < rules.staleAfterMs;
    if (fresh || Math.abs(ours - sample.timeMs) <= rules.reanchorThresholdMs) {
      return { accepted: false, state, reason: 'not-better' };
    }
  }
  if (
    current &&
    correctedBackMs === undefined &&
    sample.source !== 'ntp' &&
    rank === SOURCE_RANK[current.source]
  ) {
    const ours = trustedNow(state, reading) ?? reading.wallMs;
    const agrees = Math.abs(ours - sample.timeMs) <= rules.sameSourceToleranceMs;
    // a measured round trip beats an unknown delay; an old anchor is refreshed by a sample about
    // as precise as the one it came from
    const morePrecise = uncertaintyMs < current.uncertaintyMs;
    const due =
      reading.monoMs - current.monoMs >= rules.refreshAfterMs && uncertaintyMs <= current.uncertaintyMs + 50;
    if (agrees && !morePrecise && !due) return { accepted: false, state, reason: 'not-better' };
  }
  const anchor: TrustAnchor = {
    source: sample.source,
    trustedMs: sample.timeMs,
    monoMs: reading.monoMs,
    uncertaintyMs,
  };
  if (correctedBackMs !== undefined)
    return {
      accepted: true,
      state: { anchor, lastTrustedMs: sample.timeMs, lastTrustedSource: sample.source },
      correctedBackMs,
    };
  const advances = state.lastTrustedMs === undefined || sample.timeMs >= state.lastTrustedMs;
  const next: ClockTrustState = {
    anchor,
    lastTrustedMs: Math.max(state.lastTrustedMs ?? 0, sample.timeMs),
  };
  const source = advances ? sample.source : state.lastTrustedSource;
  if (source) next.lastTrustedSource = source;
  return { accepted: true, state: next };
}

/** Advances the persisted last-trusted instant to the current trusted time (call periodically). */
export function checkpoint(state: ClockTrustState, reading: ClockReading): ClockTrustState {
  const t = trustedNow(state, reading);
  if (t === undefined || !state.anchor) return state;
  if (state.lastTrustedMs !== undefined && t <= state.lastTrustedMs) return state;
  return { ...state, lastTrustedMs: t, lastTrustedSource: state.anchor.source };
}

/** The health view (protocol ClockStateSchema). */
export function clockState(state: ClockTrustState): ClockState {
  const out: ClockState = state.anchor
    ? { trusted: true, source: state.anchor.source }
    : { trusted: false, source: state.lastTrustedMs !== undefined ? 'persisted' : 'none' };
  if (state.lastTrustedMs !== undefined) out.lastTrusted = new Date(state.lastTrustedMs).toISOString();
  return out;
}
