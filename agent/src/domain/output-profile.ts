/**
 * The station's output profile: what the line output feeds, and the processing that suits it.
 *
 * - `loudspeaker` (default): the station's own amplifier and horns; no processing at all (the
 *   audio path is exactly what it always was).
 * - `fm-exciter`: the line output feeds a low-power FM transmitter (the exciter of a commune's
 *   old wireless network). Pre-emphasis (50 µs in Vietnam, 75 µs in the Americas; none when the
 *   exciter applies its own), a 15 kHz low-pass so nothing reaches the 19 kHz pilot, and a
 *   look-ahead limiter with a safety clipper after it, so the exciter is never over-deviated.
 * - `wired-line`: the line output feeds an old wired amplifier and its horn speakers. A high-pass
 *   (150 Hz) spares the horns the bass they cannot reproduce, a low-pass (7 kHz) suits the line,
 *   and the same limiter keeps the amplifier's input below its clip point. No pre-emphasis.
 *
 * Pure: the profile maps to a list of stages (biquad coefficients computed here, the limiter's
 * ceiling), and their response is computed here too, so the test tone routine can tell the
 * technician what level comes out, and tests can check ffmpeg against the maths. The audio
 * driver turns the stages into ffmpeg filters (drivers/audio/ffmpeg-output.ts).
 */

export type OutputProfileKind = 'loudspeaker' | 'fm-exciter' | 'wired-line';

/** FM pre-emphasis time constant in µs; 0: none. */
export type PreEmphasisUs = 0 | 50 | 75;

/** A resolved profile (config.ts fills in the defaults of its kind). */
export interface OutputProfile {
  kind: OutputProfileKind;
  /** Pre-emphasis time constant (µs), 0 for none. Only fm-exciter uses it. */
  preEmphasisUs: PreEmphasisUs;
  /** Low-pass corner (Hz), 8th-order Butterworth for FM, 4th-order on a wired line; absent: none. */
  lowpassHz?: number;
  /** High-pass corner (Hz), 4th-order Butterworth; absent: none. */
  highpassHz?: number;
  /** Gain (dB) applied to the programme before the filters (line trim). */
  trimDb: number;
  /**
   * The alignment level (dBFS) at the line output: the level of the 1 kHz reference tone, the
   * one the exciter's deviation or the amplifier's input gain is set to.
   */
  referenceDbfs: number;
  /** The limiter's ceiling (dBFS sample peak): nothing leaves the line output above it. */
  peakLimitDbfs: number;
  /** What 0 dBFS measures at the line output, in dBu (for the technician, when known). */
  fullScaleDbu?: number;
}

/** The default profile: today's loudspeaker station, no processing. */
export const LOUDSPEAKER_PROFILE: OutputProfile = {
  kind: 'loudspeaker',
  preEmphasisUs: 0,
  trimDb: 0,
  referenceDbfs: -18,
  peakLimitDbfs: 0,
};

/** Normalised biquad coefficients (a0 = 1). */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** One stage of the output chain, in order. */
export type OutputStage =
  | { kind: 'gain'; db: number }
  | { kind: 'biquad'; role: 'highpass' | 'lowpass' | 'preemphasis'; coeffs: Biquad }
  /** A look-ahead limiter at this ceiling followed by a hard clipper at the same ceiling. */
  | { kind: 'limiter'; ceilingDbfs: number; attackMs: number; releaseMs: number };

/** Q of each biquad section of an order-n Butterworth filter (n even). */
export function butterworthQs(order: number): number[] {
  const qs: number[] = [];
  for (let k = 1; k <= order / 2; k++) qs.push(1 / (2 * Math.cos(((2 * k - 1) * Math.PI) / (2 * order))));
  return qs;
}

