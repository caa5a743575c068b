/**
 * `audio.profile`: what the station's line output feeds (domain/output-profile.ts). A string
 * names a profile with its defaults (`"fm-exciter"`); an object sets its values. Bad values are
 * reported like every config error (CONFIG_INVALID, one Vietnamese line per problem, e.g.
 * `audio.profile.preEmphasisUs: phải là 50 (chuẩn Việt Nam), 75 hoặc 0 (không tiền nhấn)`).
 */
import { z } from 'zod';
import { LOUDSPEAKER_PROFILE, type OutputProfile, type OutputProfileKind } from './domain/output-profile.js';

/** The defaults of each profile (numbers the technician may override). */
export const OUTPUT_PROFILE_DEFAULTS: Record<OutputProfileKind, OutputProfile> = {
  loudspeaker: LOUDSPEAKER_PROFILE,
  'fm-exciter': {
    kind: 'fm-exciter',
    // Vietnam (as Europe) uses 50 µs; 75 µs is the Americas' and Korea's.
    preEmphasisUs: 50,
    lowpassHz: 15_000,
    trimDb: 0,
    referenceDbfs: -18,
    peakLimitDbfs: -3,
  },
  'wired-line': {
    kind: 'wired-line',
    preEmphasisUs: 0,
    // Old horn speakers (and their matching transformers) carry little below 150 Hz or above 7 kHz.
    highpassHz: 150,
    lowpassHz: 7000,
    trimDb: 0,
    referenceDbfs: -18,
    peakLimitDbfs: -3,
  },
};

const KIND_ERROR =
  'phải là "loudspeaker" (loa của trạm), "fm-exciter" (máy phát FM) hoặc "wired-line" (âm ly truyền thanh hữu tuyến)';

const range = (min: number, max: number, unit: string, int = false) => {
  const msg = `phải là số ${min}–${max} ${unit}`;
  const n = z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
  return int ? n.int({ error: msg }) : n;
};

const ProfileObject = z.strictObject({
  kind: z.enum(['loudspeaker', 'fm-exciter', 'wired-line'], { error: KIND_ERROR }),
  preEmphasisUs: z
    .union([z.literal(0), z.literal(50), z.literal(75)], {
      error: 'phải là 50 (chuẩn Việt Nam), 75 hoặc 0 (không tiền nhấn)',
    })
    .optional(),
  lowpassHz: range(3000, 16_000, 'Hz', true).optional(),
  highpassHz: range(20, 400, 'Hz', true).optional(),
  trimDb: range(-20, 20, 'dB').optional(),
  referenceDbfs: range(-30, -6, 'dBFS').optional(),
  peakLimitDbfs: range(-12, 0, 'dBFS').optional(),
  fullScaleDbu: range(-10, 30, 'dBu').optional(),
});

type ProfileInput = z.infer<typeof ProfileObject>;

/** Fields that only a line-output profile takes (a loudspeaker station has no processing). */
const LINE_ONLY = ['preEmphasisUs', 'lowpassHz', 'highpassHz', 'trimDb', 'peakLimitDbfs'] as const;

function checkProfile(p: ProfileInput, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (p.kind === 'loudspeaker') {
    for (const k of LINE_ONLY)
      if (p[k] !== undefined)
        issue(k, 'chỉ dùng với "fm-exciter" hoặc "wired-line" (loa của trạm không xử lý)');
    return;
  }
  const r = resolveProfile(p);
  if (p.kind === 'wired-line' && (p.preEmphasisUs ?? 0) !== 0)
    issue('preEmphasisUs', 'đường dây hữu tuyến không dùng tiền nhấn (chỉ máy phát FM)');
  if (p.kind === 'fm-exciter' && r.lowpassHz !== undefined && r.lowpassHz > 15_000)
    issue('lowpassHz', 'máy phát FM: tối đa 15000 Hz (giữ sạch tần số pilot 19 kHz)');
  if (r.referenceDbfs > r.peakLimitDbfs - 3)
    issue(
      'referenceDbfs',
      `phải thấp hơn mức giới hạn đỉnh (peakLimitDbfs = ${r.peakLimitDbfs}) ít nhất 3 dB`,
    );
}

/** The profile with its kind's defaults filled in. */
export function resolveProfile(p: ProfileInput): OutputProfile {
  const d = OUTPUT_PROFILE_DEFAULTS[p.kind];
  const out: OutputProfile = {
    kind: p.kind,
    preEmphasisUs: p.preEmphasisUs ?? d.preEmphasisUs,
    trimDb: p.trimDb ?? d.trimDb,
    referenceDbfs: p.referenceDbfs ?? d.referenceDbfs,
    peakLimitDbfs: p.peakLimitDbfs ?? d.peakLimitDbfs,
  };
  const lowpass = p.lowpassHz ?? d.lowpassHz;
  const highpass = p.highpassHz ?? d.highpassHz;
  if (lowpass !== undefined) out.lowpassHz = lowpass;
  if (highpass !== undefined) out.highpassHz = highpass;
  const fs = p.fullScaleDbu ?? d.fullScaleDbu;
  if (fs !== undefined) out.fullScaleDbu = fs;
  return out;
}

export const OutputProfileSchema = z
  .preprocess((v) => (typeof v === 'string' ? { kind: v } : v), ProfileObject)
  .superRefine(checkProfile)
  .transform(resolveProfile);
