/**
 * The technician page's line output section: what the station's line output feeds (its output
 * profile), the levels to align the FM exciter or the wired amplifier to, and the test tone
 * routine (reference tone, left/right identification, stepped sweep), in Vietnamese.
 */
import {
  type OutputProfile,
  outputLevelText,
  TONE_ROUTINE_LIMITS,
  type ToneRoutineOptions,
  type ToneStep,
  viDb,
} from '../domain/output-profile.js';
import type { PageNote } from './technician-enrol.js';

export interface TechnicianLineOutDeps {
  profile: OutputProfile;
  /** Starts the routine; resolves with its steps (rejects with a coded error, e.g. EMERGENCY_ON_AIR). */
  run: (o: ToneRoutineOptions) => Promise<ToneStep[]>;
}

/** A profile's name for the technician. */
export const PROFILE_NAME: Record<OutputProfile['kind'], string> = {
  loudspeaker: 'Loa của trạm (không xử lý đường ra)',
  'fm-exciter': 'Máy phát FM (đài truyền thanh không dây)',
  'wired-line': 'Âm ly truyền thanh hữu tuyến (loa nén, đường dây)',
};

/** Full deviation of broadcast FM, kHz. */
const FM_MAX_DEVIATION_KHZ = 75;

/**
 * The deviation the reference tone should give on the exciter's meter so that the limiter's
 * ceiling lands at ±75 kHz (100 %): 75 · 10^((reference − ceiling)/20).
 */
export function alignmentDeviationKHz(profile: OutputProfile): number {
  return FM_MAX_DEVIATION_KHZ * 10 ** ((profile.referenceDbfs - profile.peakLimitDbfs) / 20);
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (v: unknown) => String(v ?? '—').replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);
const khz = (v: number) => `${(Math.round(v * 10) / 10).toFixed(1).replace('.', ',')} kHz`;
const pct = (v: number) => `${(Math.round(v * 1000) / 10).toFixed(1).replace('.', ',')} %`;
const hz = (v: number) => (v >= 1000 ? `${String(v / 1000).replace('.', ',')} kHz` : `${v} Hz`);
const CHANNEL: Record<ToneStep['channel'], string> = {
  both: 'hai kênh',
  left: 'kênh trái',
  right: 'kênh phải',
};

