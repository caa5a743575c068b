/**
 * Scenario: the CPU an output profile costs a station. ffmpeg runs the agent's playback filters
 * (volume, resampler, s16 stereo, ebur128, astats, silencedetect, as drivers/audio/ffmpeg-segment.ts
 * builds them) over the same speech-like signal (pink noise, 48 kHz stereo) as fast as it can, to
 * a null sink, once without a profile (the loudspeaker station: the baseline) and once with each
 * line-output profile's chain (FM exciter: pre-emphasis, 8th-order low-pass, limiter and clipper;
 * wired line: band limits, limiter and clipper). The figure is ffmpeg's own user+system CPU
 * time (`-benchmark`) per second of audio, the median of a few runs each, interleaved so that
 * the machine's load falls on both alike.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OUTPUT_PROFILE_DEFAULTS, type OutputProfile, outputChain, outputFilters } from '@loa/agent';
import { figure, type Scenario, Unavailable } from '../harness.js';
import { median, round } from '../stats.js';

const run = promisify(execFile);
const RATE = 48_000;

/** The playback filters of the agent, with a profile's chain where the driver puts it. */
function filters(profile: OutputProfile | undefined): string {
  return [
    'volume=0.800000',
    `aresample=${RATE}`,
    ...(profile ? outputFilters(outputChain(profile, RATE)) : []),
    'aformat=sample_fmts=s16:channel_layouts=stereo',
    'ebur128=peak=sample',
    'astats=metadata=0:measure_overall=Peak_level:measure_perchannel=none',
    'silencedetect=noise=-50dB:d=2.00',
  ].join(',');
}

/** ffmpeg's CPU seconds (user + system) for `seconds` of audio through the filters. */
async function cpuSeconds(seconds: number, af: string): Promise<number> {
  const { stderr } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-benchmark',
      '-f',
      'lavfi',
      '-i',
      `anoisesrc=c=pink:a=0.3:r=${RATE}:d=${seconds},aformat=channel_layouts=stereo`,
      '-af',
      af,
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const m = /bench: utime=([0-9.]+)s stime=([0-9.]+)s/.exec(stderr);
  if (!m) throw new Error('ffmpeg -benchmark printed no times');
  return Number(m[1]) + Number(m[2]);
}

export const lineOut: Scenario = {
  name: 'line-out',
  title:
    'Output profiles: ffmpeg CPU per second of audio, FM exciter and wired line vs a loudspeaker station',
  budgetMs: { quick: 60_000, full: 180_000 },
  async run(ctx) {
    try {
      await run('ffmpeg', ['-hide_banner', '-version']);
    } catch {
      throw new Unavailable('ffmpeg is not installed');
    }
    const seconds = ctx.quick ? 60 : 300;
    const rounds = ctx.quick ? 3 : 5;
    const profiles = {
      loudspeaker: undefined,
      'fm-exciter': OUTPUT_PROFILE_DEFAULTS['fm-exciter'],
      'wired-line': OUTPUT_PROFILE_DEFAULTS['wired-line'],
    } as const;
    const times: Record<keyof typeof profiles, number[]> = {
      loudspeaker: [],
      'fm-exciter': [],
      'wired-line': [],
    };
    for (let r = 0; r < rounds; r++)
      for (const name of Object.keys(profiles) as (keyof typeof profiles)[]) {
        times[name].push(await cpuSeconds(seconds, filters(profiles[name])));
        ctx.log(`${name} round ${r + 1}: ${round(times[name].at(-1)!)} s CPU for ${seconds} s of audio`);
      }
    // ms of CPU per second of audio.
    const per = (name: keyof typeof profiles) => round((median(times[name]) / seconds) * 1000);
    const baseline = { label: 'loudspeaker station (no profile)', value: per('loudspeaker'), unit: 'ms/s' };
    return {
      figures: (['fm-exciter', 'wired-line'] as const).map((name) =>
        figure(`line-out-${name}-cpu`, `ffmpeg CPU per second of audio, ${name} profile`, per(name), 'ms/s', {
          baseline,
          goal: { better: 'lower', ratio: 3, text: 'at most 3× the CPU of a loudspeaker station’s playback' },
        }),
      ),
      notes: [
        `${seconds} s of pink noise (48 kHz stereo) per run, ${rounds} interleaved rounds, medians; ffmpeg -benchmark user+system time, decoding the lavfi source included in every figure alike.`,
      ],
    };
  },
};
