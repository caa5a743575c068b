/**
 * Periodic reports (quarterly, yearly) of a unit: what was issued, under which number, and the
 * archived files. Pure: the numbering and the header of the administrative layout.
 */
import { z } from 'zod';
import type { UnitRecord } from '../model.js';
import { Instant } from '../model.js';

const ArchivedFile = z.object({ name: z.string(), sha256: z.string(), bytes: z.number().int() });

export const PeriodicReportSchema = z.object({
  id: z.string(),
  unit: z.string(),
  unitName: z.string(),
  /** "2026-Q4", "2026", "2026-11" */
  period: z.string(),
  periodName: z.string(),
  from: z.string(),
  to: z.string(),
  /** Sequence of the unit's reports in the year of issue, and the printed number ("03/BC-UBND"). */
  seq: z.number().int().min(1),
  number: z.string(),
  /** Day of issue (Vietnamese calendar). */
  day: z.string(),
  generatedAt: Instant,
  /** 'schedule' or the user who asked for it. */
  generatedBy: z.string(),
  /** Archived files by format: file name in the archive and its SHA-256. */
  files: z.object({
    pdf: ArchivedFile.optional(),
    xlsx: ArchivedFile.optional(),
    csv: ArchivedFile.optional(),
  }),
  /** Headline figures, for listing without opening the files. */
  summary: z.object({
    audioRate: z.number().nullable(),
    displayRate: z.number().nullable(),
    essentialShare: z.number().nullable(),
    uptime: z.number().nullable(),
    faults: z.number().int(),
    /** Share of staff trained (absent in reports issued before the staff register). */
    staffTrained: z.number().nullable().optional(),
  }),
});
export type PeriodicReport = z.infer<typeof PeriodicReportSchema>;

/** The next number of a unit's report in a year. */
export function nextSeq(
  existing: readonly Pick<PeriodicReport, 'unit' | 'day' | 'seq'>[],
  unit: string,
  year: string,
): number {
  let max = 0;
  for (const r of existing) if (r.unit === unit && r.day.startsWith(year) && r.seq > max) max = r.seq;
  return max + 1;
}

export const reportNumber = (seq: number): string => `${String(seq).padStart(2, '0')}/BC-UBND`;

/** "Xã Tân Trào" → "Tân Trào": the place name of the date line. */
export function placeOf(name: string): string {
  return name.replace(/^(Tỉnh|Thành phố|Xã|Phường|Thị trấn|Đặc khu|Huyện|Quận|Thị xã)\s+/i, '');
}

export function headerOf(unit: UnitRecord, parent: UnitRecord | undefined) {
  const upper = (s: string) => s.toLocaleUpperCase('vi-VN');
  return {
    parentBody: parent ? `UBND ${upper(parent.name)}` : '',
    issuer: `UBND ${upper(unit.name)}`,
    place: placeOf(unit.name),
    signerBody: 'TM. ỦY BAN NHÂN DÂN',
    signerTitle: 'CHỦ TỊCH',
    recipients: parent
      ? [`UBND ${parent.name}`, 'Sở Văn hóa, Thể thao và Du lịch']
      : ['Bộ Văn hóa, Thể thao và Du lịch', 'Thường trực Tỉnh ủy, HĐND tỉnh'],
  };
}

/**
 * The periods a schedule owes at `day` (Vietnamese calendar): the previous quarter during the
 * first 10 days of a quarter, and the previous year during the first 10 days of January.
 */
export function periodsDue(day: string): string[] {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  if (d > 10 || (m - 1) % 3 !== 0) return [];
  const q = (m - 1) / 3; // 0..3: the quarter that just began
  const prev = q === 0 ? `${y - 1}-Q4` : `${y}-Q${q}`;
  return m === 1 ? [prev, String(y - 1)] : [prev];
}
