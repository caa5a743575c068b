/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Labelled form controls of the register pages (staff, courses, attendance, documents): each keeps
 * what the operator typed after a refusal and shows the field's error right under it, tied to the
 * control for screen readers. One form's state is `FormState`; pages with several forms give each
 * its own ids.
 */
import { isLoaError } from '@loa/protocol';
import { errorSentence, Field, fieldAttrs } from './components.js';
import type { FieldErrors, UiCtx } from './context.js';
import type { MsgKey } from './i18n/index.js';

/** What a form holds: the values typed and the errors of a refused submit. */
export interface FormState {
  values: Record<string, string>;
  errors: FieldErrors;
}

const formValue = (form: FormState | undefined, name: string, fallback?: string) =>
  form?.values[name] ?? fallback ?? '';

function describedBy(form: FormState | undefined, name: string, id: string, hint: boolean) {
  const a = fieldAttrs(form?.errors, name, id);
  const ids = [a['aria-describedby'], hint ? `${id}-hint` : undefined].filter(Boolean).join(' ');
  return { ...a, ...(ids ? { 'aria-describedby': ids } : {}) };
}

/** A labelled input (text, date, number, tel, file). */
export function Input(props: {
  ctx: UiCtx;
  id: string;
  name: string;
  label: string;
  form?: FormState | undefined;
  /** The value shown when the form has none (an edit form's stored value). */
  value?: string | undefined;
  type?: 'text' | 'date' | 'number' | 'tel' | 'file';
  required?: boolean;
  maxlength?: number;
  min?: string;
  step?: string;
  accept?: string;
  hint?: string;
}) {
  const { form, name, id } = props;
  const attrs = describedBy(form, name, id, props.hint !== undefined);
  return (
    <Field
      ctx={props.ctx}
      name={name}
      id={id}
      label={props.label}
      errors={form?.errors}
      {...(props.hint ? { hint: props.hint } : {})}
    >
      <input
        {...attrs}
        type={props.type ?? 'text'}
        {...(props.type === 'file' ? {} : { value: formValue(form, name, props.value) })}
        required={props.required}
        maxlength={props.maxlength}
        min={props.min}
        step={props.step}
        accept={props.accept}
      />
    </Field>
  );
}

/** A labelled select; `options` are [value, label] pairs. */
export function Select(props: {
  ctx: UiCtx;
  id: string;
  name: string;
  label: string;
  options: readonly (readonly [string, string])[];
  form?: FormState | undefined;
  value?: string | undefined;
  required?: boolean;
  /** A first option with an empty value ("Tất cả"). */
  empty?: string;
}) {
  const { form, name, id } = props;
  const chosen = formValue(form, name, props.value);
  return (
    <Field ctx={props.ctx} name={name} id={id} label={props.label} errors={form?.errors}>
      <select {...fieldAttrs(form?.errors, name, id)} required={props.required}>
        {props.empty !== undefined ? <option value="">{props.empty}</option> : null}
        {props.options.map(([v, label]) => (
          <option value={v} selected={chosen === v}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The unit a record belongs to, among the units in the operator's scope ([path, name] pairs). */
export function UnitSelect(props: {
  ctx: UiCtx;
  id: string;
  units: readonly (readonly [string, string])[];
  form?: FormState | undefined;
  value?: string | undefined;
}) {
  return (
    <Select
      ctx={props.ctx}
      id={props.id}
      name="unit"
      label={props.ctx.t('common.unit')}
      options={props.units}
      form={props.form}
      value={props.value}
    />
  );
}

/** A checkbox with its label; `checked` until the form holds a value for it ('1' or ''). */
export function Check(props: {
  id: string;
  name: string;
  label: string;
  form?: FormState | undefined;
  checked: boolean;
}) {
  const v = props.form?.values[props.name];
  const on = v === undefined ? props.checked : v === '1';
  return (
    <label class="check" for={props.id}>
      <input type="checkbox" id={props.id} name={props.name} value="1" checked={on} /> {props.label}
    </label>
  );
}

/**
 * A refused submit as field errors: the schema's issues each under their field (a Vietnamese
 * sentence per field from `<prefix>.<field>` when the table has one), any other refusal under the
 * field `fieldOfCode` names (or the whole form) in words from the error-code table. Forbidden and
 * unknown errors go on to the dashboard's error page.
 */
export function refusedForm(
  ctx: UiCtx,
  e: unknown,
  values: Record<string, string>,
  prefix: string,
  fieldOfCode: (code: string) => string = () => '_form',
): FormState {
  if (!isLoaError(e) || e.code.startsWith('FORBIDDEN') || e.code === 'CSRF_INVALID') throw e;
  const errors: FieldErrors = {};
  const issues = (e.details as { issues?: { path: string[]; message: string }[] } | undefined)?.issues;
  if (issues && issues.length > 0) {
    for (const i of issues) {
      const field = i.path[0] ?? '_form';
      const key = `${prefix}.${field}` as MsgKey;
      errors[field] ??= ctx.t(key) === key ? i.message : { key };
    }
  } else errors[fieldOfCode(e.code)] = errorSentence(ctx, e.code, e.message);
  return { values, errors };
}
