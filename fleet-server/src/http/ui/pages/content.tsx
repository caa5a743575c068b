/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Content library: list with audio preview, upload with a progress bar, text bulletins, and the
 * spoken content (recording in the browser, text read aloud: content-speech.tsx).
 */
import { LanguageSchema, UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import type { ContentRecord } from '../../../domain/model.js';
import { can, inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import {
  Badge,
  Csrf,
  Empty,
  Field,
  FormErrorSummary,
  fieldAttrs,
  formatDuration,
  Section,
} from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { userNames } from '../data.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { recorderLimits } from '../recorder.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';
import { unitLabels } from '../unit-labels.js';
import {
  RecordSection,
  registerSpeechPages,
  SpeakSection,
  type SpeakState,
  type SpeechInfo,
  type VoiceOption,
} from './content-speech.js';

export const CATEGORIES = [
  'news',
  'announcement',
  'policy',
  'agriculture',
  'health',
  'disaster',
  'culture',
  'other',
  'ticker',
] as const;
const DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024;

interface FormState {
  values: Record<string, string>;
  errors?: FieldErrors;
}

interface ContentVm {
  items: ContentRecord[];
  names: ReadonlyMap<string, string>;
  canWrite: boolean;
  /** Showing the archived entries (restore or delete) instead of the library in use. */
  archived: boolean;
  units: { path: string; name: string }[];
  upload?: FormState;
  text?: FormState;
  speech: SpeechInfo;
  speak?: SpeakState;
}

/** A label from the table (`kind.audio`, `lang.vi`), or the raw value when there is none. */
function label(ctx: UiCtx, prefix: string, v: string): string {
  const key = `${prefix}.${v}` as MsgKey;
  const out = ctx.t(key);
  return out === key ? v : out;
}

/** Archive (or restore) and delete, each a small form; delete asks first. */
function ContentActions(props: { ctx: UiCtx; c: ContentRecord }) {
  const { ctx, c } = props;
  const t = ctx.t;
  const id = encodeURIComponent(c.id);
  return (
    <div class="row-actions">
      <form method="post" action={ui(`/content/${id}/${c.archivedAt ? 'restore' : 'archive'}`)}>
        <Csrf ctx={ctx} />
        <button
          type="submit"
          class="secondary"
          aria-label={`${t(c.archivedAt ? 'content.restore' : 'content.archive')}: ${c.title}`}
        >
          {t(c.archivedAt ? 'content.restore' : 'content.archive')}
        </button>
      </form>
      <form
        method="post"
        action={ui(`/content/${id}/delete`)}
        data-confirm={t('content.deleteConfirm', { title: c.title })}
      >
        <Csrf ctx={ctx} />
        <button type="submit" class="danger" aria-label={`${t('content.delete')}: ${c.title}`}>
          {t('content.delete')}
        </button>
      </form>
    </div>
  );
}

export function categoryLabel(ctx: UiCtx, c: string | undefined): string {
  if (!c) return '—';
  const key = `cat.${c}` as MsgKey;
  const v = ctx.t(key);
  return v === key ? c : v;
}

function MetaFields(props: {
  ctx: UiCtx;
  f?: FormState | undefined;
  units: { path: string; name: string }[];
  prefix: string;
}) {
  const { ctx, f } = props;
  const t = ctx.t;
  const e = f?.errors;
  const v = f?.values ?? {};
  const p = props.prefix;
  const labels = unitLabels(props.units);
  return (
    <>
      <Field ctx={ctx} name={`${p}title`} label={t('content.titleField')} errors={e}>
        <input {...fieldAttrs(e, `${p}title`)} value={v[`${p}title`] ?? ''} maxlength={300} />
      </Field>
      <Field ctx={ctx} name={`${p}unit`} label={t('common.unit')} errors={e}>
        <select {...fieldAttrs(e, `${p}unit`)}>
          {props.units.map((u) => (
            <option value={u.path} selected={v[`${p}unit`] === u.path}>
              {labels.get(u.path) ?? u.name}
            </option>
          ))}
        </select>
      </Field>
      <Field
        ctx={ctx}
        name={`${p}lang`}
        label={t('common.language')}
        errors={e}
        hint="vi, hmn, tay, dao, km…"
      >
        <input {...fieldAttrs(e, `${p}lang`)} value={v[`${p}lang`] ?? 'vi'} />
      </Field>
      <Field ctx={ctx} name={`${p}category`} label={t('common.category')} errors={e}>
        <select {...fieldAttrs(e, `${p}category`)}>
          {CATEGORIES.map((c) => (
            <option value={c} selected={v[`${p}category`] === c}>
              {t(`cat.${c}` as MsgKey)}
            </option>
          ))}
        </select>
      </Field>
      <p class="field">
        <label>
          <input type="checkbox" name={`${p}public`} value="true" checked={v[`${p}public`] === 'true'} />{' '}
          {t('content.public')}
        </label>
      </p>
    </>
  );
}

/**
 * The board preview: the noticeboard page itself (protocol/kiosk, served at /kiosk/ by this
 * server) in a 16:9 frame, fed by assets/bulletin-preview.js from the bulletin form as it is
 * typed, or from a library item's preview button.
 */
function BoardPreview(props: { ctx: UiCtx }) {
  const t = props.ctx.t;
  return (
    <Section title={t('content.preview.title')} id="board-preview">
      <p class="muted">{t('content.preview.hint')}</p>
      <div
        class="board-preview"
        style="position:relative;width:100%;max-width:960px;aspect-ratio:16/9;overflow:hidden;border:1px solid #8886"
      >
        <iframe
          src="/kiosk/?preview"
          title={t('content.preview.title')}
          data-board-preview
          width="1280"
          height="720"
          style="position:absolute;left:0;top:0;border:0;transform-origin:0 0"
        />
      </div>
      <p
        data-preview-status
        role="status"
        data-msg-pages={t('content.preview.pages', { n: '{n}', s: '{s}' })}
        data-msg-toolong={t('content.preview.tooLong', { n: '{n}', s: '{s}' })}
        data-msg-error={t('content.preview.error', { code: '{code}' })}
      />
    </Section>
  );
}

function PreviewButton(props: { ctx: UiCtx; c: ContentRecord }) {
  const { c } = props;
  return (
    <button
      type="button"
      class="secondary"
      data-preview-item={c.kind}
      data-title={c.title}
      data-category={c.category ?? ''}
      data-lang={c.lang}
      data-issuer={c.issuer ?? ''}
      data-dated={c.dated ?? ''}
      data-seconds={c.durationMs ? String(Math.round(c.durationMs / 1000)) : ''}
      data-text={c.text ?? ''}
      data-src={c.sha256 ? `/blobs/${c.sha256}` : ''}
      data-media-type={c.mediaType ?? ''}
    >
      {props.ctx.t('content.preview.show')}
    </button>
  );
}

function ContentPage(props: { ctx: UiCtx; vm: ContentVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const ue = vm.upload?.errors;
  const te = vm.text?.errors;
  return (
    <Layout
      ctx={ctx}
      title={t('content.title')}
      scripts={[ui('/assets/bulletin-preview.js'), ui('/assets/recorder.js'), ui('/assets/speak.js')]}
    >
      {vm.canWrite ? (
        <div class="grid">
          <Section title={t('content.upload')} id="upload">
            <FormErrorSummary ctx={ctx} errors={ue} />
            <form
              method="post"
              action={ui('/content/upload')}
              enctype="multipart/form-data"
              class="stack"
              data-upload
              novalidate
            >
              <Csrf ctx={ctx} />
              <Field ctx={ctx} name="file" label={t('content.file')} errors={ue}>
                <input
                  {...fieldAttrs(ue, 'file')}
                  type="file"
                  accept="audio/*,image/png,image/jpeg,image/webp,video/mp4"
                />
              </Field>
              <MetaFields ctx={ctx} f={vm.upload} units={vm.units} prefix="" />
              <div class="upload-progress" hidden>
                <progress max="100" value="0" />
                <span data-progress-label data-template={t('content.progress', { p: '{p}' })} />
              </div>
              <div class="actions">
                <button type="submit">{t('content.upload')}</button>
              </div>
            </form>
          </Section>
          <Section title={t('content.text')} id="text">
            <FormErrorSummary ctx={ctx} errors={te} />
            <form method="post" action={ui('/content/text')} class="stack" novalidate data-bulletin-form>
              <Csrf ctx={ctx} />
              <MetaFields ctx={ctx} f={vm.text} units={vm.units} prefix="t_" />
              <Field ctx={ctx} name="t_text" label={t('content.textBody')} errors={te}>
                <textarea {...fieldAttrs(te, 't_text')} rows={5} maxlength={20000}>
                  {vm.text?.values.t_text ?? ''}
                </textarea>
              </Field>
              <Field
                ctx={ctx}
                name="t_issuer"
                label={t('content.issuer')}
                errors={te}
                hint={t('content.issuerHint')}
              >
                <input
                  {...fieldAttrs(te, 't_issuer')}
                  value={vm.text?.values.t_issuer ?? ''}
                  maxlength={200}
                />
              </Field>
              <div class="grid">
                <Field ctx={ctx} name="t_dated" label={t('content.dated')} errors={te}>
                  <input {...fieldAttrs(te, 't_dated')} type="date" value={vm.text?.values.t_dated ?? ''} />
                </Field>
                <Field ctx={ctx} name="t_seconds" label={t('content.seconds')} errors={te}>
                  <input
                    {...fieldAttrs(te, 't_seconds')}
                    type="number"
                    min="1"
                    max="3600"
                    value={vm.text?.values.t_seconds ?? '20'}
                  />
                </Field>
              </div>
              <div class="actions">
                <button type="submit">{t('content.createText')}</button>
              </div>
            </form>
          </Section>
        </div>
      ) : null}
      {vm.canWrite ? (
        <div class="grid">
          <RecordSection ctx={ctx} units={vm.units} categories={CATEGORIES} info={vm.speech} />
          <SpeakSection
            ctx={ctx}
            units={vm.units}
            categories={CATEGORIES}
            info={vm.speech}
            state={vm.speak}
          />
        </div>
      ) : null}
      <BoardPreview ctx={ctx} />
      <Section
        title={t(vm.archived ? 'content.archivedTitle' : 'content.title')}
        actions={
          <span>
            <a href={ui(vm.archived ? '/content' : '/content?archived=1')} id="archived-toggle">
              {t(vm.archived ? 'content.showCurrent' : 'content.showArchived')}
            </a>{' '}
            · <a href={ui('/programmes')}>{t('content.compose')}</a>
          </span>
        }
      >
        {vm.items.length === 0 ? (
          <Empty>{t('content.none')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="content-list">
              <thead>
                <tr>
                  <th>{t('content.titleField')}</th>
                  <th>{t('content.kind')}</th>
                  <th>{t('common.language')}</th>
                  <th>{t('common.category')}</th>
                  <th class="num">{t('content.duration')}</th>
                  <th class="num hide-sm">{t('content.loudness')}</th>
                  <th class="hide-sm">{t('content.preview')}</th>
                  <th class="hide-sm">{t('content.created')}</th>
                  {vm.canWrite ? <th>{t('content.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {vm.items.map((c) => (
                  <tr data-content-id={c.id}>
                    <td>
                      <span title={c.id}>{c.title}</span>
                      <br />
                      <small class="muted" title={c.unit}>
                        {vm.units.find((u) => u.path === c.unit)?.name ?? c.unit}
                      </small>
                    </td>
                    <td>
                      <Badge tone="info">{label(ctx, 'kind', c.kind)}</Badge>
                    </td>
                    <td>{label(ctx, 'lang', c.lang)}</td>
                    <td>{categoryLabel(ctx, c.category)}</td>
                    <td class="num">{formatDuration(c.durationMs)}</td>
                    <td class="num hide-sm">
                      {c.loudnessLufs !== undefined ? `${c.loudnessLufs.toFixed(1)} LUFS` : '—'}
                    </td>
                    <td class="hide-sm">
                      {c.kind === 'audio' && c.sha256 ? (
                        <audio controls preload="none" src={`/blobs/${c.sha256}`}>
                          <track kind="captions" />
                        </audio>
                      ) : c.kind === 'text' ? (
                        <>
                          <small>{(c.text ?? '').slice(0, 140)}</small> <PreviewButton ctx={ctx} c={c} />
                        </>
                      ) : (c.kind === 'image' || c.kind === 'video') && c.sha256 ? (
                        <PreviewButton ctx={ctx} c={c} />
                      ) : null}
                    </td>
                    <td class="hide-sm">
                      {formatDateTime(c.createdAt)}
                      <br />
                      <small class="muted">{vm.names.get(c.createdBy) ?? c.createdBy}</small>
                    </td>
                    {vm.canWrite ? (
                      <td>
                        <ContentActions ctx={ctx} c={c} />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </Layout>
  );
}

async function unitsFor(s: UiServer, user: AuthUser): Promise<{ path: string; name: string }[]> {
  return (await s.deps.store.units.list((u) => inScope(user, u.path)))
    .map((u) => ({ path: u.path, name: u.name }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

async function loadContent(s: UiServer, c: UiContext, user: AuthUser, archived = false): Promise<ContentVm> {
  const r = await callApi<ContentRecord[]>(
    s.api,
    c,
    'GET',
    `/content?limit=500&archived=${archived ? 'true' : 'false'}`,
  );
  const items = r.ok ? r.data : [];
  const canWrite = can(user.role, 'content.write');
  const voices = canWrite
    ? await callApi<{ voices: VoiceOption[] }>(s.api, c, 'GET', '/speech/voices')
    : undefined;
  const limits = s.content?.content.recording;
  return {
    items,
    names: await userNames(
      s,
      items.map((i) => i.createdBy),
    ),
    canWrite,
    archived,
    units: await unitsFor(s, user),
    speech: {
      voices: voices?.ok ? voices.data.voices : [],
      ...recorderLimits(limits),
    },
  };
}

/** Shared checks of title, unit, language and category (Vietnamese messages next to the field). */
function checkMeta(user: AuthUser, v: Record<string, string>, p: string, errors: FieldErrors): void {
  if (!v[`${p}title`]) errors[`${p}title`] = { key: 'err.required' };
  else if ((v[`${p}title`] ?? '').length > 300)
    errors[`${p}title`] = { key: 'err.tooLong', params: { max: 300 } };
  const unit = v[`${p}unit`] ?? '';
  if (!UnitPathSchema.safeParse(unit).success) errors[`${p}unit`] = { key: 'err.unit' };
  else if (!inScope(user, unit)) errors[`${p}unit`] = { key: 'err.unitScope' };
  if (!LanguageSchema.safeParse(v[`${p}lang`] ?? '').success) errors[`${p}lang`] = { key: 'err.lang' };
  if (!(CATEGORIES as readonly string[]).includes(v[`${p}category`] ?? ''))
    errors[`${p}category`] = { key: 'err.invalid' };
}

export function registerContentPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/content', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return c.html(
      <ContentPage ctx={g.ctx} vm={await loadContent(s, c, g.user, c.req.query('archived') === '1')} />,
    );
  });

  // Archive, restore, delete: through the API (scope, audit, the in-use refusal live there).
  for (const action of ['archive', 'restore', 'delete'] as const) {
    app.post(`/ui/content/:id/${action}`, async (c) => {
      const g = await guard(c, s, 'content.write');
      if ('response' in g) return g.response;
      checkFormCsrf(c, await readForm(c));
      const id = encodeURIComponent(c.req.param('id'));
      const r =
        action === 'delete'
          ? await callApi(s.api, c, 'DELETE', `/content/${id}`)
          : await callApi<ContentRecord>(s.api, c, 'POST', `/content/${id}/${action}`);
      if (r.ok) {
        if (action === 'archive')
          return done(c, ui('/content'), 'content.archived', (r.data as ContentRecord).title);
        return done(
          c,
          ui(action === 'restore' ? '/content?archived=1' : '/content'),
          action === 'restore' ? 'content.restored' : 'content.deleted',
        );
      }
      const ctx = { ...g.ctx, flash: { kind: 'error' as const, text: r.message } };
      const vm = await loadContent(s, c, g.user, c.req.header('referer')?.includes('archived=1') ?? false);
      return c.html(<ContentPage ctx={ctx} vm={vm} />, r.status === 409 ? 409 : 400);
    });
  }

  registerSpeechPages(app, s, async (c, g, state, status) => {
    const vm = await loadContent(s, c, g.user);
    return c.html(<ContentPage ctx={g.ctx} vm={{ ...vm, speak: state }} />, status);
  });

  app.post('/ui/content/upload', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    const max = s.content?.content.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
    const errors: FieldErrors = {};
    const declared = Number(c.req.header('content-length') ?? '0');
    if (declared > max + 64 * 1024) {
      errors.file = { key: 'err.fileTooLarge', params: { max: Math.round(max / 1048576) } };
      // The body is not read; the page's script sent the text fields in the query as well.
      const q = c.req.query();
      const values = Object.fromEntries(
        (['title', 'unit', 'lang', 'category'] as const).flatMap((k) =>
          q[k] ? [[k, q[k].slice(0, 300)]] : [],
        ),
      );
      const vm = await loadContent(s, c, g.user);
      return c.html(<ContentPage ctx={g.ctx} vm={{ ...vm, upload: { values, errors } }} />, 413);
    }
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = {
      title: str(f, 'title'),
      unit: str(f, 'unit'),
      lang: str(f, 'lang'),
      category: str(f, 'category'),
      public: str(f, 'public') === 'true' ? 'true' : 'false',
    };
    checkMeta(g.user, values, '', errors);
    const file = f.file;
    if (!(file instanceof File) || file.size === 0) errors.file = { key: 'err.fileRequired' };
    if (Object.keys(errors).length === 0 && file instanceof File) {
      const qs = new URLSearchParams({
        ...values,
        name: file.name.replace(/[/\\]/g, '_').slice(0, 255) || 'upload',
      });
      const r = await callApi<ContentRecord>(s.api, c, 'POST', `/content/upload?${qs}`, undefined, {
        raw: file.stream(),
        contentType: file.type || 'application/octet-stream',
        headers: { 'content-length': String(file.size) },
      });
      if (r.ok) return done(c, ui('/content'), 'content.uploaded');
      const fileCodes = [
        'MEDIA_UNSUPPORTED',
        'MEDIA_UNDECODABLE',
        'AUDIO_SILENT',
        'AUDIO_TOO_LONG',
        'UPLOAD_EMPTY',
      ];
      if (r.code === 'UPLOAD_TOO_LARGE' || fileCodes.includes(r.code) || r.code === 'NAME_INVALID')
        errors.file = r.message;
      else if (r.code === 'FORBIDDEN_SCOPE') errors.unit = { key: 'err.unitScope' };
      else Object.assign(errors, apiFieldErrors(r));
    }
    const vm = await loadContent(s, c, g.user);
    return c.html(<ContentPage ctx={g.ctx} vm={{ ...vm, upload: { values, errors } }} />, 400);
  });

  app.post('/ui/content/text', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = {
      t_title: str(f, 't_title'),
      t_unit: str(f, 't_unit'),
      t_lang: str(f, 't_lang'),
      t_category: str(f, 't_category'),
      t_text: str(f, 't_text'),
      t_issuer: str(f, 't_issuer'),
      t_dated: str(f, 't_dated'),
      t_seconds: str(f, 't_seconds'),
      t_public: str(f, 't_public') === 'true' ? 'true' : 'false',
    };
    const errors: FieldErrors = {};
    checkMeta(g.user, values, 't_', errors);
    if (!values.t_text) errors.t_text = { key: 'err.required' };
    else if (values.t_text.length > 20_000) errors.t_text = { key: 'err.tooLong', params: { max: 20_000 } };
    if (values.t_issuer.length > 200) errors.t_issuer = { key: 'err.tooLong', params: { max: 200 } };
    if (values.t_dated && !/^\d{4}-\d{2}-\d{2}$/.test(values.t_dated))
      errors.t_dated = { key: 'err.invalid' };
    const seconds = values.t_seconds === '' ? undefined : Number(values.t_seconds);
    if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 1 && seconds <= 3600))
      errors.t_seconds = { key: 'err.number', params: { min: 1, max: 3600 } };
    if (Object.keys(errors).length === 0) {
      const r = await callApi(s.api, c, 'POST', '/content/text', {
        title: values.t_title,
        unit: values.t_unit,
        lang: values.t_lang,
        category: values.t_category,
        text: values.t_text,
        ...(values.t_issuer ? { issuer: values.t_issuer } : {}),
        ...(values.t_dated ? { dated: values.t_dated } : {}),
        ...(seconds !== undefined ? { durationMs: seconds * 1000 } : {}),
        public: values.t_public === 'true',
      });
      if (r.ok) return done(c, ui('/content'), 'common.savedOk');
      Object.assign(
        errors,
        apiFieldErrors(r, (p) => (p[0] ? `t_${p[0]}` : undefined)),
      );
    }
    const vm = await loadContent(s, c, g.user);
    return c.html(<ContentPage ctx={g.ctx} vm={{ ...vm, text: { values, errors } }} />, 400);
  });
}
