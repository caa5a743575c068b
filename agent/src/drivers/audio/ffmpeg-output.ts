/**
 * Thin ffmpeg argument building for the output profile (domain/output-profile.ts): each stage of
 * the chain becomes one ffmpeg audio filter, and a test tone routine becomes one lavfi source
 * graph. The maths (coefficients, levels) lives in the domain; nothing is decided here.
 */
import type { OutputStage } from '../../domain/output-profile.js';
import type { ToneSourceStep } from './types.js';

/** Coefficients printed with enough digits for a 48 kHz biquad (poles near the unit circle). */
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(15));

/** dBFS → linear amplitude. */
export const dbToLinear = (db: number) => 10 ** (db / 20);

/**
 * ffmpeg filters for an output chain, in order. The chain runs in double precision and ends with
 * alimiter (look-ahead, no auto-level) and a hard clipper at the same ceiling, so no sample can
 * leave above it. An empty chain gives no filter at all.
 */
export function outputFilters(stages: readonly OutputStage[]): string[] {
  if (stages.length === 0) return [];
  const out: string[] = ['aformat=sample_fmts=dbl'];
  for (const s of stages) {
    // A plain gain as a biquad: the `volume` filter's name is taken by the command interface
    // (ffmpeg-level.ts sends the station volume and the mute to every filter named volume).
    if (s.kind === 'gain')
      out.push(`biquad=a0=1:a1=0:a2=0:b0=${num(dbToLinear(s.db))}:b1=0:b2=0:precision=f64`);
    else if (s.kind === 'biquad') {
      const c = s.coeffs;
      out.push(
        `biquad=a0=1:a1=${num(c.a1)}:a2=${num(c.a2)}:b0=${num(c.b0)}:b1=${num(c.b1)}:b2=${num(c.b2)}:precision=f64`,
      );
    } else {
      const limit = dbToLinear(s.ceilingDbfs);
      // alimiter's ceiling is at least 1/16 (−24 dBFS); the config keeps the limit above that.
      // The clipper sits one 16-bit step below it: the rounding to s16 cannot cross the ceiling.
      out.push(
        `alimiter=limit=${num(limit)}:attack=${s.attackMs}:release=${s.releaseMs}:level=disabled:latency=1`,
        `asoftclip=type=hard:threshold=${num(Math.max(1e-6, limit - 1 / 32768))}`,
      );
    }
  }
  return out;
}

/**
 * A lavfi source graph for a routine of tones: one aevalsrc per step (exact amplitude, the
 * channel(s) chosen), concatenated. Stereo at `rate`.
 */
export function toneGraph(steps: readonly ToneSourceStep[], rate: number): string {
  const srcs = steps.map((s) => {
    const sine = `${num(dbToLinear(s.levelDbfs))}*sin(2*PI*${num(s.frequencyHz)}*t)`;
    const left = s.channel === 'right' ? '0' : sine;
    const right = s.channel === 'left' ? '0' : sine;
    return `aevalsrc=${left}|${right}:s=${rate}:c=stereo:d=${(s.durationMs / 1000).toFixed(3)}`;
  });
  if (srcs.length === 1) return srcs[0] as string;
  const labelled = srcs.map((s, i) => `${s}[t${i}]`).join(';');
  return `${labelled};${srcs.map((_, i) => `[t${i}]`).join('')}concat=n=${srcs.length}:v=0:a=1[out0]`;
}
