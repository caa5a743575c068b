/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Staff and training in the dashboard: the staff of the units in the reader's scope with the
 * training indicator, import from a spreadsheet (errors per line, nothing imported on error),
 * export, adding, changing and removing staff (removal asks first and is audited), and adding
 * courses (a course's own page is in staff-course.tsx). Every change goes through the register,
 * which checks the unit scope. Phone numbers only for roles holding staff.contact (the service
 * audits their reading).
 */
import { isLoaError, LoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { can, inScope } from '../../../domain/rbac.js';
import { periodOf } from '../../../domain/reports/period.js';
import { type ImportError, parseCsv } from '../../../domain/sheet.js';
import type { TrainingFigures } from '../../../domain/staff.js';
import { readXlsxRows } from '../../../services/report-files.js';
import type { ReportService } from '../../../services/report-service.js';
import type { CourseView, StaffRegister, StaffView } from '../../../services/staff-register.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Badge, Csrf, Empty, errorSentence, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { type FormState, Input, refusedForm, Select } from '../form-inputs.js';
import { Layout } from '../layout.js';
import {
  checkFormCsrf,
  done,
  type FormFields,
  guard,
  readForm,
  str,
  type UiContext,
  type UiServer,
} from '../shared.js';
import { unitOptions } from '../unit-labels.js';
import { registerCoursePages } from './staff-course.js';
import {
  ActionsCell,
  staffActor as actor,
  COURSE_KEYS,
  CourseForm,
  courseInput,
  dayVi,
  EditAndDelete,
  fieldOfCode,
  optional,
  postedValues,
  STAFF_KEYS,
  StaffForm,
  staffChanger,
  staffValues,
  type Units,
} from './staff-forms.js';

export const STAFF_IMPORT_MAX_BYTES = 5 * 1024 * 1024;

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1).replace('.', ',')}%`);

function StaffPage(props: {
  ctx: UiCtx;
  unit: string;
  q: string;
  units: [string, string][];
  staff: StaffView[];
  courses: CourseView[];
  training: TrainingFigures | null;
  manage: boolean;
  /** May change records of this unit (staff.manage and the unit in scope). */
  mayChange: (unit: string) => boolean;
  importErrors?: ImportError[];
  addStaff?: FormState | undefined;
  addCourse?: FormState | undefined;
}) {
  const { ctx, unit } = props;
  const t = ctx.t;
  const names = new Map(props.units);
  const showPhones = props.staff.some((s) => !s.phoneHidden);
  const exportQs = unit ? `unit=${encodeURIComponent(unit)}&` : '';
  const today = new Date(ctx.now + 7 * 3600_000).toISOString().slice(0, 10);
  return (
    <Layout ctx={ctx} title={t('st.title')}>
      <form method="get" action={ui('/staff')} class="filters">
        <Select
          ctx={ctx}
          id="f-unit"
          name="unit"
          label={t('common.unit')}
          options={props.units}
          value={unit}
        />
        <Input ctx={ctx} id="f-q" name="q" label={t('st.search')} value={props.q} />
        <button type="submit">{t('common.filter')}</button>
        <a class="button secondary" href={`/api/v1/staff?${exportQs}format=xlsx`}>
          {t('st.exportXlsx')}
        </a>
        <a class="button secondary" href={`/api/v1/staff?${exportQs}format=csv`}>
          {t('common.exportCsv')}
        </a>
      </form>

      <Section title={t('st.kpi')} id="training-kpi">
        {props.training ? (
          <p>
            <Badge tone={props.training.share === 1 ? 'ok' : 'warn'}>{pct(props.training.share)}</Badge>{' '}
            {t('st.kpiLine', {
              trained: props.training.trained,
              staff: props.training.staff,
              share: pct(props.training.share),
              day: dayVi(props.training.day),
            })}
          </p>
        ) : (
          <p>{t('st.kpiNone')}</p>
        )}
      </Section>

      {props.importErrors ? (
        <div class="flash error" role="alert" id="import-errors">
          <p>{t('st.importErrors', { n: props.importErrors.length })}</p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t('st.line')}</th>
                  <th>{t('st.column')}</th>
                  <th>{t('st.problem')}</th>
                </tr>
              </thead>
              <tbody>
                {props.importErrors.map((e) => (
                  <tr>
                    <td class="num">{e.line}</td>
                    <td>{e.field}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}

      <Section title={t('st.list')} id="staff-list">
        {!showPhones && props.staff.length > 0 ? <p class="hint">{t('st.phoneHidden')}</p> : null}
        {props.staff.length === 0 ? (
          <Empty>{t('st.none')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="staff" class="register">
              <thead>
                <tr>
                  <th>
                    {t('st.name')} · {t('st.training')}
                  </th>
                  <th>{t('st.position')}</th>
                  <th>{t('common.unit')}</th>
                  {showPhones ? <th>{t('st.phone')}</th> : null}
                  <th>{t('st.hiredOn')}</th>
                  {props.manage ? <th>{t('common.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {props.staff.map((s) => (
                  <tr data-id={s.id}>
                    <td>
                      {s.name}
                      <br />
                      <small>{s.id}</small>{' '}
                      {s.leftOn && s.leftOn <= today ? (
                        <Badge tone="muted">{t('st.left')}</Badge>
                      ) : (
                        <Badge tone={s.trained ? 'ok' : 'warn'}>
                          {t(s.trained ? 'st.trained' : 'st.untrained')}
                        </Badge>
                      )}
                    </td>
                    <td data-label={t('st.position')}>{s.position}</td>
                    <td data-label={t('common.unit')}>{names.get(s.unit) ?? s.unit}</td>
                    {showPhones ? <td data-label={t('st.phone')}>{s.phone ?? ''}</td> : null}
                    <td data-label={t('st.hiredOn')}>{dayVi(s.hiredOn)}</td>
                    <ActionsCell
                      ctx={ctx}
                      manage={props.manage}
                      may={props.mayChange(s.unit)}
                      edit={ui(`/staff/people/${encodeURIComponent(s.id)}`)}
                      del={ui(`/staff/people/${encodeURIComponent(s.id)}/delete`)}
                      confirm={t('st.deleteConfirm', { name: s.name, id: s.id })}
                      what={s.name}
                    />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title={t('st.courses')} id="course-list">
        {props.courses.length === 0 ? (
          <Empty>{t('st.coursesNone')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="courses" class="register">
              <thead>
                <tr>
                  <th>{t('st.courseTitle')}</th>
                  <th>{t('st.courseDate')}</th>
                  <th>{t('st.organiser')}</th>
                  <th class="num">{t('st.hours')}</th>
                  <th class="num">{t('st.completedOf')}</th>
                </tr>
              </thead>
              <tbody>
                {props.courses.map((c) => (
                  <tr data-id={c.id}>
                    <td>
                      <a href={ui(`/staff/courses/${encodeURIComponent(c.id)}`)}>{c.title}</a>
                      {c.topics.length > 0 ? (
                        <>
                          <br />
                          <small>{c.topics.join('; ')}</small>
                        </>
                      ) : null}
                    </td>
                    <td data-label={t('st.courseDate')}>
                      {dayVi(c.date)}
                      {c.endDate && c.endDate !== c.date ? ` – ${dayVi(c.endDate)}` : ''}
                    </td>
                    <td data-label={t('st.organiser')}>{c.organiser}</td>
                    <td class="num" data-label={t('st.hours')}>
                      {String(c.hours).replace('.', ',')}
                    </td>
                    <td class="num" data-label={t('st.completedOf')}>
                      {c.completed}/{c.attendees}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      {props.manage ? (
        <div class="grid-2">
          <Section title={t('st.add')} id="staff-add">
            <StaffForm
              ctx={ctx}
              action={ui('/staff')}
              units={props.units}
              form={props.addStaff ?? { values: { unit }, errors: {} }}
              p="s-"
              edit={false}
              back={unit}
            />
          </Section>
          <Section title={t('st.import')} id="staff-import">
            <form method="post" action={ui('/staff/import')} enctype="multipart/form-data" class="stack">
              <Csrf ctx={ctx} />
              <input type="hidden" name="back" value={unit} />
              <p class="hint">{t('st.importHint')}</p>
              <Input
                ctx={ctx}
                id="s-file"
                name="file"
                type="file"
                label={t('st.importFile')}
                accept=".csv,.xlsx"
                required
              />
              <button type="submit">{t('st.importDo')}</button>
            </form>
          </Section>
          <Section title={t('st.addCourse')} id="course-add">
            <CourseForm
              ctx={ctx}
              action={ui('/staff/courses')}
              units={props.units}
              form={props.addCourse ?? { values: { unit }, errors: {} }}
              p="c-"
              edit={false}
              back={unit}
            />
          </Section>
        </div>
      ) : null}
    </Layout>
  );
}

/** The spreadsheet of an import form: XLSX by its bytes, else CSV text. */
async function formRows(f: FormFields): Promise<string[][]> {
  const file = f.file;
  if (!(file instanceof File) || file.size === 0)
    throw new LoaError('STAFF_FILE_MISSING', 'chưa chọn tệp để nhập');
  if (file.size > STAFF_IMPORT_MAX_BYTES)
    throw new LoaError('PAYLOAD_TOO_LARGE', 'tệp quá lớn (tối đa 5 MB)');
  const buf = Buffer.from(await file.arrayBuffer());
  if (buf.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004') {
    try {
      return await readXlsxRows(buf);
    } catch (cause) {
      throw new LoaError('STAFF_FILE_UNREADABLE', 'không đọc được tệp Excel', { cause });
    }
  }
  return parseCsv(buf.toString('utf8'));
}

function StaffEditPage(props: { ctx: UiCtx; staff: StaffView; units: Units; form: FormState }) {
  const { ctx, staff } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={`${t('st.edit')}: ${staff.name}`}>
      <p>
        <a href={ui(`/staff?unit=${encodeURIComponent(staff.unit)}`)}>← {t('st.title')}</a>
      </p>
      <EditAndDelete
        ctx={ctx}
        edit={{ title: `${t('st.edit')} · ${staff.id}`, id: 'staff-edit' }}
        del={{
          title: t('st.delete'),
          id: 'staff-delete',
          hint: t('st.deleteHint'),
          action: ui(`/staff/people/${encodeURIComponent(staff.id)}/delete`),
          confirm: t('st.deleteConfirm', { name: staff.name, id: staff.id }),
          what: staff.name,
        }}
      >
        <StaffForm
          ctx={ctx}
          action={ui(`/staff/people/${encodeURIComponent(staff.id)}`)}
          units={props.units}
          form={props.form}
          p="e-"
          edit
        />
      </EditAndDelete>
    </Layout>
  );
}

/** A record that is not there (or not in the reader's scope) is the dashboard's 404. */
const notFound = (e: unknown): undefined => {
  if (isLoaError(e) && e.code.endsWith('_NOT_FOUND')) return undefined;
  throw e;
};

export function registerStaffPages(
  app: Hono<AppEnv>,
  s: UiServer,
  register: StaffRegister,
  reports: ReportService,
): void {
  const unitsOf = async (user: AuthUser): Promise<[string, string][]> => {
    const all = await s.deps.store.units.list();
    return unitOptions(
      all.filter((u) => inScope(user, u.path)),
      all,
    );
  };

  const page = async (
    c: UiContext,
    g: { user: AuthUser; ctx: UiCtx },
    o: {
      importErrors?: ImportError[];
      back?: string;
      addStaff?: FormState;
      addCourse?: FormState;
      status?: 404;
    } = {},
  ) => {
    const units = await unitsOf(g.user);
    const want = o.back ?? c.req.query('unit') ?? '';
    const own = g.user.scope.filter((x) => x !== '*');
    const unit = units.some(([p]) => p === want) ? want : (own[0] ?? units[0]?.[0] ?? '');
    const q = c.req.query('q') ?? '';
    const a = actor(g.user, c.get('ip'));
    const now = s.deps.clock.now();
    const day = new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
    const year = `${day.slice(0, 4)}-01-01`;
    const staff = unit ? await register.listStaff(a, { unit, ...(q ? { q } : {}) }) : [];
    const courses = unit ? await register.listCourses(a, { unit }) : [];
    const training = unit ? await reports.training(unit, periodOf(year, day)) : null;
    const refused = o.importErrors || o.addStaff || o.addCourse;
    return c.html(
      <StaffPage
        ctx={g.ctx}
        unit={unit}
        q={q}
        units={units}
        staff={staff}
        courses={courses}
        training={training}
        manage={can(g.user.role, 'staff.manage')}
        mayChange={staffChanger(g.user)}
        {...(o.importErrors ? { importErrors: o.importErrors } : {})}
        addStaff={o.addStaff}
        addCourse={o.addCourse}
      />,
      o.status ?? (refused ? 400 : 200),
    );
  };

  app.get(ui('/staff'), async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return page(c, g);
  });

  app.post(ui('/staff'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const v = postedValues(f, STAFF_KEYS);
    try {
      const rec = await register.createStaff(actor(g.user, c.get('ip')), {
        id: v.id ?? '',
        unit: v.unit ?? '',
        name: v.name ?? '',
        position: v.position ?? '',
        ...(v.phone ? { phone: v.phone } : {}),
        ...(v.hiredOn ? { hiredOn: v.hiredOn } : {}),
      });
      return done(c, ui(`/staff?unit=${encodeURIComponent(rec.unit)}`), 'st.created', rec.id);
    } catch (e) {
      const addStaff = refusedForm(g.ctx, e, v, 'st.err.staff', fieldOfCode);
      return page(c, g, { back: str(f, 'back'), addStaff });
    }
  });

  app.get(ui('/staff/people/:id'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const staff = await register
      .getStaff(actor(g.user, c.get('ip')), c.req.param('id') ?? '')
      .catch(notFound);
    if (!staff) return c.notFound();
    const form = { values: staffValues(staff), errors: {} };
    return c.html(<StaffEditPage ctx={g.ctx} staff={staff} units={await unitsOf(g.user)} form={form} />);
  });

  app.post(ui('/staff/people/:id'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id') ?? '';
    const a = actor(g.user, c.get('ip'));
    const v: Record<string, string> = { ...postedValues(f, STAFF_KEYS), id };
    try {
      const rec = await register.updateStaff(a, id, {
        unit: v.unit ?? '',
        name: v.name ?? '',
        position: v.position ?? '',
        ...optional(v, ['phone', 'hiredOn', 'leftOn', 'notes']),
      });
      return done(c, ui(`/staff?unit=${encodeURIComponent(rec.unit)}`), 'st.saved', rec.name);
    } catch (e) {
      const form = refusedForm(g.ctx, e, v, 'st.err.staff', fieldOfCode);
      const staff = await register.getStaff(a, id).catch(notFound);
      if (!staff) return c.notFound();
      return c.html(
        <StaffEditPage ctx={g.ctx} staff={staff} units={await unitsOf(g.user)} form={form} />,
        400,
      );
    }
  });

  app.post(ui('/staff/people/:id/delete'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const a = actor(g.user, c.get('ip'));
    const id = c.req.param('id') ?? '';
    try {
      const old = await register.getStaff(a, id);
      await register.removeStaff(a, id);
      return done(c, ui(`/staff?unit=${encodeURIComponent(old.unit)}`), 'st.deleted', old.name);
    } catch (e) {
      if (!isLoaError(e) || e.code !== 'STAFF_NOT_FOUND') throw e;
      g.ctx.flash = { kind: 'error', text: errorSentence(g.ctx, e.code, e.message) };
      return page(c, g, { status: 404 });
    }
  });

  app.post(ui('/staff/import'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const back = str(f, 'back');
    try {
      const r = await register.importStaff(actor(g.user, c.get('ip')), await formRows(f));
      return done(c, ui(`/staff?unit=${encodeURIComponent(back)}`), 'st.imported', String(r.imported));
    } catch (e) {
      if (isLoaError(e) && e.code === 'STAFF_IMPORT_INVALID')
        return page(c, g, { importErrors: (e.details as { errors: ImportError[] }).errors, back });
      throw e;
    }
  });

  app.post(ui('/staff/courses'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const v = postedValues(f, COURSE_KEYS);
    try {
      const rec = await register.createCourse(actor(g.user, c.get('ip')), {
        ...courseInput(v),
        id: v.id ?? '',
      });
      return done(c, ui(`/staff/courses/${encodeURIComponent(rec.id)}`), 'st.courseCreated', rec.id);
    } catch (e) {
      const addCourse = refusedForm(g.ctx, e, v, 'st.err.course', fieldOfCode);
      return page(c, g, { back: str(f, 'back'), addCourse });
    }
  });

  registerCoursePages(app, s, register, unitsOf);
}
