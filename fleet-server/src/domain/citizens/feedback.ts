/**
 * Citizens' feedback (pure): what a submission may hold, how its handling moves
 * (new → assigned → answered → closed; closing is allowed from any state, re-opening is not),
 * counts for the dashboard and reports, and a CSV that a spreadsheet cannot execute.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import {
  FEEDBACK_STATUSES,
  FEEDBACK_TOPICS,
  type FeedbackRecord,
  type FeedbackStatus,
  FeedbackTopicSchema,
} from '../model.js';

/** Control characters other than newline and tab are dropped; the text is kept as typed otherwise. */
const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();

export const FeedbackInputSchema = z.strictObject({
  topic: FeedbackTopicSchema,
  text: z
    .string()
    .transform(clean)
    .pipe(z.string().min(3, 'cần nội dung').max(2000, 'nội dung tối đa 2.000 ký tự')),
  /** Phone number or e-mail address, optional. */
  contact: z
    .string()
    .transform(clean)
    .pipe(
      z
        .string()
        .max(120)
        .refine(
          (v) => v === '' || /^\+?[0-9 .()-]{8,20}$/.test(v) || /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(v),
          {
            message: 'số điện thoại hoặc địa chỉ thư điện tử không hợp lệ',
          },
        ),
    )
    .optional(),
});
export type FeedbackInput = z.infer<typeof FeedbackInputSchema>;

const NEXT: Record<FeedbackStatus, readonly FeedbackStatus[]> = {
  new: ['assigned', 'answered', 'closed'],
  assigned: ['assigned', 'answered', 'closed'],
  answered: ['answered', 'closed'],
  closed: [],
};

/** Throws FEEDBACK_TRANSITION unless `to` may follow `from`. */
export function checkTransition(from: FeedbackStatus, to: FeedbackStatus): void {
  if (!NEXT[from].includes(to))
    throw new LoaError('FEEDBACK_TRANSITION', `Không thể chuyển phản ánh từ "${from}" sang "${to}"`, {
      details: { from, to },
    });
}

export function isOverdue(f: Pick<FeedbackRecord, 'status' | 'dueAt'>, nowMs: number): boolean {
  return (f.status === 'new' || f.status === 'assigned') && Date.parse(f.dueAt) < nowMs;
}

export interface FeedbackCounts {
  total: number;
  byTopic: Record<string, number>;
  byStatus: Record<string, number>;
  byUnit: Record<string, number>;
  overdue: number;
  answered: number;
  /** Time from submission to answer, over answered items (hours). */
  answerHours: { median: number | null; p90: number | null; max: number | null };
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** Counts of feedback records (every topic and status present, zero when none). */
export function countFeedback(list: readonly FeedbackRecord[], nowMs: number): FeedbackCounts {
  const byTopic: Record<string, number> = Object.fromEntries(FEEDBACK_TOPICS.map((t) => [t, 0]));
  const byStatus: Record<string, number> = Object.fromEntries(FEEDBACK_STATUSES.map((t) => [t, 0]));
  const byUnit: Record<string, number> = {};
  const hours: number[] = [];
  let overdue = 0;
  for (const f of list) {
    byTopic[f.topic] = (byTopic[f.topic] ?? 0) + 1;
    byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    byUnit[f.unit] = (byUnit[f.unit] ?? 0) + 1;
    if (isOverdue(f, nowMs)) overdue++;
    if (f.answeredAt) hours.push((Date.parse(f.answeredAt) - Date.parse(f.createdAt)) / 3600_000);
  }
  hours.sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    total: list.length,
    byTopic,
    byStatus,
    byUnit,
    overdue,
    answered: hours.length,
    answerHours: {
      median: round(quantile(hours, 0.5)),
      p90: round(quantile(hours, 0.9)),
      max: round(hours.at(-1) ?? null),
    },
  };
}

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would read as a formula (starting with
 * = + - @, or a tab/carriage return before one) gets a leading apostrophe.
 */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[\t\r]*[=+\-@]/.test(s) || /^[\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: readonly (string | number | null | undefined)[]): string {
  return cells.map(csvCell).join(',');
}

/** The feedback list as CSV (UTF-8 with BOM so spreadsheets read Vietnamese right). */
export function feedbackCsv(list: readonly FeedbackRecord[]): string {
  const head = [
    'id',
    'unit',
    'topic',
    'status',
    'created',
    'due',
    'answered',
    'hours_to_answer',
    'text',
    'answer',
  ];
  const rows = list.map((f) =>
    csvRow([
      f.id,
      f.unit,
      f.topic,
      f.status,
      f.createdAt,
      f.dueAt,
      f.answeredAt ?? '',
      f.answeredAt
        ? Math.round(((Date.parse(f.answeredAt) - Date.parse(f.createdAt)) / 3600_000) * 10) / 10
        : '',
      f.text,
      f.answer ?? '',
    ]),
  );
  return `\ufeff${[csvRow(head), ...rows].join('\r\n')}\r\n`;
}
