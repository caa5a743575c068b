/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The forms of the staff and training register, each used to add and to change a record: a staff
 * member, a training course, one staff member's attendance of a course; and the delete button that
 * asks first. The values come back after a refusal with the error under its field.
 */
import type { Child } from 'hono/jsx';
import { can, inScope, type Principal } from '../../../domain/rbac.js';
import type { AttendanceRecord, CourseRecord, StaffRecord } from '../../../domain/staff.js';
import type { StaffView } from '../../../services/staff-register.js';
import { Csrf, FormErrorSummary, Section } from '../components.js';
import type { UiCtx } from '../context.js';
import { Check, type FormState, Input, Select, UnitSelect } from '../form-inputs.js';
import { type FormFields, sessionActor, str } from '../shared.js';

export type Units = readonly (readonly [string, string])[];

export const staffActor = sessionActor;

/** Whether the user may change the register's records of a unit: staff.manage, and the unit in scope. */
export const staffChanger =
  (user: Pick<Principal, 'role' | 'scope'>) =>
  (unit: string): boolean =>
    can(user.role, 'staff.manage') && inScope(user, unit);
export const dayVi = (d: string | undefined) => (d ? d.split('-').reverse().join('/') : '');

/** Where a refusal of the staff or course form is shown, by its code. */
export const fieldOfCode = (code: string): string =>
  code.endsWith('_EXISTS') ? 'id' : code === 'UNIT_NOT_FOUND' ? 'unit' : '_form';

/** Optional fields: an empty box means none (on a change, the stored value is removed). */
export const optional = (v: Record<string, string>, keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, v[k] ? v[k] : undefined]));

export const courseInput = (v: Record<string, string>) => {
  const hours = Number((v.hours ?? '').replace(',', '.'));
  return {
    unit: v.unit ?? '',
    title: v.title ?? '',
    date: v.date ?? '',
    organiser: v.organiser ?? '',
    // an empty or unreadable number is refused by the schema with the field's sentence
    hours: v.hours && Number.isFinite(hours) ? hours : Number.NaN,
    topics: (v.topics ?? '')
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean),
    ...optional(v, ['endDate', 'notes']),
  };
};

/** The staff form's fields as typed (strings), from a stored record. */
export function staffValues(s: Omit<StaffRecord, 'createdAt' | 'updatedAt'> | StaffView) {
  return {
    id: s.id,
    unit: s.unit,
    name: s.name,
    position: s.position,
    phone: s.phone ?? '',
    hiredOn: s.hiredOn ?? '',
    leftOn: s.leftOn ?? '',
    notes: s.notes ?? '',
  };
}

export function courseValues(c: CourseRecord) {
  return {
    id: c.id,
    unit: c.unit,
    title: c.title,
    date: c.date,
    endDate: c.endDate ?? '',
    organiser: c.organiser,
    // a number box takes the dot; the form reads a comma too
    hours: String(c.hours),
    topics: c.topics.join('; '),
    notes: c.notes ?? '',
  };
}

export function attendanceValues(a: AttendanceRecord) {
  return {
    staffId: a.staffId,
    completed: a.completed ? '1' : '',
    certificateNo: a.certificateNo ?? '',
    certificateDate: a.certificateDate ?? '',
  };
}

/** The fields a form posted, as strings (an unchecked box is ''). */
export const postedValues = (f: FormFields, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.map((k) => [k, str(f, k)]));

export const STAFF_KEYS = ['id', 'unit', 'name', 'position', 'phone', 'hiredOn', 'leftOn', 'notes'] as const;
export const COURSE_KEYS = [
  'id',
  'unit',
  'title',
  'date',
  'endDate',
  'organiser',
  'hours',
  'topics',
  'notes',
] as const;
export const ATTENDANCE_KEYS = ['staffId', 'completed', 'certificateNo', 'certificateDate'] as const;

type RecordFormProps = {
  ctx: UiCtx;
  action: string;
  units: Units;
  form: FormState;
  /** Prefix of the control ids (several forms on one page). */
  p: string;
  /** Changing a stored record: its code is fixed, its notes can be written. */
  edit: boolean;
  /** The unit the list page returns to. */
  back?: string;
};

/**
 * The frame of a register record's form: the unit, the code (typed when adding, fixed when
 * changing), the record's own fields, notes when changing, and the submit button.
 */
function RecordForm(props: RecordFormProps & { codeLabel: string; submit: string; children: Child }) {
  const { ctx, form, p } = props;
  const t = ctx.t;
  return (
    <form method="post" action={props.action} class="stack" novalidate>
      <Csrf ctx={ctx} />
      {props.back !== undefined ? <input type="hidden" name="back" value={props.back} /> : null}
      <FormErrorSummary ctx={ctx} errors={form.errors} />
      <UnitSelect ctx={ctx} id={`${p}unit`} units={props.units} form={form} />
      {props.edit ? (
        <input type="hidden" name="id" value={form.values.id ?? ''} />
      ) : (
        <Input
          ctx={ctx}
          id={`${p}id`}
          name="id"
          label={props.codeLabel}
          form={form}
          required
          maxlength={64}
        />
      )}
      {props.children}
      {props.edit ? (
        <Input ctx={ctx} id={`${p}notes`} name="notes" label={t('st.notes')} form={form} maxlength={2000} />
      ) : null}
      <button type="submit">{props.submit}</button>
    </form>
  );
}

