/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { FieldErrors, UiCtx } from './context.js';
import type { MsgKey } from './i18n/index.js';
import { ageParts, formatDateTime } from './time.js';

/** The translated message of a field error, or undefined. */
export function errorText(ctx: UiCtx, errors: FieldErrors | undefined, name: string): string | undefined {
  const e = errors?.[name];
  if (e === undefined) return undefined;
  return typeof e === 'string' ? e : ctx.t(e.key, e.params);
}

/** A labelled form control with its error message right under it (aria-described). */
export function Field(props: {
  ctx: UiCtx;
  name: string;
  label: string;
  errors?: FieldErrors | undefined;
  hint?: string;
  /** The control's id when it is not `f-<name>` (two forms on one page). */
  id?: string;
  children: Child;
}) {
  const err = errorText(props.ctx, props.errors, props.name);
  const id = props.id ?? `f-${props.name}`;
  return (
    <div class={err ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <small class="hint" id={`${id}-hint`}>
          {props.hint}
        </small>
      ) : null}
      {err ? (
        <p class="error" id={`${id}-error`} data-error-for={props.name} role="alert">
          {err}
        </p>
      ) : null}
    </div>
  );
}

/** Attributes tying an input to its Field (id, aria-invalid, aria-describedby). */
export function fieldAttrs(
  errors: FieldErrors | undefined,
  name: string,
  id = `f-${name}`,
): { id: string; name: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  const bad = errors?.[name] !== undefined;
  return bad ? { id, name, 'aria-invalid': 'true', 'aria-describedby': `${id}-error` } : { id, name };
}

export function Csrf(props: { ctx: UiCtx }) {
  return <input type="hidden" name="_csrf" value={props.ctx.csrf} />;
}

export function FormErrorSummary(props: { ctx: UiCtx; errors?: FieldErrors | undefined }) {
  if (!props.errors || Object.keys(props.errors).length === 0) return null;
  const general = errorText(props.ctx, props.errors, '_form');
  return (
    <p class="flash error" role="alert">
      {general ?? props.ctx.t('err.formHasErrors')}
    </p>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

export function Badge(props: { tone: Tone; children: Child; title?: string }) {
  return (
    <span class={`badge ${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** A horizontal bar; `parts` are stacked segments (value, tone, label). */
export function Bar(props: { total: number; parts: { value: number; tone: Tone; label: string }[] }) {
  const total = Math.max(1, props.total);
  return (
    <div class="bar" role="img" aria-label={props.parts.map((p) => `${p.label}: ${p.value}`).join(', ')}>
      {props.parts
        .filter((p) => p.value > 0)
        .map((p) => (
          <span
            class={`seg ${p.tone}`}
            style={`width:${((p.value / total) * 100).toFixed(2)}%`}
            title={p.label}
          />
        ))}
    </div>
  );
}

/** "3 phút trước" with the exact time in a title. */
export function Ago(props: { ctx: UiCtx; at: string | undefined }) {
  const { ctx, at } = props;
  if (!at) return <span class="muted">{ctx.t('common.never')}</span>;
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) return <span class="muted">{ctx.t('common.unknown')}</span>;
  const a = ageParts(ms, ctx.now);
  const key =
    a.unit === 's'
      ? 'common.secondsAgo'
      : a.unit === 'm'
        ? 'common.minutesAgo'
        : a.unit === 'h'
          ? 'common.hoursAgo'
          : 'common.daysAgo';
  return (
    <time datetime={at} title={formatDateTime(at, true)}>
      {ctx.t(key, { n: a.n })}
    </time>
  );
}

export function Empty(props: { children: Child }) {
  return <p class="empty">{props.children}</p>;
}

export function Section(props: { title: string; children: Child; id?: string; actions?: Child }) {
  return (
    <section class="card" id={props.id}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions ?? null}
      </header>
      {props.children}
    </section>
  );
}

/** "12:05" → 725 s style durations "1:02:05" / "2:05". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** A station's error code in words (the table of known codes), else its own message. */
export function errorSentence(ctx: UiCtx, code: string, message: string): string {
  const key = `errc.${code}` as MsgKey;
  const words = ctx.t(key);
  return words === key ? message : words;
}

/**
 * A station's error as an operator reads it: a sentence for a known code (else the station's own
 * message), the code in small type, the code and the raw message on hover.
 */
export function ErrorWords(props: { ctx: UiCtx; code: string; message: string }) {
  const { ctx, code, message } = props;
  return (
    <span class="error-words" title={`${code}: ${message}`} data-error-code={code}>
      {errorSentence(ctx, code, message)} <small class="muted">{ctx.t('error.code', { code })}</small>
    </span>
  );
}