/** The steps just started, as a table (what plays, for how long, at what level). */
export function stepsTable(profile: OutputProfile, steps: readonly ToneStep[]): string {
  let at = 0;
  const rows = steps
    .map((s) => {
      const from = at;
      at += s.durationMs;
      return `<tr data-step-hz="${s.frequencyHz}" data-step-dbfs="${s.outputDbfs}"><td>${(from / 1000).toFixed(0)}–${(at / 1000).toFixed(0)} s</td><td>${esc(s.label)}</td><td>${esc(hz(s.frequencyHz))}</td><td>${esc(CHANNEL[s.channel])}</td><td>${esc(outputLevelText(profile, s.outputDbfs))}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>Lúc</th><th>Bước</th><th>Tần số</th><th>Kênh</th><th>Mức ở đường ra</th></tr>${rows}</table>`;
}

/** The routine as plain lines (the command line): when, what, which channel, what level. */
export function stepsText(profile: OutputProfile, steps: readonly ToneStep[]): string[] {
  let at = 0;
  const lines = [`Đường ra: ${PROFILE_NAME[profile.kind]}`];
  if (profile.kind === 'fm-exciter')
    lines.push(
      `Chỉnh máy phát cho âm chuẩn đạt độ di tần ±${khz(alignmentDeviationKHz(profile))} (${pct(alignmentDeviationKHz(profile) / FM_MAX_DEVIATION_KHZ)} độ di tần tối đa).`,
    );
  for (const s of steps) {
    const from = at;
    at += s.durationMs;
    lines.push(
      `${(from / 1000).toFixed(0).padStart(4)}–${(at / 1000).toFixed(0)} s  ${s.label}: ${hz(s.frequencyHz)}, ${CHANNEL[s.channel]}, ${outputLevelText(profile, s.outputDbfs)}`,
    );
  }
  return lines;
}

export function lineOutSection(d: TechnicianLineOutDeps | undefined, started?: readonly ToneStep[]): string {
  if (!d) return '';
  const p = d.profile;
  const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;
  const band =
    p.highpassHz !== undefined || p.lowpassHz !== undefined
      ? `${p.highpassHz !== undefined ? esc(hz(p.highpassHz)) : '—'} đến ${p.lowpassHz !== undefined ? esc(hz(p.lowpassHz)) : '—'}`
      : 'không giới hạn';
  const fm = p.kind === 'fm-exciter';
  const advice = fm
    ? `Phát âm chuẩn rồi chỉnh mức vào của máy phát cho đồng hồ độ di tần chỉ <strong>±${esc(khz(alignmentDeviationKHz(p)))}</strong> (${esc(pct(alignmentDeviationKHz(p) / FM_MAX_DEVIATION_KHZ))} độ di tần tối đa): khi đó mức giới hạn đỉnh (${esc(viDb(p.peakLimitDbfs, 'dBFS'))}) ứng với độ di tần tối đa (±75 kHz, 100 %) và máy phát không bao giờ bị điều chế quá mức.${p.preEmphasisUs > 0 ? ` Trạm đã tiền nhấn ${p.preEmphasisUs} µs: <strong>tắt tiền nhấn trên máy phát</strong>.` : ' Trạm không tiền nhấn: bật tiền nhấn 50 µs trên máy phát.'}`
    : p.kind === 'wired-line'
      ? 'Phát âm chuẩn rồi chỉnh núm mức vào của âm ly cho đồng hồ (hoặc đèn) chỉ mức danh định; mức giới hạn đỉnh là mức lớn nhất trạm đưa ra, âm ly không bị quá tải nếu đặt đúng.'
      : 'Trạm phát thẳng ra âm ly và loa của trạm.';
  const { referenceS } = TONE_ROUTINE_LIMITS;
  return `<section id="line-out"><h2>Đường ra âm thanh và âm thử</h2><table>
${row('Đường ra cấp cho', esc(PROFILE_NAME[p.kind]))}
${row('Mức chuẩn (âm 1 kHz)', esc(outputLevelText(p, p.referenceDbfs)))}
${p.kind === 'loudspeaker' ? '' : row('Giới hạn đỉnh', esc(outputLevelText(p, p.peakLimitDbfs)))}
${p.kind === 'loudspeaker' ? '' : row('Dải tần', band)}
${fm ? row('Tiền nhấn', p.preEmphasisUs > 0 ? `${p.preEmphasisUs} µs` : 'không (máy phát tự tiền nhấn)') : ''}
</table><p class="muted">${advice}</p>
<form method="post" action="tone-routine">
<label>Âm chuẩn 1 kHz trong <input type="number" name="referenceS" min="${referenceS.min}" max="${referenceS.max}" value="10" style="width:5em"> giây</label><br>
<label><input type="checkbox" name="leftRight" value="1" checked> Nhận biết kênh trái/phải</label><br>
<label><input type="checkbox" name="sweep" value="1"> Quét tần số (các bước thấp hơn mức chuẩn 6 dB)</label><br>
<button>Phát chuỗi âm thử</button></form>
<p class="muted">Âm thử bật khuếch đại và rơ-le như khi phát bản tin. Không phát được khi đang có tin khẩn cấp; tin khẩn cấp đến giữa chừng sẽ cắt ngang âm thử.</p>
${started?.length ? `<h3>Đang phát</h3>${stepsTable(p, started)}` : ''}</section>`;
}

/** Reads the form and runs the routine; the note and steps for the page. */
export async function submitToneRoutine(
  d: TechnicianLineOutDeps,
  form: Record<string, unknown>,
): Promise<{ note: PageNote; steps?: ToneStep[] }> {
  const raw = typeof form.referenceS === 'string' && form.referenceS.trim() !== '' ? form.referenceS : '10';
  const referenceS = Number(raw);
  try {
    const steps = await d.run({ referenceS, leftRight: form.leftRight === '1', sweep: form.sweep === '1' });
    const total = steps.reduce((a, s) => a + s.durationMs, 0) / 1000;
    return {
      note: {
        ok: true,
        text: `Đang phát chuỗi âm thử (${steps.length} bước, ${Math.round(total)} giây): âm chuẩn 1 kHz ở ${outputLevelText(d.profile, d.profile.referenceDbfs)}.`,
      },
      steps,
    };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return {
      note: { ok: false, text: `Không phát được âm thử: ${(e as Error).message}${code ? ` (${code})` : ''}` },
    };
  }
}
