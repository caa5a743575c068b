/**
 * The staff and training register over the store: staff per unit, training courses, attendance
 * and certificates, spreadsheet import (all or nothing) and export tables. Every change is audited;
 * phone numbers (personal data) go only to roles holding `staff.contact`, and every answer that
 * carries them is audited too. The API routes and the dashboard pages both act through here.
 */
import { anyUnitCovers, type Clock, LoaError } from '@loa/protocol';
import { documentVisible } from '../domain/documents.js';
import { can, inScope, type Principal, requireScope } from '../domain/rbac.js';
import type { Table } from '../domain/reports/table.js';
import {
  type AttendanceInput,
  AttendanceInputSchema,
  type AttendanceRecord,
  attendanceId,
  type CourseInput,
  CourseInputSchema,
  type CourseRecord,
  parseStaffSheet,
  STAFF_COLUMNS,
  STAFF_EXPORT_ONLY,
  type StaffInput,
  StaffInputSchema,
  type StaffRecord,
} from '../domain/staff.js';
import type { Store } from '../store/ports.js';

export type StaffActor = Principal & { ip?: string | undefined; via?: 'token' | 'session' | undefined };

/** A staff member as a reader sees them: the phone only for roles that need it. */
export type StaffView = Omit<StaffRecord, 'phone'> & {
  phone?: string;
  /** True when the reader may not see phone numbers (whether or not one is recorded). */
  phoneHidden: boolean;
  /** Courses completed (ended or not). */
  completedCourses: number;
  trained: boolean;
};

export interface CourseView extends CourseRecord {
  /** Attendance lines of staff in the reader's scope. */
  attendees: number;
  completed: number;
}

