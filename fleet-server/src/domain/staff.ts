/**
 * Grassroots information staff and their training (pure): the people doing grassroots information
 * work in each unit, the training courses held for them, who attended and which certificate they
 * received, and the plan's indicator "100 % of grassroots information staff trained" computed for
 * a day given by the caller (injected time). Spreadsheet rows of the staff register are checked
 * here line by line: an import is taken whole or not at all.
 */
import { z } from 'zod';
import type { Instant } from './model.js';
import { type ImportError, readSheetRows, type SheetColumn } from './sheet.js';

/** A calendar day "YYYY-MM-DD" that exists. */
export const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'ngày dạng YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().startsWith(d);
  }, 'ngày không có thật');

const Code = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'mã gồm chữ, số, dấu chấm, gạch (tối đa 64 ký tự)');

/** A Vietnamese phone number as people write it (digits, spaces, dots, dashes, a leading +). */
export const Phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 .-]{7,18}[0-9]$/, 'số điện thoại gồm 9–20 chữ số (có thể có +, dấu cách, chấm)');

export const StaffFieldsSchema = z.strictObject({
  id: Code,
  unit: z.string().min(2).max(64),
  name: z.string().trim().min(1).max(200),
  /** Role or position: "Phụ trách đài truyền thanh xã", "Công chức Văn hóa - Xã hội", … */
  position: z.string().trim().min(1).max(200),
  /** Personal data: shown only to roles that hold staff.contact. */
  phone: Phone.optional(),
  /** Day they took up the work. */
  hiredOn: Day.optional(),
  /** Day they left it (no longer counted). */
  leftOn: Day.optional(),
  notes: z.string().max(2000).optional(),
});
export const StaffInputSchema = StaffFieldsSchema.refine(
  (s) => !s.hiredOn || !s.leftOn || s.leftOn >= s.hiredOn,
  {
    message: 'ngày thôi việc trước ngày nhận nhiệm vụ',
    path: ['leftOn'],
  },
);
export type StaffInput = z.input<typeof StaffInputSchema>;
export type StaffFields = z.output<typeof StaffInputSchema>;
export type StaffRecord = StaffFields & { createdAt: Instant; updatedAt: Instant };

export const CourseFieldsSchema = z.strictObject({
  id: Code,
  /** The unit that organises the course (its scope decides who may change it). */
  unit: z.string().min(2).max(64),
  title: z.string().trim().min(1).max(300),
  /** First and last day. */
  date: Day,
  endDate: Day.optional(),
  organiser: z.string().trim().min(1).max(300),
  hours: z.number().positive().max(2000),
  topics: z.array(z.string().trim().min(1).max(200)).max(30).default([]),
  notes: z.string().max(2000).optional(),
});
export const CourseInputSchema = CourseFieldsSchema.refine((c) => !c.endDate || c.endDate >= c.date, {
  message: 'ngày kết thúc trước ngày bắt đầu',
  path: ['endDate'],
});
export type CourseInput = z.input<typeof CourseInputSchema>;
export type CourseFields = z.output<typeof CourseInputSchema>;
export type CourseRecord = CourseFields & { createdAt: Instant; updatedAt: Instant };

/** One staff member at one course: attended, completed, certificate. */
export const AttendanceInputSchema = z.strictObject({
  /** Attended the whole course and passed (only this counts as trained). */
  completed: z.boolean().default(true),
  certificateNo: z.string().trim().min(1).max(100).optional(),
  certificateDate: Day.optional(),
  notes: z.string().max(1000).optional(),
});
export type AttendanceInput = z.input<typeof AttendanceInputSchema>;
export interface AttendanceRecord extends z.output<typeof AttendanceInputSchema> {
  /** `${courseId}~${staffId}`. */
  id: string;
  courseId: string;
  staffId: string;
  /** The staff member's unit (scope of who sees the line). */
  unit: string;
  createdAt: Instant;
  updatedAt: Instant;
}

export const attendanceId = (courseId: string, staffId: string) => `${courseId}~${staffId}`;

// ---------------------------------------------------------------- the indicator

export interface TrainingFigures {
  /** The day the figure is for (Vietnamese calendar). */
  day: string;
  /** Staff at work that day. */
  staff: number;
  /** Of them, those who completed at least one course that had ended by that day. */
  trained: number;
  share: number | null;
  /** Courses held inside the period, and the hours of completed attendance in them. */
  coursesInPeriod: number;
  attendanceInPeriod: number;
  hoursInPeriod: number;
  /** Staff still to train (first 200, by unit and name). */
  untrained: { id: string; name: string; unit: string; position: string }[];
  source: string;
}

const atWork = (s: StaffFields, day: string) =>
  (!s.hiredOn || s.hiredOn <= day) && (!s.leftOn || s.leftOn > day);

/**
 * The training indicator for a period [from, to] (Vietnamese days), measured at `day` (the period's
 * last day, or today when the period is still running): pure, the caller gives the day.
 */