/** A second-order low- or high-pass section (the Audio EQ Cookbook's bilinear design). */
export function passSection(type: 'lowpass' | 'highpass', hz: number, q: number, rate: number): Biquad {
  const w0 = (2 * Math.PI * hz) / rate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b1 = type === 'lowpass' ? 1 - cos : -(1 + cos);
  const b0 = type === 'lowpass' ? (1 - cos) / 2 : (1 + cos) / 2;
  return { b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** The ideal (analogue) pre-emphasis gain at f, dB: 10·log10(1 + (2πfτ)²). */
export function idealPreEmphasisDb(tauUs: number, hz: number): number {
  const x = 2 * Math.PI * hz * tauUs * 1e-6;
  return 10 * Math.log10(1 + x * x);
}

/** Frequencies (log-spaced) over which the digital pre-emphasis is fitted to the ideal curve. */
function fitBand(topHz: number): number[] {
  const out: number[] = [];
  for (let f = 50; f < topHz; f *= 1.08) out.push(f);
  out.push(topHz);
  return out;
}

function firstOrder(z0: number, p: number): Biquad {
  // Unity gain at DC: g·(1 − z0)/(1 − p) = 1.
  const g = (1 - p) / (1 - z0);
  return { b0: g, b1: -g * z0, b2: 0, a1: -p, a2: 0 };
}

/**
 * A first-order digital pre-emphasis: H(z) = g·(1 − z0·z⁻¹)/(1 − p·z⁻¹), the zero matched to
 * the time constant (z0 = e^(−1/τfs)) and the pole chosen so that the gain follows the ideal
 * curve within a few hundredths of a dB up to `topHz` (15 kHz): the analogue curve has no pole,
 * and a plain bilinear transform would bend it near the Nyquist frequency.
 */
export function preEmphasisSection(tauUs: number, rate: number, topHz = 15_000): Biquad {
  const z0 = Math.exp(-1 / (tauUs * 1e-6 * rate));
  const band = fitBand(Math.min(topHz, rate * 0.45));
  const err = (p: number) => {
    const s = firstOrder(z0, p);
    let worst = 0;
    for (const f of band)
      worst = Math.max(worst, Math.abs(biquadGainDb(s, f, rate) - idealPreEmphasisDb(tauUs, f)));
    return worst;
  };
  // Coarse scan, then a finer one around the best pole.
  let best = 0;
  let bestErr = Number.POSITIVE_INFINITY;
  for (let p = -0.9; p <= 0.9; p += 0.01) {
    const e = err(p);
    if (e < bestErr) [best, bestErr] = [p, e];
  }
  const centre = best;
  for (let p = centre - 0.01; p <= centre + 0.01; p += 0.0002) {
    const e = err(p);
    if (e < bestErr) [best, bestErr] = [p, e];
  }
  return firstOrder(z0, best);
}

/** The gain of one biquad at f (Hz), dB. */
export function biquadGainDb(s: Biquad, hz: number, rate: number): number {
  const w = (2 * Math.PI * hz) / rate;
  const c1 = Math.cos(w);
  const s1 = Math.sin(w);
  const c2 = Math.cos(2 * w);
  const s2 = Math.sin(2 * w);
  const nr = s.b0 + s.b1 * c1 + s.b2 * c2;
  const ni = -(s.b1 * s1 + s.b2 * s2);
  const dr = 1 + s.a1 * c1 + s.a2 * c2;
  const di = -(s.a1 * s1 + s.a2 * s2);
  return 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/** The limiter's look-ahead and release (ms): fast enough for speech, no pumping on tones. */
export const LIMITER_ATTACK_MS = 5;
export const LIMITER_RELEASE_MS = 50;

/** Butterworth orders of the band limits, per profile. */
const ORDERS: Record<Exclude<OutputProfileKind, 'loudspeaker'>, { lowpass: number; highpass: number }> = {
  // Steep above 15 kHz: the stereo pilot sits at 19 kHz.
  'fm-exciter': { lowpass: 8, highpass: 4 },
  'wired-line': { lowpass: 4, highpass: 4 },
};

/**
 * The processing chain of a profile at the output's sample rate. The loudspeaker profile has
 * none: the audio path stays exactly as before.
 */
export function outputChain(profile: OutputProfile, rate: number): OutputStage[] {
  if (profile.kind === 'loudspeaker') return [];
  const orders = ORDERS[profile.kind];
  const stages: OutputStage[] = [];
  if (profile.trimDb !== 0) stages.push({ kind: 'gain', db: profile.trimDb });
  if (profile.highpassHz !== undefined)
    for (const q of butterworthQs(orders.highpass))
      stages.push({
        kind: 'biquad',
        role: 'highpass',
        coeffs: passSection('highpass', profile.highpassHz, q, rate),
      });
  if (profile.kind === 'fm-exciter' && profile.preEmphasisUs > 0)
    stages.push({
      kind: 'biquad',
      role: 'preemphasis',
      coeffs: preEmphasisSection(profile.preEmphasisUs, rate, profile.lowpassHz ?? 15_000),
    });
  if (profile.lowpassHz !== undefined)
    for (const q of butterworthQs(orders.lowpass))
      stages.push({
        kind: 'biquad',
        role: 'lowpass',
        coeffs: passSection('lowpass', profile.lowpassHz, q, rate),
      });
  stages.push({
    kind: 'limiter',
    ceilingDbfs: profile.peakLimitDbfs,
    attackMs: LIMITER_ATTACK_MS,
    releaseMs: LIMITER_RELEASE_MS,
  });
  return stages;
}

/**
 * The small-signal gain of a chain at f (dB): the filters and the trim, not the limiter (a
 * signal below its ceiling passes it unchanged). `roles` picks which filters count.
 */
export function chainGainDb(
  stages: readonly OutputStage[],
  hz: number,
  rate: number,
  roles: readonly ('highpass' | 'lowpass' | 'preemphasis' | 'gain')[] = [
    'highpass',
    'lowpass',
    'preemphasis',
    'gain',
  ],
): number {
  let db = 0;
  for (const s of stages) {
    if (s.kind === 'gain' && roles.includes('gain')) db += s.db;
    else if (s.kind === 'biquad' && roles.includes(s.role)) db += biquadGainDb(s.coeffs, hz, rate);
  }
  return db;
}

/** Which side(s) a tone plays on. */
export type ToneChannel = 'both' | 'left' | 'right';

/** One step of the test tone routine, as it comes out of the line output. */
export interface ToneStep {
  frequencyHz: number;
  durationMs: number;
  /** The sine's level at the source (dBFS peak), before the output chain. */
  levelDbfs: number;
  channel: ToneChannel;
  /** What the technician hears and reads (Vietnamese). */
  label: string;
  /** The level expected at the line output (dBFS peak): what the technician is told. */
  outputDbfs: number;
}

export interface ToneRoutineOptions {
  /** Seconds of the 1 kHz reference tone (the alignment step). */
  referenceS: number;
  /** Add the left/right identification (1 kHz on the left only, then the right only). */
  leftRight: boolean;
  /** Add a stepped sweep across the profile's band, 6 dB below the reference. */
  sweep: boolean;
  /** Seconds per identification or sweep step. Default 2. */
  stepS?: number;
}

/** Limits of the routine the technician may ask for. */
export const TONE_ROUTINE_LIMITS = { referenceS: { min: 1, max: 120 }, stepS: { min: 1, max: 10 } } as const;

/** The sweep's frequencies (Hz); those outside the profile's band are left out. */
export const SWEEP_HZ = [100, 200, 400, 1000, 2000, 4000, 8000, 12_000] as const;

/** How far the sweep steps sit below the reference, dB. */
export const SWEEP_BELOW_REFERENCE_DB = 6;

/** dB → "−18,0 dBFS" the Vietnamese way (comma decimal, true minus sign). */
export function viDb(db: number, unit: string): string {
  const v = Math.round(db * 10) / 10;
  const sign = v < 0 ? '−' : v > 0 ? '+' : '';
  return `${sign}${Math.abs(v).toFixed(1).replace('.', ',')} ${unit}`;
}

/** The level at the line output in words: dBFS, and dBu when the card's full scale is known. */
export function outputLevelText(profile: OutputProfile, dbfs: number): string {
  const fs = viDb(dbfs, 'dBFS');
  return profile.fullScaleDbu === undefined ? fs : `${fs} (≈ ${viDb(dbfs + profile.fullScaleDbu, 'dBu')})`;
}

/**
 * The test tone routine for a profile: the 1 kHz reference at the alignment level, then (when
 * asked) left/right identification and a stepped sweep within the profile's band. Each step's
 * source level is set so that, after the output chain (pre-emphasis and filters), the line
 * output carries exactly `outputDbfs`: the technician is told the level that comes out.
 */
export function toneRoutine(profile: OutputProfile, rate: number, o: ToneRoutineOptions): ToneStep[] {
  const stages = outputChain(profile, rate);
  const stepMs = Math.round((o.stepS ?? 2) * 1000);
  const ref = profile.referenceDbfs;
  const step = (hz: number, ms: number, out: number, channel: ToneChannel, label: string): ToneStep => ({
    frequencyHz: hz,
    durationMs: ms,
    levelDbfs: Math.round((out - chainGainDb(stages, hz, rate)) * 100) / 100,
    channel,
    label,
    outputDbfs: out,
  });
  const steps: ToneStep[] = [
    step(
      1000,
      Math.round(o.referenceS * 1000),
      ref,
      'both',
      `Âm chuẩn 1 kHz, ${outputLevelText(profile, ref)}`,
    ),
  ];
  if (o.leftRight) {
    steps.push(step(1000, stepMs, ref, 'left', 'Chỉ kênh trái (L)'));
    steps.push(step(1000, stepMs, ref, 'right', 'Chỉ kênh phải (R)'));
  }
  if (o.sweep) {
    const out = ref - SWEEP_BELOW_REFERENCE_DB;
    for (const hz of SWEEP_HZ) {
      if (profile.highpassHz !== undefined && hz < profile.highpassHz * 1.3) continue;
      if (profile.lowpassHz !== undefined && hz > profile.lowpassHz * 0.85) continue;
      steps.push(step(hz, stepMs, out, 'both', `Quét ${hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`}`));
    }
  }
  return steps;
}