const invalid = (code: string, r: { error: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  new LoaError(
    code,
    `dữ liệu không hợp lệ: ${r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(gốc)'}: ${i.message}`)
      .join('; ')}`,
    {
      details: {
        issues: r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    },
  );

export class StaffRegister {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(o: { store: Store; clock: Clock }) {
    this.#store = o.store;
    this.#clock = o.clock;
  }

  #now = () => new Date(this.#clock.now()).toISOString();

  async #audit(
    actor: StaffActor,
    action: string,
    target?: { type: string; id: string },
    details?: Record<string, string | number | boolean>,
    unit?: string,
  ) {
    await this.#store.audit.append({
      actor: { type: actor.via === 'token' ? 'token' : 'user', id: actor.id, name: actor.username },
      action,
      ...(actor.ip ? { ip: actor.ip } : {}),
      ...(target ? { target } : {}),
      ...(details ? { details } : {}),
      ...(unit ? { unit } : {}),
    });
  }

  async #unitExists(unit: string) {
    if (!(await this.#store.units.get(unit))) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`);
  }

  // ------------------------------------------------------------ staff

  async #scopedStaff(actor: StaffActor, id: string): Promise<StaffRecord> {
    const s = await this.#store.staff.get(id);
    if (!s || !inScope(actor, s.unit)) throw new LoaError('STAFF_NOT_FOUND', `không có cán bộ ${id}`);
    return s;
  }

  /** Staff of `unit` (or the reader's whole scope), by unit and name, with their training. */
  async listStaff(actor: StaffActor, q: { unit?: string; q?: string } = {}): Promise<StaffView[]> {
    if (q.unit) requireScope(actor, q.unit);
    const scope = q.unit ? [q.unit] : actor.scope;
    const all = scope.includes('*');
    const words = (q.q ?? '').toLowerCase().trim();
    const staff = (await this.#store.staff.list((s) => all || anyUnitCovers(scope, s.unit)))
      .filter((s) => !words || `${s.name} ${s.position} ${s.id}`.toLowerCase().includes(words))
      .sort((a, b) => a.unit.localeCompare(b.unit) || a.name.localeCompare(b.name, 'vi'));
    const ids = new Set(staff.map((s) => s.id));
    const attendance = await this.#store.trainingAttendance.list((a) => ids.has(a.staffId) && a.completed);
    const courses = new Map((await this.#store.trainingCourses.list()).map((c) => [c.id, c]));
    const today = new Date(this.#clock.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const done = new Map<string, { n: number; ended: boolean }>();
    for (const a of attendance) {
      const c = courses.get(a.courseId);
      if (!c) continue;
      const d = done.get(a.staffId) ?? { n: 0, ended: false };
      d.n++;
      if ((c.endDate ?? c.date) <= today) d.ended = true;
      done.set(a.staffId, d);
    }
    const phones = can(actor.role, 'staff.contact');
    const out = staff.map(({ phone, ...s }) => ({
      ...s,
      ...(phones && phone ? { phone } : {}),
      phoneHidden: !phones,
      completedCourses: done.get(s.id)?.n ?? 0,
      trained: done.get(s.id)?.ended ?? false,
    }));
    const shown = out.filter((s) => s.phone).length;
    if (shown > 0)
      await this.#audit(
        actor,
        'staff.contacts.read',
        undefined,
        { phones: shown, unit: q.unit ?? '(phạm vi)' },
        q.unit,
      );
    return out;
  }

  async getStaff(actor: StaffActor, id: string): Promise<StaffView> {
    const s = await this.#scopedStaff(actor, id);
    const list = await this.listStaff({ ...actor, scope: [s.unit] }, { unit: s.unit, q: s.id });
    const v = list.find((x) => x.id === id);
    if (!v) throw new LoaError('STAFF_NOT_FOUND', `không có cán bộ ${id}`);
    return v;
  }

  async createStaff(actor: StaffActor, input: StaffInput): Promise<StaffRecord> {
    const r = StaffInputSchema.safeParse(input);
    if (!r.success) throw invalid('STAFF_INVALID', r);
    requireScope(actor, r.data.unit);
    await this.#unitExists(r.data.unit);
    const at = this.#now();
    const s = await this.#store.staff.insert({ ...r.data, createdAt: at, updatedAt: at });
    await this.#audit(actor, 'staff.create', { type: 'staff', id: s.id }, undefined, s.unit);
    return s;
  }

  async updateStaff(actor: StaffActor, id: string, patch: Partial<StaffInput>): Promise<StaffRecord> {
    const old = await this.#scopedStaff(actor, id);
    const { createdAt, updatedAt, ...fields } = old;
    const r = StaffInputSchema.safeParse({ ...fields, ...patch, id });
    if (!r.success) throw invalid('STAFF_INVALID', r);
    requireScope(actor, r.data.unit);
    await this.#unitExists(r.data.unit);
    const s = await this.#store.staff.put({ ...r.data, createdAt, updatedAt: this.#now() });
    if (s.unit !== old.unit)
      for (const a of await this.#store.trainingAttendance.list((x) => x.staffId === id))
        await this.#store.trainingAttendance.update(a.id, { unit: s.unit });
    await this.#audit(
      actor,
      'staff.update',
      { type: 'staff', id },
      { fields: Object.keys(patch).join(',') },
      s.unit,
    );
    return s;
  }

  /** Removes a staff member and their attendance lines. */
  async removeStaff(actor: StaffActor, id: string): Promise<void> {
    const old = await this.#scopedStaff(actor, id);
    const lines = await this.#store.trainingAttendance.list((a) => a.staffId === id);
    for (const a of lines) await this.#store.trainingAttendance.delete(a.id);
    await this.#store.staff.delete(id);
    await this.#audit(actor, 'staff.delete', { type: 'staff', id }, { attendance: lines.length }, old.unit);
  }

  /**
   * A staff spreadsheet (rows, header first): every line checked, then all stored or none
   * (STAFF_IMPORT_INVALID with the errors of every bad line). A row whose code exists replaces it.
   */
  async importStaff(
    actor: StaffActor,
    rows: string[][],
  ): Promise<{ imported: number; created: number; replaced: number }> {
    const units = new Set((await this.#store.units.list()).map((u) => u.path));
    const existing = new Map((await this.#store.staff.list()).map((s) => [s.id, s]));
    const { entries, errors } = parseStaffSheet(rows, {
      unitExists: (u) => units.has(u),
      inScope: (u) => inScope(actor, u),
    });
    entries.forEach((e, i) => {
      const old = existing.get(e.id);
      if (old && !inScope(actor, old.unit))
        errors.push({ line: i + 2, field: 'Mã', message: `mã ${e.id} đã thuộc một đơn vị khác` });
    });
    if (errors.length > 0)
      throw new LoaError('STAFF_IMPORT_INVALID', `tệp có ${errors.length} lỗi; chưa nhập dòng nào`, {
        details: { errors: errors.sort((a, b) => a.line - b.line).slice(0, 500) },
      });
    const at = this.#now();
    let replaced = 0;
    for (const e of entries) {
      const old = existing.get(e.id);
      if (old) replaced++;
      await this.#store.staff.put({ ...e, createdAt: old?.createdAt ?? at, updatedAt: at });
    }
    await this.#audit(actor, 'staff.import', undefined, { rows: entries.length, replaced });
    return { imported: entries.length, created: entries.length - replaced, replaced };
  }

  /** The staff export (the import's columns, then whether trained); phones only when the reader may see them. */
  staffTable(list: readonly StaffView[]): Table {
    const cols = [...STAFF_COLUMNS, ...STAFF_EXPORT_ONLY].filter(
      (c) => c.key !== 'phone' || list.some((s) => !s.phoneHidden),
    );
    return {
      name: 'Cán bộ',
      columns: cols.map((c) => ({
        header: c.header,
        key: c.key,
        ...(c.key === 'courses' ? { kind: 'number' as const } : {}),
      })),
      rows: list.map((s) =>
        cols.map((c) => {
          if (c.key === 'trained') return s.trained ? 'Có' : 'Chưa';
          if (c.key === 'courses') return s.completedCourses;
          const v = (s as unknown as Record<string, unknown>)[c.key];
          return typeof v === 'string' ? v : null;
        }),
      ),
    };
  }

  // ------------------------------------------------------------ courses and attendance

  async #visibleCourse(actor: StaffActor, id: string): Promise<CourseRecord> {
    const c = await this.#store.trainingCourses.get(id);
    if (!c || !documentVisible(actor.scope, c.unit))
      throw new LoaError('COURSE_NOT_FOUND', `không có khóa bồi dưỡng ${id}`);
    return c;
  }

  /** Courses held in the reader's scope or above it, newest first, with attendance in the reader's scope. */
  async listCourses(actor: StaffActor, q: { unit?: string } = {}): Promise<CourseView[]> {
    if (q.unit) requireScope(actor, q.unit);
    const scope = q.unit ? [q.unit] : actor.scope;
    const courses = await this.#store.trainingCourses.list((c) => documentVisible(scope, c.unit));
    const ids = new Set(courses.map((c) => c.id));
    const all = scope.includes('*');
    const lines = await this.#store.trainingAttendance.list(
      (a) => ids.has(a.courseId) && (all || anyUnitCovers(scope, a.unit)),
    );
    return courses
      .map((c) => {
        const mine = lines.filter((a) => a.courseId === c.id);
        return { ...c, attendees: mine.length, completed: mine.filter((a) => a.completed).length };
      })
      .sort((a, b) => b.date.localeCompare(a.date) || a.title.localeCompare(b.title, 'vi'));
  }

  async getCourse(actor: StaffActor, id: string): Promise<CourseRecord> {
    return this.#visibleCourse(actor, id);
  }

  async createCourse(actor: StaffActor, input: CourseInput): Promise<CourseRecord> {
    const r = CourseInputSchema.safeParse(input);
    if (!r.success) throw invalid('COURSE_INVALID', r);
    requireScope(actor, r.data.unit);
    await this.#unitExists(r.data.unit);
    const at = this.#now();
    const c = await this.#store.trainingCourses.insert({ ...r.data, createdAt: at, updatedAt: at });
    await this.#audit(
      actor,
      'training.course.create',
      { type: 'course', id: c.id },
      { hours: c.hours },
      c.unit,
    );
    return c;
  }

  async updateCourse(actor: StaffActor, id: string, patch: Partial<CourseInput>): Promise<CourseRecord> {
    const old = await this.#visibleCourse(actor, id);
    requireScope(actor, old.unit);
    const { createdAt, updatedAt, ...fields } = old;
    const r = CourseInputSchema.safeParse({ ...fields, ...patch, id });
    if (!r.success) throw invalid('COURSE_INVALID', r);
    requireScope(actor, r.data.unit);
    await this.#unitExists(r.data.unit);
    const c = await this.#store.trainingCourses.put({ ...r.data, createdAt, updatedAt: this.#now() });
    await this.#audit(
      actor,
      'training.course.update',
      { type: 'course', id },
      { fields: Object.keys(patch).join(',') },
      c.unit,
    );
    return c;
  }

  /** Removes a course and every attendance line of it (the organiser's scope only). */
  async removeCourse(actor: StaffActor, id: string): Promise<void> {
    const old = await this.#visibleCourse(actor, id);
    requireScope(actor, old.unit);
    const lines = await this.#store.trainingAttendance.list((a) => a.courseId === id);
    for (const a of lines) await this.#store.trainingAttendance.delete(a.id);
    await this.#store.trainingCourses.delete(id);
    await this.#audit(
      actor,
      'training.course.delete',
      { type: 'course', id },
      { attendance: lines.length },
      old.unit,
    );
  }

  /** Attendance of a course by staff in the reader's scope, with their names. */
  async attendance(
    actor: StaffActor,
    courseId: string,
  ): Promise<(AttendanceRecord & { name: string; position: string })[]> {
    await this.#visibleCourse(actor, courseId);
    const lines = await this.#store.trainingAttendance.list(
      (a) => a.courseId === courseId && inScope(actor, a.unit),
    );
    const staff = new Map(
      (await this.#store.staff.list((s) => inScope(actor, s.unit))).map((s) => [s.id, s]),
    );
    return lines
      .map((a) => ({
        ...a,
        name: staff.get(a.staffId)?.name ?? a.staffId,
        position: staff.get(a.staffId)?.position ?? '',
      }))
      .sort((a, b) => a.unit.localeCompare(b.unit) || a.name.localeCompare(b.name, 'vi'));
  }

  /** Records (or replaces) one staff member's attendance of a course, with the certificate if any. */
  async recordAttendance(
    actor: StaffActor,
    courseId: string,
    staffId: string,
    input: AttendanceInput,
  ): Promise<AttendanceRecord> {
    const course = await this.#visibleCourse(actor, courseId);
    const s = await this.#scopedStaff(actor, staffId);
    const r = AttendanceInputSchema.safeParse(input);
    if (!r.success) throw invalid('ATTENDANCE_INVALID', r);
    if (r.data.certificateDate && r.data.certificateDate < course.date)
      throw new LoaError('ATTENDANCE_INVALID', 'ngày cấp chứng chỉ trước ngày bắt đầu khóa học', {
        details: { issues: [{ path: ['certificateDate'], message: 'trước ngày bắt đầu khóa học' }] },
      });
    const id = attendanceId(courseId, staffId);
    const old = await this.#store.trainingAttendance.get(id);
    const at = this.#now();
    const a = await this.#store.trainingAttendance.put({
      ...r.data,
      id,
      courseId,
      staffId,
      unit: s.unit,
      createdAt: old?.createdAt ?? at,
      updatedAt: at,
    });
    await this.#audit(
      actor,
      'training.attendance.record',
      { type: 'attendance', id },
      { completed: a.completed, certificate: a.certificateNo !== undefined },
      s.unit,
    );
    return a;
  }

  async removeAttendance(actor: StaffActor, courseId: string, staffId: string): Promise<void> {
    await this.#visibleCourse(actor, courseId);
    const s = await this.#scopedStaff(actor, staffId);
    const id = attendanceId(courseId, staffId);
    if (!(await this.#store.trainingAttendance.delete(id)))
      throw new LoaError(
        'ATTENDANCE_NOT_FOUND',
        `cán bộ ${staffId} không có trong danh sách khóa ${courseId}`,
      );
    await this.#audit(actor, 'training.attendance.delete', { type: 'attendance', id }, undefined, s.unit);
  }

  /** Courses with attendance (one row per attendance line; a course nobody attended once). */
  async coursesTable(actor: StaffActor, unit?: string): Promise<Table> {
    const courses = await this.listCourses(actor, unit ? { unit } : {});
    const rows: Table['rows'] = [];
    for (const c of courses) {
      const lines = await this.attendance(actor, c.id);
      const head = [
        c.id,
        c.unit,
        c.title,
        c.date,
        c.endDate ?? null,
        c.organiser,
        c.hours,
        c.topics.join('; '),
      ];
      if (lines.length === 0) rows.push([...head, null, null, null, null, null]);
      for (const a of lines)
        rows.push([
          ...head,
          a.staffId,
          a.name,
          a.completed ? 'Có' : 'Chưa',
          a.certificateNo ?? null,
          a.certificateDate ?? null,
        ]);
    }
    return {
      name: 'Khóa bồi dưỡng',
      columns: [
        { key: 'id', header: 'Mã khóa' },
        { key: 'unit', header: 'Đơn vị tổ chức' },
        { key: 'title', header: 'Tên khóa' },
        { key: 'date', header: 'Ngày bắt đầu' },
        { key: 'endDate', header: 'Ngày kết thúc' },
        { key: 'organiser', header: 'Cơ quan tổ chức' },
        { key: 'hours', header: 'Số giờ', kind: 'number' },
        { key: 'topics', header: 'Nội dung' },
        { key: 'staffId', header: 'Mã cán bộ' },
        { key: 'staffName', header: 'Họ và tên' },
        { key: 'completed', header: 'Hoàn thành' },
        { key: 'certificateNo', header: 'Số chứng chỉ' },
        { key: 'certificateDate', header: 'Ngày cấp' },
      ],
      rows,
    };
  }
}
