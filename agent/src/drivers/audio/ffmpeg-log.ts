/**
 * Parses ffmpeg's stderr as written by the measuring filters (ebur128, astats, silencedetect)
 * of Debian's ffmpeg 5.1. Pure: feed it lines, read the measurements.
 */

export interface Measurements {
  /** Output time reached, ms (from ebur128's per-100 ms frames). */
  timeMs: number;
  momentaryLufs?: number;
  integratedLufs?: number;
  peakDbfs?: number;
  /** Start (ms) of a silence still running, if any. */
  silenceStartMs?: number;
  /** Longest finished silence, ms. */
  longestSilenceMs: number;
  /** Last lines that look like errors (for the failure message). */
  errors: string[];
}

const FRAME = /\bt:\s*([0-9.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(-?[0-9.]+|-?inf|nan)/;
const SUMMARY_I = /^\s*I:\s*(-?[0-9.]+|-?inf)\s+LUFS/;
const SUMMARY_PEAK = /^\s*Peak:\s*(-?[0-9.]+|-?inf)\s+dBFS/;
const ASTATS_PEAK = /Peak level dB:\s*(-?[0-9.]+|-?inf)/;
const SILENCE_START = /silence_start:\s*(-?[0-9.]+)/;
const SILENCE_END = /silence_end:\s*(-?[0-9.]+)\s*\|\s*silence_duration:\s*([0-9.]+)/;
const ERROR_HINT =
  /(error|invalid|no such file|not found|failed|refused|timed out|end of file|could not|unable|i\/o)/i;

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (/inf|nan/i.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export class FfmpegLogParser {
  readonly m: Measurements = { timeMs: 0, longestSilenceMs: 0, errors: [] };
  private inSummary = false;
  private summaryPeak: number | undefined;
  private astatsPeak: number | undefined;

  /** Feeds one stderr line; returns true when a new ebur128 frame advanced the time. */
  line(raw: string): boolean {
    const line = raw.replace(/\r/g, '');
    const frame = FRAME.exec(line);
    if (frame) {
      const t = num(frame[1]);
      if (t !== undefined) this.m.timeMs = Math.max(this.m.timeMs, Math.round(t * 1000));
      const mom = num(frame[2]);
      this.m.momentaryLufs = mom !== undefined && mom > -70 ? mom : undefined;
      return true;
    }
    if (line.includes('Summary:')) {
      this.inSummary = true;
      return false;
    }
    if (this.inSummary) {
      const i = SUMMARY_I.exec(line);
      if (i) {
        const v = num(i[1]);
        // ebur128 reports -70 LUFS (its gate) for silence: that is "nothing measured".
        this.m.integratedLufs = v !== undefined && v > -70 ? v : undefined;
        return false;
      }
      const p = SUMMARY_PEAK.exec(line);
      if (p) {
        this.summaryPeak = num(p[1]);
        this.updatePeak();
        return false;
      }
    }
    const a = ASTATS_PEAK.exec(line);
    if (a) {
      this.astatsPeak = num(a[1]);
      this.updatePeak();
      return false;
    }
    const s = SILENCE_START.exec(line);
    if (s) {
      const v = num(s[1]);
      this.m.silenceStartMs = Math.max(0, Math.round((v ?? 0) * 1000));
      return false;
    }
    const e = SILENCE_END.exec(line);
    if (e) {
      const d = num(e[2]);
      if (d !== undefined) this.m.longestSilenceMs = Math.max(this.m.longestSilenceMs, Math.round(d * 1000));
      this.m.silenceStartMs = undefined;
      return false;
    }
    if (ERROR_HINT.test(line) && !line.startsWith('[Parsed_')) {
      this.m.errors.push(line.trim().slice(0, 300));
      if (this.m.errors.length > 5) this.m.errors.shift();
    }
    return false;
  }

  /** Length of the silence running now (ms), 0 if none. */
  currentSilenceMs(): number {
    return this.m.silenceStartMs === undefined ? 0 : Math.max(0, this.m.timeMs - this.m.silenceStartMs);
  }

  /** Longest silence including one still running at the end. */
  longestSilenceMs(): number {
    return Math.max(this.m.longestSilenceMs, this.currentSilenceMs());
  }

  private updatePeak(): void {
    // astats (exact sample peak) wins over ebur128's rounded one.
    const p = this.astatsPeak ?? this.summaryPeak;
    this.m.peakDbfs = p !== undefined && p > -200 ? Math.min(20, p) : undefined;
  }
}

/** Station volume 0..100 plus an item gain → linear gain (0 when the volume is 0). */
export function linearGain(volume: number, gainDb: number): number {
  const v = Math.min(100, Math.max(0, volume));
  return v === 0 ? 0 : (v / 100) * 10 ** (gainDb / 20);
}

/** Station volume 0..100 plus an item gain → ffmpeg volume filter argument. */
export function volumeFilter(volume: number, gainDb: number): string {
  const v = Math.min(100, Math.max(0, volume));
  if (v === 0) return 'volume=0';
  const db = 20 * Math.log10(v / 100) + gainDb;
  return `volume=${db.toFixed(2)}dB`;
}
