/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The pronunciation lexicon ("Từ điển đọc", /ui/content/lexicon): editors add, change and remove
 * how written forms are read in spoken bulletins of their units. Every action goes through the
 * lexicon API (validation with stable codes, scope, audit); refusals come back next to the field.
 */
import type { Hono } from 'hono';
import type { LexiconEntryRecord } from '../../../domain/model.js';
import { can, inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { type ApiResult, callApi } from '../api-client.js';
import { Csrf, Empty, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { unitLabels } from '../unit-labels.js';

interface LexiconVm {
  entries: LexiconEntryRecord[];
  units: { path: string; name: string }[];
  canWrite: boolean;
  add?: { values: Record<string, string>; errors: FieldErrors };
  /** A row whose change was refused: its values and errors. */
  edit?: { id: string; values: Record<string, string>; errors: FieldErrors };
}

/** Where a refusal of the lexicon API is shown: the written form, the spoken form or the unit. */
function fieldOfCode(code: string, prefix: string): string {
  if (code.startsWith('LEXICON_TO')) return `${prefix}to`;
  if (code === 'FORBIDDEN_SCOPE' || code === 'UNIT_NOT_FOUND') return `${prefix}unit`;
  return `${prefix}from`;
}

function refusal(r: Extract<ApiResult<unknown>, { ok: false }>, prefix: string): FieldErrors {
  if (r.code === 'VALIDATION_FAILED') {
    const out: FieldErrors = {};
    for (const i of r.issues) out[`${prefix}${i.path[0] ?? 'from'}`] ??= i.message;
    return Object.keys(out).length ? out : { _form: r.message };
  }
  return { [fieldOfCode(r.code, prefix)]: r.message };
}

function EntryRow(props: { ctx: UiCtx; e: LexiconEntryRecord; vm: LexiconVm }) {
  const { ctx, e, vm } = props;
  const t = ctx.t;
  const mine = vm.edit?.id === e.id ? vm.edit : undefined;
  const err = mine?.errors;
  const v = mine?.values ?? { e_from: e.from, e_to: e.to };
  const id = encodeURIComponent(e.id);
  const unitName = vm.units.find((u) => u.path === e.unit)?.name ?? e.unit;
  return (
    <li class="lex-row" data-entry={e.id} id={`lx-${e.id}`}>
      <div class="lex-where muted">
        <span title={e.unit}>{unitName}</span> · {t(`lang.${e.lang}` as MsgKey)}
      </div>
      {vm.canWrite && inScope(ctx.user ? { scope: ctx.user.scope } : { scope: [] }, e.unit) ? (
        <>
          <form method="post" action={ui(`/content/lexicon/${id}#lx-${e.id}`)} class="lex-edit" novalidate>
            <Csrf ctx={ctx} />
            <Field ctx={ctx} name={`e_from_${e.id}`} label={t('lex.from')} errors={remap(err, e.id)}>
              <input
                {...fieldAttrs(remap(err, e.id), `e_from_${e.id}`)}
                value={v.e_from ?? ''}
                maxlength={60}
              />
            </Field>
            <Field ctx={ctx} name={`e_to_${e.id}`} label={t('lex.to')} errors={remap(err, e.id)}>
              <input {...fieldAttrs(remap(err, e.id), `e_to_${e.id}`)} value={v.e_to ?? ''} maxlength={200} />
            </Field>
            <div class="actions">
              <button type="submit" class="secondary" aria-label={`${t('lex.save')}: ${e.from}`}>
                {t('lex.save')}
              </button>
            </div>
          </form>
          <form
            method="post"
            action={ui(`/content/lexicon/${id}/delete`)}
            class="lex-delete"
            data-confirm={t('lex.deleteConfirm', { from: e.from })}
          >
            <Csrf ctx={ctx} />
            <button type="submit" class="danger" aria-label={`${t('lex.delete')}: ${e.from}`}>
              {t('lex.delete')}
            </button>
          </form>
        </>
      ) : (
        <p>
          <strong>{e.from}</strong> → {e.to}
        </p>
      )}
    </li>
  );
}

/** Row errors are keyed e_from/e_to; the row's inputs carry the entry id in their names. */
function remap(err: FieldErrors | undefined, id: string): FieldErrors | undefined {
  if (!err) return undefined;
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(err)) out[k === '_form' ? k : `${k}_${id}`] = v;
  return out;
}

function LexiconPage(props: { ctx: UiCtx; vm: LexiconVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const e = vm.add?.errors;
  const v = vm.add?.values ?? {};
  const labels = unitLabels(vm.units);
  return (
    <Layout ctx={ctx} title={t('lex.title')}>
      <p>
        <a href={ui('/content#speak')}>← {t('lex.back')}</a>
      </p>
      <p class="muted">{t('lex.hint')}</p>
      {vm.canWrite ? (
        <Section title={t('lex.add')} id="lex-add">
          <FormErrorSummary ctx={ctx} errors={e} />
          <form method="post" action={ui('/content/lexicon')} class="stack lex-add" novalidate>
            <Csrf ctx={ctx} />
            <div class="grid">
              <Field ctx={ctx} name="a_from" label={t('lex.from')} errors={e} hint={t('lex.fromHint')}>
                <input {...fieldAttrs(e, 'a_from')} value={v.a_from ?? ''} maxlength={60} />
              </Field>
              <Field ctx={ctx} name="a_to" label={t('lex.to')} errors={e} hint={t('lex.toHint')}>
                <input {...fieldAttrs(e, 'a_to')} value={v.a_to ?? ''} maxlength={200} />
              </Field>
            </div>
            <div class="grid">
              <Field ctx={ctx} name="a_unit" label={t('common.unit')} errors={e}>
                <select {...fieldAttrs(e, 'a_unit')}>
                  {vm.units.map((u) => (
                    <option value={u.path} selected={v.a_unit === u.path}>
                      {labels.get(u.path) ?? u.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field
                ctx={ctx}
                name="a_lang"
                label={t('common.language')}
                errors={e}
                hint="vi, hmn, tay, dao, km…"
              >
                <input {...fieldAttrs(e, 'a_lang')} value={v.a_lang ?? 'vi'} maxlength={12} />
              </Field>
            </div>
            <div class="actions">
              <button type="submit">{t('lex.add')}</button>
            </div>
          </form>
        </Section>
      ) : null}
      <Section title={`${t('lex.title')} · ${t('lex.count', { n: vm.entries.length })}`} id="lex-list">
        {vm.entries.length === 0 ? (
          <Empty>{t('lex.none')}</Empty>
        ) : (
          <ul class="lex-list">
            {vm.entries.map((x) => (
              <EntryRow ctx={ctx} e={x} vm={vm} />
            ))}
          </ul>
        )}
      </Section>
    </Layout>
  );
}

async function load(s: UiServer, c: UiContext, user: AuthUser): Promise<LexiconVm> {
  const r = await callApi<LexiconEntryRecord[]>(s.api, c, 'GET', '/lexicon');
  const units = (await s.deps.store.units.list((u) => inScope(user, u.path)))
    .map((u) => ({ path: u.path, name: u.name }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return { entries: r.ok ? r.data : [], units, canWrite: can(user.role, 'content.write') };
}

export function registerLexiconPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/content/lexicon', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return c.html(<LexiconPage ctx={g.ctx} vm={await load(s, c, g.user)} />);
  });

  app.post('/ui/content/lexicon', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = {
      a_from: str(f, 'a_from'),
      a_to: str(f, 'a_to'),
      a_unit: str(f, 'a_unit'),
      a_lang: str(f, 'a_lang'),
    };
    const r = await callApi(s.api, c, 'POST', '/lexicon', {
      unit: values.a_unit,
      lang: values.a_lang || 'vi',
      from: values.a_from,
      to: values.a_to,
    });
    if (r.ok) return done(c, ui('/content/lexicon'), 'lex.added');
    const vm = await load(s, c, g.user);
    return c.html(<LexiconPage ctx={g.ctx} vm={{ ...vm, add: { values, errors: refusal(r, 'a_') } }} />, 400);
  });

  app.post('/ui/content/lexicon/:id', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const values = { e_from: str(f, `e_from_${id}`), e_to: str(f, `e_to_${id}`) };
    const r = await callApi(s.api, c, 'PATCH', `/lexicon/${encodeURIComponent(id)}`, {
      from: values.e_from,
      to: values.e_to,
    });
    if (r.ok) return done(c, ui('/content/lexicon'), 'lex.updated');
    const vm = await load(s, c, g.user);
    const errors = refusal(r, 'e_');
    if (r.status === 404) {
      const ctx = { ...g.ctx, flash: { kind: 'error' as const, text: r.message } };
      return c.html(<LexiconPage ctx={ctx} vm={vm} />, 404);
    }
    return c.html(<LexiconPage ctx={g.ctx} vm={{ ...vm, edit: { id, values, errors } }} />, 400);
  });

  app.post('/ui/content/lexicon/:id/delete', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const r = await callApi(s.api, c, 'DELETE', `/lexicon/${encodeURIComponent(c.req.param('id'))}`);
    if (r.ok) return done(c, ui('/content/lexicon'), 'lex.deleted');
    const ctx = { ...g.ctx, flash: { kind: 'error' as const, text: r.message } };
    return c.html(<LexiconPage ctx={ctx} vm={await load(s, c, g.user)} />, r.status === 404 ? 404 : 400);
  });
}