export function trainingFigures(inp: {
  staff: readonly StaffFields[];
  courses: readonly CourseFields[];
  attendance: readonly Pick<AttendanceRecord, 'courseId' | 'staffId' | 'completed'>[];
  from: string;
  day: string;
  untrainedMax?: number;
}): TrainingFigures {
  const { day, from } = inp;
  const courses = new Map(inp.courses.map((c) => [c.id, c]));
  const ended = (c: CourseFields) => (c.endDate ?? c.date) <= day;
  const inPeriod = (c: CourseFields) => c.date >= from && c.date <= day;
  const trained = new Set<string>();
  let attendanceInPeriod = 0;
  let hoursInPeriod = 0;
  for (const a of inp.attendance) {
    const c = courses.get(a.courseId);
    if (!c || !a.completed) continue;
    if (ended(c)) trained.add(a.staffId);
    if (inPeriod(c)) {
      attendanceInPeriod++;
      hoursInPeriod += c.hours;
    }
  }
  const working = inp.staff.filter((s) => atWork(s, day));
  const done = working.filter((s) => trained.has(s.id)).length;
  const untrained = working
    .filter((s) => !trained.has(s.id))
    .sort((a, b) => a.unit.localeCompare(b.unit) || a.name.localeCompare(b.name, 'vi'))
    .slice(0, inp.untrainedMax ?? 200)
    .map((s) => ({ id: s.id, name: s.name, unit: s.unit, position: s.position }));
  const coursesInPeriod = inp.courses.filter(inPeriod).length;
  return {
    day,
    staff: working.length,
    trained: done,
    share: working.length > 0 ? done / working.length : null,
    coursesInPeriod,
    attendanceInPeriod,
    hoursInPeriod: Math.round(hoursInPeriod * 10) / 10,
    untrained,
    source: `Sổ cán bộ và bồi dưỡng: ${done}/${working.length} cán bộ đang làm công tác thông tin cơ sở đã hoàn thành ít nhất một khóa bồi dưỡng (đến ngày ${day})`,
  };
}

// ---------------------------------------------------------------- spreadsheets

/** Staff register columns, in order: Vietnamese header and field. */
export const STAFF_COLUMNS: readonly SheetColumn[] = [
  { header: 'Mã', key: 'id', required: true },
  { header: 'Đơn vị', key: 'unit', required: true },
  { header: 'Họ và tên', key: 'name', required: true },
  { header: 'Chức danh', key: 'position', required: true },
  { header: 'Điện thoại', key: 'phone' },
  { header: 'Ngày nhận nhiệm vụ', key: 'hiredOn' },
  { header: 'Ngày thôi việc', key: 'leftOn' },
  { header: 'Ghi chú', key: 'notes' },
];

/** Export-only columns (a file exported and edited imports again). */
export const STAFF_EXPORT_ONLY: readonly SheetColumn[] = [
  { header: 'Đã bồi dưỡng', key: 'trained', exportOnly: true },
  { header: 'Số khóa đã hoàn thành', key: 'courses', exportOnly: true },
];

export interface StaffImportContext {
  unitExists: (path: string) => boolean;
  inScope: (path: string) => boolean;
}

/**
 * Rows of a staff spreadsheet (the first row holds the headers) → records, or the errors of every
 * bad line (with the Vietnamese column name).
 */
export function parseStaffSheet(
  rows: readonly (readonly string[])[],
  ctx: StaffImportContext,
): { entries: StaffFields[]; errors: ImportError[] } {
  const sheet = readSheetRows(rows, [...STAFF_COLUMNS, ...STAFF_EXPORT_ONLY]);
  const errors = [...sheet.errors];
  const entries: StaffFields[] = [];
  const header = (key: string) => STAFF_COLUMNS.find((c) => c.key === key)?.header ?? key;
  const seen = new Map<string, number>();
  for (const { line, values } of sheet.lines) {
    const err = (key: string, message: string) => errors.push({ line, field: header(key), message });
    const parsed = StaffInputSchema.safeParse(values);
    if (!parsed.success) {
      const fields = new Set<string>();
      for (const is of parsed.error.issues) {
        const f = String(is.path[0] ?? '');
        if (fields.has(f)) continue;
        fields.add(f);
        err(f, is.code === 'invalid_type' && values[f] === undefined ? 'bắt buộc' : is.message);
      }
      continue;
    }
    const e = parsed.data;
    if (!ctx.unitExists(e.unit)) err('unit', `không có đơn vị ${e.unit}`);
    else if (!ctx.inScope(e.unit)) err('unit', `đơn vị ${e.unit} nằm ngoài phạm vi được giao`);
    const dup = seen.get(e.id);
    if (dup) err('id', `mã ${e.id} trùng với dòng ${dup}`);
    else seen.set(e.id, line);
    if (!errors.some((x) => x.line === line)) entries.push(e);
  }
  return { entries, errors };
}
