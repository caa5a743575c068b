/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * One training course in the dashboard: its facts, who attended (completed, certificate), and for
 * roles holding staff.manage in the organiser's scope, changing and removing the course; recording,
 * changing and removing attendance lines of staff in their scope. Every removal asks first and is
 * audited by the register, which also checks the scope of every change.
 */
import { isLoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { can } from '../../../domain/rbac.js';
import type { CourseView, StaffRegister, StaffView } from '../../../services/staff-register.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Badge, Empty, errorSentence, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { type FormState, refusedForm } from '../form-inputs.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, type UiContext, type UiServer } from '../shared.js';
import {
  ActionsCell,
  ATTENDANCE_KEYS,
  AttendanceForm,
  staffActor as actor,
  attendanceValues,
  COURSE_KEYS,
  CourseForm,
  courseInput,
  courseValues,
  dayVi,
  EditAndDelete,
  fieldOfCode,
  postedValues,
  staffChanger,
  type Units,
} from './staff-forms.js';

type Line = Awaited<ReturnType<StaffRegister['attendance']>>[number];

function CoursePage(props: {
  ctx: UiCtx;
  course: CourseView;
  lines: Line[];
  staff: StaffView[];
  units: Units;
  names: Map<string, string>;
  manage: boolean;
  mayChange: (unit: string) => boolean;
  courseForm: FormState;
  attendanceForm: FormState;
  /** The staff member whose line is being changed. */
  editing?: string | undefined;
}) {
  const { ctx, course: c } = props;
  const t = ctx.t;
  const cid = encodeURIComponent(c.id);
  return (
    <Layout ctx={ctx} title={c.title}>
      <p>
        <a href={ui(`/staff?unit=${encodeURIComponent(c.unit)}`)}>← {t('st.title')}</a>
      </p>
      <dl class="facts" id="course-facts">
        <dt>{t('st.courseCode')}</dt>
        <dd>{c.id}</dd>
        <dt>{t('st.courseDate')}</dt>
        <dd>
          {dayVi(c.date)}
          {c.endDate && c.endDate !== c.date ? ` – ${dayVi(c.endDate)}` : ''}
        </dd>
        <dt>{t('st.organiser')}</dt>
        <dd>{c.organiser}</dd>
        <dt>{t('st.hours')}</dt>
        <dd>{String(c.hours).replace('.', ',')}</dd>
        <dt>{t('st.topics')}</dt>
        <dd>{c.topics.join('; ') || '—'}</dd>
      </dl>
      <Section title={t('st.attendance')} id="attendance">
        {props.lines.length === 0 ? (
          <Empty>{t('st.attendanceNone')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="attendance-table" class="register">
              <thead>
                <tr>
                  <th>{t('st.name')}</th>
                  <th>{t('common.unit')}</th>
                  <th>{t('st.completedOf')}</th>
                  <th>{t('st.certificate')}</th>
                  <th>{t('st.certificateDate')}</th>
                  {props.manage ? <th>{t('common.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {props.lines.map((a) => (
                  <tr data-id={a.staffId} class={props.editing === a.staffId ? 'selected' : undefined}>
                    <td>{a.name}</td>
                    <td data-label={t('common.unit')}>{props.names.get(a.unit) ?? a.unit}</td>
                    <td>
                      <Badge tone={a.completed ? 'ok' : 'warn'}>
                        {t(a.completed ? 'st.completed' : 'st.notCompleted')}
                      </Badge>
                    </td>
                    <td data-label={t('st.certificate')}>{a.certificateNo ?? ''}</td>
                    <td data-label={t('st.certificateDate')}>{dayVi(a.certificateDate)}</td>
                    <ActionsCell
                      ctx={ctx}
                      manage={props.manage}
                      may={props.mayChange(a.unit)}
                      edit={ui(`/staff/courses/${cid}?edit=${encodeURIComponent(a.staffId)}#attendance-add`)}
                      del={ui(`/staff/courses/${cid}/attendance/${encodeURIComponent(a.staffId)}/delete`)}
                      confirm={t('st.attDeleteConfirm', { name: a.name, title: c.title })}
                      what={a.name}
                    />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {props.manage && props.staff.length > 0 ? (
        <Section title={t(props.editing ? 'st.recordEdit' : 'st.record')} id="attendance-add">
          <AttendanceForm
            ctx={ctx}
            action={ui(`/staff/courses/${cid}/attendance`)}
            staff={props.staff}
            names={props.names}
            form={props.attendanceForm}
            editing={props.editing !== undefined}
          />
        </Section>
      ) : null}
      {props.mayChange(c.unit) ? (
        <EditAndDelete
          ctx={ctx}
          edit={{ title: t('st.courseEdit'), id: 'course-edit' }}
          del={{
            title: t('st.courseDelete'),
            id: 'course-delete',
            hint: t('st.courseDeleteHint'),
            action: ui(`/staff/courses/${cid}/delete`),
            confirm: t('st.courseDeleteConfirm', { title: c.title, n: c.attendees }),
            what: c.title,
          }}
        >
          <CourseForm
            ctx={ctx}
            action={ui(`/staff/courses/${cid}`)}
            units={props.units}
            form={props.courseForm}
            p="ce-"
            edit
          />
        </EditAndDelete>
      ) : null}
    </Layout>
  );
}

export function registerCoursePages(
  app: Hono<AppEnv>,
  s: UiServer,
  register: StaffRegister,
  unitsOf: (user: AuthUser) => Promise<[string, string][]>,
): void {
  /** The course page, or the dashboard's 404 when the course is not visible to the reader. */
  const page = async (
    c: UiContext,
    g: { user: AuthUser; ctx: UiCtx },
    o: { courseForm?: FormState; attendanceForm?: FormState; editing?: string; status?: 400 | 404 } = {},
  ) => {
    const a = actor(g.user, c.get('ip'));
    const id = c.req.param('id') ?? '';
    const course = (await register.listCourses(a)).find((x) => x.id === id);
    if (!course) return c.notFound();
    const manage = can(g.user.role, 'staff.manage');
    const lines = await register.attendance(a, id);
    const editing = o.editing ?? c.req.query('edit');
    const line = editing ? lines.find((l) => l.staffId === editing) : undefined;
    // the picker needs names only: read without phone numbers (nothing personal to audit)
    const staff = manage
      ? (await register.listStaff({ ...a, role: 'viewer' })).filter((x) => !x.leftOn || x.id === editing)
      : [];
    const units = await unitsOf(g.user);
    return c.html(
      <CoursePage
        ctx={g.ctx}
        course={course}
        lines={lines}
        staff={staff}
        units={units}
        names={new Map(units)}
        manage={manage}
        mayChange={staffChanger(g.user)}
        courseForm={o.courseForm ?? { values: courseValues(course), errors: {} }}
        attendanceForm={o.attendanceForm ?? { values: line ? attendanceValues(line) : {}, errors: {} }}
        editing={line ? editing : undefined}
      />,
      o.status ?? 200,
    );
  };
  /** A refusal that names no field (the record is gone): the page with the sentence on top. */
  const gone = (c: UiContext, g: { user: AuthUser; ctx: UiCtx }, e: unknown, codes: string[]) => {
    if (!isLoaError(e) || !codes.includes(e.code)) throw e;
    g.ctx.flash = { kind: 'error', text: errorSentence(g.ctx, e.code, e.message) };
    return page(c, g, { status: 404 });
  };

  app.get(ui('/staff/courses/:id'), async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return page(c, g);
  });

  app.post(ui('/staff/courses/:id'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id') ?? '';
    const v: Record<string, string> = { ...postedValues(f, COURSE_KEYS), id };
    try {
      const rec = await register.updateCourse(actor(g.user, c.get('ip')), id, courseInput(v));
      return done(c, ui(`/staff/courses/${encodeURIComponent(rec.id)}`), 'st.courseSaved', rec.title);
    } catch (e) {
      if (isLoaError(e) && e.code === 'COURSE_NOT_FOUND') return c.notFound();
      const courseForm = refusedForm(g.ctx, e, v, 'st.err.course', fieldOfCode);
      return page(c, g, { courseForm, status: 400 });
    }
  });

  app.post(ui('/staff/courses/:id/delete'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const a = actor(g.user, c.get('ip'));
    const id = c.req.param('id') ?? '';
    try {
      const old = await register.getCourse(a, id);
      await register.removeCourse(a, id);
      return done(c, ui(`/staff?unit=${encodeURIComponent(old.unit)}`), 'st.courseDeleted', old.title);
    } catch (e) {
      if (isLoaError(e) && e.code === 'COURSE_NOT_FOUND') return c.notFound();
      throw e;
    }
  });

  app.post(ui('/staff/courses/:id/attendance'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id') ?? '';
    const v = postedValues(f, ATTENDANCE_KEYS);
    const staffId = v.staffId ?? '';
    try {
      await register.recordAttendance(actor(g.user, c.get('ip')), id, staffId, {
        completed: v.completed === '1',
        ...(v.certificateNo ? { certificateNo: v.certificateNo } : {}),
        ...(v.certificateDate ? { certificateDate: v.certificateDate } : {}),
      });
      return done(c, ui(`/staff/courses/${encodeURIComponent(id)}`), 'st.recorded', staffId);
    } catch (e) {
      if (isLoaError(e) && e.code === 'COURSE_NOT_FOUND') return c.notFound();
      const attendanceForm = refusedForm(g.ctx, e, v, 'st.err.att', (code) =>
        code === 'STAFF_NOT_FOUND' ? 'staffId' : '_form',
      );
      return page(c, g, { attendanceForm, status: 400, ...(staffId ? { editing: staffId } : {}) });
    }
  });

  app.post(ui('/staff/courses/:id/attendance/:staffId/delete'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const id = c.req.param('id') ?? '';
    const staffId = c.req.param('staffId') ?? '';
    try {
      await register.removeAttendance(actor(g.user, c.get('ip')), id, staffId);
      return done(c, ui(`/staff/courses/${encodeURIComponent(id)}`), 'st.attDeleted', staffId);
    } catch (e) {
      return gone(c, g, e, ['ATTENDANCE_NOT_FOUND', 'STAFF_NOT_FOUND']);
    }
  });
}
