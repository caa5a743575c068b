/**
 * The TTS port on Debian's espeak-ng (`apt-get install espeak-ng`): Vietnamese has three voices,
 * northern (`vi`), central (`vi-vn-x-central`) and southern (`vi-vn-x-south`). The voice list is
 * read from `espeak-ng --voices=<lang>` once and kept; the text goes after `--` so that it is
 * never read as an option.
 */
import { LoaError } from '@loa/protocol';
import { runProcess, tail } from '../process-run.js';
import { type SynthesisOptions, TTS_RATE, type TtsEngine, type TtsVoice } from './types.js';

export interface EspeakNgOptions {
  /** Command (default "espeak-ng"). */
  command?: string;
  /** Languages offered (default Vietnamese only). */
  langs?: readonly string[];
  /** Per run (default 2 minutes). */
  timeoutMs?: number;
}

/** Vietnamese labels of the voices editors pick from; others show espeak-ng's own name. */
const LABELS: Record<string, string> = {
  vi: 'Miền Bắc',
  'vi-vn-x-central': 'Miền Trung',
  'vi-vn-x-south': 'Miền Nam',
};

/** Parses `espeak-ng --voices` output: "Pty Language Age/Gender VoiceName File Other". */
export function parseEspeakVoices(out: string): { id: string; name: string }[] {
  return out
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 4 && /^\d+$/.test(c[0] ?? ''))
    .map((c) => ({ id: (c[1] ?? '').toLowerCase(), name: (c[3] ?? '').replace(/_/g, ' ') }));
}

export class EspeakNgEngine implements TtsEngine {
  readonly name = 'espeak-ng';
  readonly #command: string;
  readonly #langs: readonly string[];
  readonly #timeoutMs: number;
  #voices: Promise<TtsVoice[]> | undefined;

  constructor(o: EspeakNgOptions = {}) {
    this.#command = o.command ?? 'espeak-ng';
    this.#langs = o.langs ?? ['vi'];
    this.#timeoutMs = o.timeoutMs ?? 120_000;
  }

  voices(): Promise<TtsVoice[]> {
    this.#voices ??= this.#listVoices().catch((e: unknown) => {
      this.#voices = undefined; // try again next time (espeak-ng installed later)
      throw e;
    });
    return this.#voices;
  }

  async #listVoices(): Promise<TtsVoice[]> {
    const out: TtsVoice[] = [];
    for (const lang of this.#langs) {
      const r = await runProcess(this.#command, [`--voices=${lang}`], { timeoutMs: 30_000 });
      if (r.code !== 0)
        throw new LoaError('TTS_FAILED', 'Không đọc được danh sách giọng đọc', {
          details: { tool: tail(r.stderr) },
        });
      for (const v of parseEspeakVoices(r.stdout))
        if (v.id === lang || v.id.startsWith(`${lang}-`))
          out.push({ id: v.id, lang, label: LABELS[v.id] ?? v.name });
    }
    return out;
  }

  async synthesize(text: string, output: string, o: SynthesisOptions): Promise<void> {
    const voices = await this.voices();
    if (!voices.some((v) => v.id === o.voice))
      throw new LoaError('TTS_VOICE', `Không có giọng đọc "${o.voice.slice(0, 40)}"`, {
        details: { voices: voices.map((v) => v.id) },
      });
    if (!Number.isInteger(o.rate) || o.rate < TTS_RATE.min || o.rate > TTS_RATE.max)
      throw new LoaError('TTS_RATE', `Tốc độ đọc phải từ ${TTS_RATE.min} đến ${TTS_RATE.max} từ/phút`);
    const r = await runProcess(
      this.#command,
      ['-v', o.voice, '-s', String(o.rate), '-w', output, '--', text],
      { timeoutMs: this.#timeoutMs },
    );
    if (r.code !== 0)
      throw new LoaError('TTS_FAILED', 'Không tạo được giọng đọc tự động', {
        details: { tool: tail(r.stderr) },
      });
  }
}
