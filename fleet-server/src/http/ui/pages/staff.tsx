/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Staff and training in the dashboard: the staff of the units in the reader's scope with the
 * training indicator, import from a spreadsheet (errors per line, nothing imported on error),
 * export, adding staff and courses, and one course's attendance with certificates. Phone numbers
 * only for roles holding staff.contact (the service audits their reading).
 */
import { isLoaError, LoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { can, inScope } from '../../../domain/rbac.js';
import { periodOf } from '../../../domain/reports/period.js';
import { type ImportError, parseCsv } from '../../../domain/sheet.js';
import type { TrainingFigures } from '../../../domain/staff.js';
import { readXlsxRows } from '../../../services/report-files.js';
import type { ReportService } from '../../../services/report-service.js';
import type { CourseView, StaffActor, StaffRegister, StaffView } from '../../../services/staff-register.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Badge, Csrf, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
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

export const STAFF_IMPORT_MAX_BYTES = 5 * 1024 * 1024;

const actor = (u: AuthUser, ip?: string): StaffActor => ({
  id: u.id,
  username: u.username,
  role: u.role,
  scope: u.scope,
  ip,
  via: 'session',
});
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1).replace('.', ',')}%`);
const dayVi = (d: string | undefined) => (d ? d.split('-').reverse().join('/') : '');

function StaffPage(props: {
  ctx: UiCtx;
  unit: string;
  q: string;
  units: [string, string][];
  staff: StaffView[];
  courses: CourseView[];
  training: TrainingFigures | null;
  manage: boolean;
  importErrors?: ImportError[];
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
        <div class="field">
          <label for="f-unit">{t('common.unit')}</label>
          <select id="f-unit" name="unit">
            {props.units.map(([path, name]) => (
              <option value={path} selected={unit === path}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-q">{t('st.search')}</label>
          <input id="f-q" name="q" value={props.q} />
        </div>
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
            <table id="staff">
              <thead>
                <tr>
                  <th>
                    {t('st.name')} · {t('st.training')}
                  </th>
                  <th>{t('st.position')}</th>
                  <th>{t('common.unit')}</th>
                  {showPhones ? <th>{t('st.phone')}</th> : null}
                  <th>{t('st.hiredOn')}</th>
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
                    <td>{s.position}</td>
                    <td>{names.get(s.unit) ?? s.unit}</td>
                    {showPhones ? <td>{s.phone ?? ''}</td> : null}
                    <td>{dayVi(s.hiredOn)}</td>
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
            <table id="courses">
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
                    <td>
                      {dayVi(c.date)}
                      {c.endDate && c.endDate !== c.date ? ` – ${dayVi(c.endDate)}` : ''}
                    </td>
                    <td>{c.organiser}</td>
                    <td class="num">{String(c.hours).replace('.', ',')}</td>
                    <td class="num">
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
            <form method="post" action={ui('/staff')} class="stack">
              <Csrf ctx={ctx} />
              <input type="hidden" name="back" value={unit} />
              <div class="field">
                <label for="s-unit">{t('common.unit')}</label>
                <select id="s-unit" name="unit">
                  {props.units.map(([path, name]) => (
                    <option value={path} selected={unit === path}>
                      {name}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="s-id">{t('st.code')}</label>
                <input id="s-id" name="id" required maxlength={64} />
              </div>
              <div class="field">
                <label for="s-name">{t('st.name')}</label>
                <input id="s-name" name="name" required maxlength={200} />
              </div>
              <div class="field">
                <label for="s-position">{t('st.position')}</label>
                <input id="s-position" name="position" required maxlength={200} />
              </div>
              <div class="field">
                <label for="s-phone">{t('st.phone')}</label>
                <input id="s-phone" name="phone" type="tel" maxlength={20} />
              </div>
              <div class="field">
                <label for="s-hired">{t('st.hiredOn')}</label>
                <input id="s-hired" name="hiredOn" type="date" />
              </div>
              <button type="submit">{t('st.add')}</button>
            </form>
          </Section>
          <Section title={t('st.import')} id="staff-import">
            <form method="post" action={ui('/staff/import')} enctype="multipart/form-data" class="stack">
              <Csrf ctx={ctx} />
              <input type="hidden" name="back" value={unit} />
              <p class="hint">{t('st.importHint')}</p>
              <div class="field">
                <label for="s-file">{t('st.importFile')}</label>
                <input id="s-file" name="file" type="file" accept=".csv,.xlsx" required />
              </div>
              <button type="submit">{t('st.importDo')}</button>
            </form>
          </Section>
          <Section title={t('st.addCourse')} id="course-add">
            <form method="post" action={ui('/staff/courses')} class="stack">
              <Csrf ctx={ctx} />
              <input type="hidden" name="back" value={unit} />
              <div class="field">
                <label for="c-unit">{t('common.unit')}</label>
                <select id="c-unit" name="unit">
                  {props.units.map(([path, name]) => (
                    <option value={path} selected={unit === path}>
                      {name}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="c-id">{t('st.courseCode')}</label>
                <input id="c-id" name="id" required maxlength={64} />
              </div>
              <div class="field">
                <label for="c-title">{t('st.courseTitle')}</label>
                <input id="c-title" name="title" required maxlength={300} />
              </div>
              <div class="field">
                <label for="c-date">{t('st.courseDate')}</label>
                <input id="c-date" name="date" type="date" required />
              </div>
              <div class="field">
                <label for="c-end">{t('st.courseEnd')}</label>
                <input id="c-end" name="endDate" type="date" />
              </div>
              <div class="field">
                <label for="c-org">{t('st.organiser')}</label>
                <input id="c-org" name="organiser" required maxlength={300} />
              </div>
              <div class="field">
                <label for="c-hours">{t('st.hours')}</label>
                <input id="c-hours" name="hours" type="number" min="0.5" step="0.5" required />
              </div>
              <div class="field">
                <label for="c-topics">{t('st.topics')}</label>
                <input id="c-topics" name="topics" aria-describedby="c-topics-hint" />
                <small class="hint" id="c-topics-hint">
                  {t('st.topicsHint')}
                </small>
              </div>
              <button type="submit">{t('st.addCourse')}</button>
            </form>
          </Section>
        </div>
      ) : null}
    </Layout>
  );
}

function CoursePage(props: {
  ctx: UiCtx;
  course: CourseView;
  lines: Awaited<ReturnType<StaffRegister['attendance']>>;
  staff: StaffView[];
  names: Map<string, string>;
  manage: boolean;
}) {
  const { ctx, course: c } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={c.title}>
      <p>
        <a href={ui('/staff')}>← {t('st.title')}</a>
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
            <table id="attendance-table">
              <thead>
                <tr>
                  <th>{t('st.name')}</th>
                  <th>{t('common.unit')}</th>
                  <th>{t('st.completedOf')}</th>
                  <th>{t('st.certificate')}</th>
                  <th>{t('st.certificateDate')}</th>
                </tr>
              </thead>
              <tbody>
                {props.lines.map((a) => (
                  <tr data-id={a.staffId}>
                    <td>{a.name}</td>
                    <td>{props.names.get(a.unit) ?? a.unit}</td>
                    <td>
                      <Badge tone={a.completed ? 'ok' : 'warn'}>
                        {t(a.completed ? 'st.completed' : 'st.notCompleted')}
                      </Badge>
                    </td>
                    <td>{a.certificateNo ?? ''}</td>
                    <td>{dayVi(a.certificateDate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {props.manage && props.staff.length > 0 ? (
        <Section title={t('st.record')} id="attendance-add">
          <form
            method="post"
            action={ui(`/staff/courses/${encodeURIComponent(c.id)}/attendance`)}
            class="stack"
          >
            <Csrf ctx={ctx} />
            <div class="field">
              <label for="a-staff">{t('st.pick')}</label>
              <select id="a-staff" name="staffId" required>
                {props.staff.map((s) => (
                  <option value={s.id}>
                    {s.name} · {props.names.get(s.unit) ?? s.unit}
                  </option>
                ))}
              </select>
            </div>
            <label class="check">
              <input type="checkbox" name="completed" value="1" checked /> {t('st.completed')}
            </label>
            <div class="field">
              <label for="a-cert">{t('st.certificate')}</label>
              <input id="a-cert" name="certificateNo" maxlength={100} />
            </div>
            <div class="field">
              <label for="a-date">{t('st.certificateDate')}</label>
              <input id="a-date" name="certificateDate" type="date" />
            </div>
            <button type="submit">{t('st.record')}</button>
          </form>
        </Section>
      ) : null}
    </Layout>
  );
}

const opt = (f: FormFields, k: string) => {
  const v = str(f, k);
  return v === '' ? {} : { [k]: v };
};

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

export function registerStaffPages(
  app: Hono<AppEnv>,
  s: UiServer,
  register: StaffRegister,
  reports: ReportService,
): void {
  const unitsOf = async (user: AuthUser): Promise<[string, string][]> =>
    (await s.deps.store.units.list())
      .filter((u) => inScope(user, u.path))
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((u) => [u.path, `${u.name} (${u.path})`]);

  const page = async (
    c: UiContext,
    g: { user: AuthUser; ctx: UiCtx },
    importErrors?: ImportError[],
    back?: string,
  ) => {
    const units = await unitsOf(g.user);
    const want = back ?? c.req.query('unit') ?? '';
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
        {...(importErrors ? { importErrors } : {})}
      />,
      importErrors ? 400 : 200,
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
    const rec = await register.createStaff(actor(g.user, c.get('ip')), {
      id: str(f, 'id'),
      unit: str(f, 'unit'),
      name: str(f, 'name'),
      position: str(f, 'position'),
      ...opt(f, 'phone'),
      ...opt(f, 'hiredOn'),
    });
    return done(c, ui(`/staff?unit=${encodeURIComponent(rec.unit)}`), 'st.created', rec.id);
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
        return page(c, g, (e.details as { errors: ImportError[] }).errors, back);
      throw e;
    }
  });

  app.post(ui('/staff/courses'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const hours = Number(str(f, 'hours').replace(',', '.'));
    const rec = await register.createCourse(actor(g.user, c.get('ip')), {
      id: str(f, 'id'),
      unit: str(f, 'unit'),
      title: str(f, 'title'),
      date: str(f, 'date'),
      ...opt(f, 'endDate'),
      organiser: str(f, 'organiser'),
      hours: Number.isFinite(hours) ? hours : 0,
      topics: str(f, 'topics')
        .split(';')
        .map((x) => x.trim())
        .filter(Boolean),
    });
    return done(c, ui(`/staff/courses/${encodeURIComponent(rec.id)}`), 'st.courseCreated', rec.id);
  });

  app.get(ui('/staff/courses/:id'), async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const a = actor(g.user, c.get('ip'));
    const id = c.req.param('id') ?? '';
    const course = (await register.listCourses(a)).find((x) => x.id === id);
    if (!course) return c.notFound();
    const manage = can(g.user.role, 'staff.manage');
    return c.html(
      <CoursePage
        ctx={g.ctx}
        course={course}
        lines={await register.attendance(a, id)}
        // the picker needs names only: read without phone numbers (nothing personal to audit)
        staff={manage ? (await register.listStaff({ ...a, role: 'viewer' })).filter((x) => !x.leftOn) : []}
        names={new Map((await unitsOf(g.user)).map(([p, n]) => [p, n]))}
        manage={manage}
      />,
    );
  });

  app.post(ui('/staff/courses/:id/attendance'), async (c) => {
    const g = await guard(c, s, 'staff.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id') ?? '';
    const staffId = str(f, 'staffId');
    await register.recordAttendance(actor(g.user, c.get('ip')), id, staffId, {
      completed: str(f, 'completed') === '1',
      ...opt(f, 'certificateNo'),
      ...opt(f, 'certificateDate'),
    });
    return done(c, ui(`/staff/courses/${encodeURIComponent(id)}`), 'st.recorded', staffId);
  });
}
