/**
 * The output profile's pure side: the config (defaults per profile, Vietnamese errors with the
 * stable CONFIG_INVALID code), the chain a profile maps to, the digital pre-emphasis against the
 * analogue curve, and the test tone routine's levels. ffmpeg's side is in
 * audio/output-profile-ffmpeg.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { OUTPUT_PROFILE_DEFAULTS } from '../../agent/src/config-output.js';
import {
  biquadGainDb,
  butterworthQs,
  chainGainDb,
  idealPreEmphasisDb,
  LOUDSPEAKER_PROFILE,
  outputChain,
  preEmphasisSection,
  SWEEP_BELOW_REFERENCE_DB,
  toneRoutine,
  viDb,
} from '../../agent/src/domain/output-profile.js';
import { outputFilters, toneGraph } from '../../agent/src/drivers/audio/ffmpeg-output.js';
import { alignmentDeviationKHz } from '../../agent/src/http/technician-lineout.js';

const minimal = {
  device: { dataDir: 'data' },
  trust: { rootKeys: ['root.pub.pem'] },
  hardware: { amplifier: { pin: 17 } },
};
const withProfile = (profile: unknown, audio: Record<string, unknown> = {}) =>
  parseConfig(
    { ...minimal, audio: { driver: 'sim', output: { type: 'null' }, ...audio, profile } },
    '/etc/loa',
  );

function configErrors(profile: unknown): string[] {
  try {
    withProfile(profile);
  } catch (e) {
    expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
    return (e as { details: { errors: string[] } }).details.errors;
  }
  throw new Error('the config was accepted');
}

describe('audio.profile in the config', () => {
  it('defaults to the loudspeaker profile, with no processing (today’s behaviour)', () => {
    const c = parseConfig(minimal, '/etc/loa');
    expect(c.audio.profile).toEqual(LOUDSPEAKER_PROFILE);
    expect(outputChain(c.audio.profile, 48_000)).toEqual([]);
    expect(outputFilters(outputChain(c.audio.profile, 48_000))).toEqual([]);
    // An audio section without a profile: the same.
    expect(withProfile(undefined).audio.profile).toEqual(LOUDSPEAKER_PROFILE);
  });

  it('a name takes the profile with its defaults: 50 µs and 15 kHz for FM, 150 Hz–7 kHz for a wired line', () => {
    expect(withProfile('fm-exciter').audio.profile).toEqual({
      kind: 'fm-exciter',
      preEmphasisUs: 50,
      lowpassHz: 15_000,
      trimDb: 0,
      referenceDbfs: -18,
      peakLimitDbfs: -3,
    });
    expect(withProfile('wired-line').audio.profile).toMatchObject({
      kind: 'wired-line',
      preEmphasisUs: 0,
      highpassHz: 150,
      lowpassHz: 7000,
    });
  });

  it('an object overrides the defaults it names and keeps the others', () => {
    const p = withProfile({ kind: 'fm-exciter', preEmphasisUs: 75, peakLimitDbfs: -1, fullScaleDbu: 18 })
      .audio.profile;
    expect(p).toEqual({
      kind: 'fm-exciter',
      preEmphasisUs: 75,
      lowpassHz: 15_000,
      trimDb: 0,
      referenceDbfs: -18,
      peakLimitDbfs: -1,
      fullScaleDbu: 18,
    });
    // An exciter with its own pre-emphasis: none at the station.
    expect(withProfile({ kind: 'fm-exciter', preEmphasisUs: 0 }).audio.profile.preEmphasisUs).toBe(0);
  });

  it.each([
    ['cassette', 'audio.profile.kind: phải là "loudspeaker"'],
    [{ kind: 'fm' }, 'audio.profile.kind: phải là "loudspeaker"'],
    [
      { kind: 'fm-exciter', preEmphasisUs: 60 },
      'audio.profile.preEmphasisUs: phải là 50 (chuẩn Việt Nam), 75 hoặc 0',
    ],
    [{ kind: 'fm-exciter', lowpassHz: 18_000 }, 'audio.profile.lowpassHz: phải là số 3000–16000 Hz'],
    [{ kind: 'fm-exciter', lowpassHz: 16_000 }, 'audio.profile.lowpassHz: máy phát FM: tối đa 15000 Hz'],
    [{ kind: 'fm-exciter', peakLimitDbfs: 2 }, 'audio.profile.peakLimitDbfs: phải là số -12–0 dBFS'],
    [{ kind: 'fm-exciter', peakLimitDbfs: 'loud' }, 'audio.profile.peakLimitDbfs: phải là số -12–0 dBFS'],
    [
      { kind: 'fm-exciter', referenceDbfs: -8, peakLimitDbfs: -6 },
      'audio.profile.referenceDbfs: phải thấp hơn mức giới hạn đỉnh',
    ],
    [
      { kind: 'wired-line', preEmphasisUs: 50 },
      'audio.profile.preEmphasisUs: đường dây hữu tuyến không dùng tiền nhấn',
    ],
    [{ kind: 'wired-line', highpassHz: 10 }, 'audio.profile.highpassHz: phải là số 20–400 Hz'],
    [{ kind: 'wired-line', highpassHz: 150.5 }, 'audio.profile.highpassHz: phải là số 20–400 Hz'],
    [
      { kind: 'loudspeaker', lowpassHz: 8000 },
      'audio.profile.lowpassHz: chỉ dùng với "fm-exciter" hoặc "wired-line"',
    ],
    [{ kind: 'fm-exciter', gain: 3 }, 'audio.profile.gain: khoá không được hỗ trợ'],
  ])('refuses %j with a clear line (CONFIG_INVALID)', (profile, line) => {
    const errors = configErrors(profile);
    expect(errors.join('\n')).toContain(line);
  });

  it('lists several bad values of one profile at once', () => {
    const errors = configErrors({ kind: 'fm-exciter', preEmphasisUs: 25, trimDb: 40, fullScaleDbu: 99 });
    expect(errors.length).toBeGreaterThanOrEqual(3);
  });
});

describe('profile → chain (pure)', () => {
  const RATE = 48_000;

  it('Butterworth sections: the Q values of 4th and 8th order', () => {
    expect(butterworthQs(2)[0]).toBeCloseTo(Math.SQRT1_2, 9);
    expect(butterworthQs(4).map((q) => +q.toFixed(4))).toEqual([0.5412, 1.3066]);
    expect(butterworthQs(8).map((q) => +q.toFixed(4))).toEqual([0.5098, 0.6013, 0.9, 2.5629]);
  });

  it.each([
    [50, 48_000],
    [75, 48_000],
    [50, 44_100],
  ])(
    'digital pre-emphasis %i µs at %i Hz follows 10·log10(1+(2πfτ)²) within 0.1 dB to 15 kHz',
    (us, rate) => {
      const s = preEmphasisSection(us, rate);
      for (let f = 20; f <= 15_000; f *= 1.1)
        expect(Math.abs(biquadGainDb(s, f, rate) - idealPreEmphasisDb(us, f)), `${f} Hz`).toBeLessThan(0.1);
      // The figures technicians quote: at 10 kHz, +10.4 dB for 50 µs and +13.7 dB for 75 µs.
      expect(Math.abs(biquadGainDb(s, 10_000, rate) - (us === 50 ? 10.36 : 13.66))).toBeLessThan(0.1);
    },
  );

  it('fm-exciter: pre-emphasis, then an 8th-order 15 kHz low-pass, then the limiter', () => {
    const stages = outputChain(OUTPUT_PROFILE_DEFAULTS['fm-exciter'], RATE);
    expect(stages.map((s) => (s.kind === 'biquad' ? s.role : s.kind))).toEqual([
      'preemphasis',
      'lowpass',
      'lowpass',
      'lowpass',
      'lowpass',
      'limiter',
    ]);
    expect(stages.at(-1)).toMatchObject({ kind: 'limiter', ceilingDbfs: -3 });
    // −3 dB at the corner (after the emphasis), the pilot far down.
    expect(chainGainDb(stages, 15_000, RATE, ['lowpass'])).toBeCloseTo(-3.01, 1);
    expect(chainGainDb(stages, 19_000, RATE)).toBeLessThan(-25);
  });

  it('wired-line: 4th-order high-pass and low-pass, a trim, no pre-emphasis', () => {
    const stages = outputChain({ ...OUTPUT_PROFILE_DEFAULTS['wired-line'], trimDb: -4 }, RATE);
    expect(stages.map((s) => (s.kind === 'biquad' ? s.role : s.kind))).toEqual([
      'gain',
      'highpass',
      'highpass',
      'lowpass',
      'lowpass',
      'limiter',
    ]);
    expect(chainGainDb(stages, 1000, RATE)).toBeCloseTo(-4, 1);
    expect(chainGainDb(stages, 150, RATE, ['highpass'])).toBeCloseTo(-3.01, 1);
    expect(chainGainDb(stages, 50, RATE)).toBeLessThan(-40);
  });

  it('ffmpeg filters: one per stage, in double precision, the clipper a 16-bit step under the ceiling', () => {
    const f = outputFilters(outputChain(OUTPUT_PROFILE_DEFAULTS['fm-exciter'], RATE));
    expect(f[0]).toBe('aformat=sample_fmts=dbl');
    expect(f.filter((x) => x.startsWith('biquad=')).length).toBe(5);
    expect(f.at(-2)).toMatch(/^alimiter=limit=0\.70794\d+:attack=5:release=50:level=disabled:latency=1$/);
    const clip = Number(/threshold=([0-9.]+)/.exec(f.at(-1) ?? '')?.[1]);
    expect(clip).toBeCloseTo(10 ** (-3 / 20) - 1 / 32768, 9);
    // The programme's volume filter keeps its name to itself (the mute and volume commands).
    expect(f.some((x) => x.startsWith('volume='))).toBe(false);
  });
});

describe('test tone routine (pure)', () => {
  const RATE = 48_000;

  it('the reference is 1 kHz at the reference level, compensated for the chain', () => {
    const p = OUTPUT_PROFILE_DEFAULTS['fm-exciter'];
    const steps = toneRoutine(p, RATE, { referenceS: 10, leftRight: false, sweep: false });
    expect(steps).toHaveLength(1);
    const [ref] = steps;
    expect(ref).toMatchObject({ frequencyHz: 1000, durationMs: 10_000, channel: 'both', outputDbfs: -18 });
    // 50 µs lifts 1 kHz by 0.41 dB: the source is set that much lower.
    expect(ref!.levelDbfs).toBeCloseTo(-18.41, 1);
    expect(ref!.label).toBe('Âm chuẩn 1 kHz, −18,0 dBFS');
  });

  it('every step comes out at its announced level; the sweep stays inside the band', () => {
    for (const p of [
      OUTPUT_PROFILE_DEFAULTS['fm-exciter'],
      OUTPUT_PROFILE_DEFAULTS['wired-line'],
      LOUDSPEAKER_PROFILE,
    ]) {
      const stages = outputChain(p, RATE);
      const steps = toneRoutine(p, RATE, { referenceS: 5, leftRight: true, sweep: true, stepS: 2 });
      expect(steps.map((s) => s.channel).slice(0, 3)).toEqual(['both', 'left', 'right']);
      for (const s of steps) {
        expect(s.levelDbfs + chainGainDb(stages, s.frequencyHz, RATE)).toBeCloseTo(s.outputDbfs, 1);
        expect(s.outputDbfs).toBeLessThan(p.peakLimitDbfs);
        expect(s.levelDbfs).toBeLessThanOrEqual(0);
      }
      const sweep = steps.slice(3);
      expect(sweep.length).toBeGreaterThan(3);
      for (const s of sweep) {
        expect(s.outputDbfs).toBe(p.referenceDbfs - SWEEP_BELOW_REFERENCE_DB);
        if (p.highpassHz) expect(s.frequencyHz).toBeGreaterThan(p.highpassHz);
        if (p.lowpassHz) expect(s.frequencyHz).toBeLessThan(p.lowpassHz);
      }
    }
  });

  it('says the level in dBu when the sound card’s full scale is known', () => {
    const p = { ...OUTPUT_PROFILE_DEFAULTS['wired-line'], fullScaleDbu: 18 };
    expect(toneRoutine(p, RATE, { referenceS: 3, leftRight: false, sweep: false })[0]!.label).toBe(
      'Âm chuẩn 1 kHz, −18,0 dBFS (≈ 0,0 dBu)',
    );
    expect(viDb(4.25, 'dBu')).toBe('+4,3 dBu');
  });

  it('FM alignment: the deviation the reference tone should read so the ceiling is ±75 kHz', () => {
    expect(alignmentDeviationKHz(OUTPUT_PROFILE_DEFAULTS['fm-exciter'])).toBeCloseTo(13.34, 1);
  });

  it('the lavfi graph of a routine: exact amplitudes, the channel chosen, concatenated', () => {
    const g = toneGraph(
      [
        { frequencyHz: 1000, durationMs: 2000, levelDbfs: -20, channel: 'both' },
        { frequencyHz: 1000, durationMs: 1000, levelDbfs: -20, channel: 'right' },
      ],
      RATE,
    );
    expect(g).toBe(
      'aevalsrc=0.100000000000000*sin(2*PI*1000*t)|0.100000000000000*sin(2*PI*1000*t):s=48000:c=stereo:d=2.000[t0];' +
        'aevalsrc=0|0.100000000000000*sin(2*PI*1000*t):s=48000:c=stereo:d=1.000[t1];[t0][t1]concat=n=2:v=0:a=1[out0]',
    );
  });
});