/** Add or change a staff member. */
export function StaffForm(props: RecordFormProps) {
  const { ctx, form, p } = props;
  const t = ctx.t;
  return (
    <RecordForm {...props} codeLabel={t('st.code')} submit={t(props.edit ? 'st.save' : 'st.add')}>
      <Input
        ctx={ctx}
        id={`${p}name`}
        name="name"
        label={t('st.name')}
        form={form}
        required
        maxlength={200}
      />
      <Input
        ctx={ctx}
        id={`${p}position`}
        name="position"
        label={t('st.position')}
        form={form}
        required
        maxlength={200}
      />
      <Input
        ctx={ctx}
        id={`${p}phone`}
        name="phone"
        type="tel"
        label={t('st.phone')}
        form={form}
        maxlength={20}
      />
      <Input ctx={ctx} id={`${p}hired`} name="hiredOn" type="date" label={t('st.hiredOn')} form={form} />
      {props.edit ? (
        <Input ctx={ctx} id={`${p}left`} name="leftOn" type="date" label={t('st.leftOn')} form={form} />
      ) : null}
    </RecordForm>
  );
}

/** Add or change a training course. */
export function CourseForm(props: RecordFormProps) {
  const { ctx, form, p } = props;
  const t = ctx.t;
  return (
    <RecordForm {...props} codeLabel={t('st.courseCode')} submit={t(props.edit ? 'st.save' : 'st.addCourse')}>
      <Input
        ctx={ctx}
        id={`${p}title`}
        name="title"
        label={t('st.courseTitle')}
        form={form}
        required
        maxlength={300}
      />
      <Input
        ctx={ctx}
        id={`${p}date`}
        name="date"
        type="date"
        label={t('st.courseDate')}
        form={form}
        required
      />
      <Input ctx={ctx} id={`${p}end`} name="endDate" type="date" label={t('st.courseEnd')} form={form} />
      <Input
        ctx={ctx}
        id={`${p}org`}
        name="organiser"
        label={t('st.organiser')}
        form={form}
        required
        maxlength={300}
      />
      <Input
        ctx={ctx}
        id={`${p}hours`}
        name="hours"
        type="number"
        min="0.5"
        step="0.5"
        label={t('st.hours')}
        form={form}
        required
      />
      <Input
        ctx={ctx}
        id={`${p}topics`}
        name="topics"
        label={t('st.topics')}
        form={form}
        hint={t('st.topicsHint')}
      />
    </RecordForm>
  );
}

/** Record (or change) one staff member's attendance of a course. */
export function AttendanceForm(props: {
  ctx: UiCtx;
  action: string;
  staff: StaffView[];
  names: Map<string, string>;
  form: FormState;
  editing: boolean;
}) {
  const { ctx, form } = props;
  const t = ctx.t;
  return (
    <form method="post" action={props.action} class="stack" novalidate>
      <Csrf ctx={ctx} />
      <FormErrorSummary ctx={ctx} errors={form.errors} />
      <Select
        ctx={ctx}
        id="a-staff"
        name="staffId"
        label={t('st.pick')}
        required
        form={form}
        options={props.staff.map((s) => [s.id, `${s.name} · ${props.names.get(s.unit) ?? s.unit}`] as const)}
      />
      <Check id="a-completed" name="completed" label={t('st.completed')} form={form} checked />
      <Input
        ctx={ctx}
        id="a-cert"
        name="certificateNo"
        label={t('st.certificate')}
        form={form}
        maxlength={100}
      />
      <Input
        ctx={ctx}
        id="a-date"
        name="certificateDate"
        type="date"
        label={t('st.certificateDate')}
        form={form}
      />
      <button type="submit">{t(props.editing ? 'st.save' : 'st.record')}</button>
    </form>
  );
}

interface RowActionsProps {
  ctx: UiCtx;
  edit: string;
  del: string;
  confirm: string;
  what: string;
}

/**
 * A row's last cell: there when the reader manages the register (`manage`), with the row's edit
 * link and delete button when the row's unit is theirs to change (`may`).
 */
export function ActionsCell(props: RowActionsProps & { manage: boolean; may: boolean }) {
  if (!props.manage) return null;
  return <td>{props.may ? <RowActions {...props} /> : null}</td>;
}

/** A record's own page: the form that changes it beside the removal (which asks first). */
export function EditAndDelete(props: {
  ctx: UiCtx;
  /** The form's section title and id. */
  edit: { title: string; id: string };
  /** The removal's section title (also its button's label), id and hint; its form's action and question. */
  del: { title: string; id: string; hint: string; action: string; confirm: string; what: string };
  children: Child;
}) {
  const { del } = props;
  return (
    <div class="grid-2">
      <Section title={props.edit.title} id={props.edit.id}>
        {props.children}
      </Section>
      <Section title={del.title} id={del.id}>
        <p class="hint">{del.hint}</p>
        <DeleteButton
          ctx={props.ctx}
          action={del.action}
          confirm={del.confirm}
          label={del.title}
          what={del.what}
        />
      </Section>
    </div>
  );
}

/** A row's edit link and delete button (which asks first). */
export function RowActions(props: RowActionsProps) {
  const t = props.ctx.t;
  return (
    <div class="row-actions">
      <a class="button secondary" href={props.edit} aria-label={`${t('st.edit')}: ${props.what}`}>
        {t('st.edit')}
      </a>
      <DeleteButton
        ctx={props.ctx}
        action={props.del}
        confirm={props.confirm}
        label={t('st.delete')}
        what={props.what}
      />
    </div>
  );
}

/** A delete button that asks first (the browser's confirm; the server audits the removal). */
export function DeleteButton(props: {
  ctx: UiCtx;
  action: string;
  confirm: string;
  label: string;
  what: string;
}) {
  return (
    <form method="post" action={props.action} data-confirm={props.confirm}>
      <Csrf ctx={props.ctx} />
      <button type="submit" class="danger" aria-label={`${props.label}: ${props.what}`}>
        {props.label}
      </button>
    </form>
  );
}
