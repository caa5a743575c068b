/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The content page's spoken content: "Ghi âm" (recording from the microphone in the browser:
 * the shared recorder of ../recorder.tsx, driven by assets/recorder.js, uploaded through the
 * upload API as a recording) and "Đọc văn bản" (a text read by the server's TTS with a voice and
 * a speed, "Nghe thử" first: the spoken form and a short clip, then saved as an audio item). The text form works without JavaScript; the
 * recorder needs it (MediaRecorder).
 */
import { LanguageSchema, UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import { inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Recorder, type RecorderLimits } from '../recorder.js';
import {
  checkFormCsrf,
  done,
  type Guarded,
  guard,
  readForm,
  str,
  type UiContext,
  type UiServer,
} from '../shared.js';
import { unitLabels } from '../unit-labels.js';

export interface VoiceOption {
  id: string;
  lang: string;
  label: string;
}

export interface SpeechInfo extends RecorderLimits {
  voices: VoiceOption[];
}

export interface SpeakState {
  values: Record<string, string>;
  errors?: FieldErrors;
  preview?: { spoken: string; audio: string; truncated: boolean };
}

/** Speeds offered (words per minute); the API takes any rate in its bounds. */
const RATES = [
  { wpm: 120, key: 'tts.rate.slow' },
  { wpm: 150, key: 'tts.rate.normal' },
  { wpm: 180, key: 'tts.rate.fast' },
] as const satisfies readonly { wpm: number; key: MsgKey }[];

type Units = { path: string; name: string }[];

function UnitSelect(props: {
  ctx: UiCtx;
  name: string;
  units: Units;
  value?: string | undefined;
  errors?: FieldErrors | undefined;
}) {
  const labels = unitLabels(props.units);
  return (
    <Field ctx={props.ctx} name={props.name} label={props.ctx.t('common.unit')} errors={props.errors}>
      <select {...fieldAttrs(props.errors, props.name)}>
        {props.units.map((u) => (
          <option value={u.path} selected={props.value === u.path}>
            {labels.get(u.path) ?? u.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

function CategorySelect(props: {
  ctx: UiCtx;
  name: string;
  categories: readonly string[];
  value?: string | undefined;
  errors?: FieldErrors | undefined;
}) {
  return (
    <Field ctx={props.ctx} name={props.name} label={props.ctx.t('common.category')} errors={props.errors}>
      <select {...fieldAttrs(props.errors, props.name)}>
        {props.categories.map((c) => (
          <option value={c} selected={(props.value ?? 'announcement') === c}>
            {props.ctx.t(`cat.${c}` as MsgKey)}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** "Ghi âm": the shared recorder, with the content page's save form once a recording is made. */
export function RecordSection(props: {
  ctx: UiCtx;
  units: Units;
  categories: readonly string[];
  info: SpeechInfo;
}) {
  const { ctx, info } = props;
  const t = ctx.t;
  return (
    <Section title={t('rec.title')} id="record">
      <Recorder
        ctx={ctx}
        limits={info}
        hint="rec.hint"
        review="rec.review"
        done={ui('/content?ok=content.recorded')}
      >
        <form class="stack" data-rec-form novalidate>
          <Field ctx={ctx} name="r_title" label={t('content.titleField')}>
            <input id="f-r_title" name="r_title" maxlength={300} required />
          </Field>
          <UnitSelect ctx={ctx} name="r_unit" units={props.units} />
          <Field ctx={ctx} name="r_lang" label={t('common.language')} hint="vi, hmn, tay, dao, km…">
            <input id="f-r_lang" name="r_lang" value="vi" />
          </Field>
          <CategorySelect ctx={ctx} name="r_category" categories={props.categories} />
          <div class="actions">
            <button type="submit" data-rec-save>
              {t('rec.save')}
            </button>
            <button type="button" class="secondary" data-rec-again>
              {t('rec.again')}
            </button>
          </div>
        </form>
      </Recorder>
    </Section>
  );
}

/** "Đọc văn bản": text, voice, speed; "Nghe thử" shows the spoken form and plays a clip. */
export function SpeakSection(props: {
  ctx: UiCtx;
  units: Units;
  categories: readonly string[];
  info: SpeechInfo;
  state?: SpeakState | undefined;
}) {
  const { ctx, info } = props;
  const t = ctx.t;
  const e = props.state?.errors;
  const v = props.state?.values ?? {};
  const p = props.state?.preview;
  return (
    <Section
      title={t('tts.title')}
      id="speak"
      actions={<a href={ui('/content/lexicon')}>{t('tts.lexiconLink')}</a>}
    >
      <p class="muted">{t('tts.hint')}</p>
      {info.voices.length === 0 ? <p class="flash error">{t('tts.noVoices')}</p> : null}
      <FormErrorSummary ctx={ctx} errors={e} />
      <form method="post" action={ui('/content/speech#speak')} class="stack" novalidate data-speak-form>
        <Csrf ctx={ctx} />
        <Field ctx={ctx} name="s_title" label={t('content.titleField')} errors={e}>
          <input {...fieldAttrs(e, 's_title')} value={v.s_title ?? ''} maxlength={300} />
        </Field>
        <UnitSelect ctx={ctx} name="s_unit" units={props.units} value={v.s_unit} errors={e} />
        <Field ctx={ctx} name="s_text" label={t('content.textBody')} errors={e}>
          <textarea {...fieldAttrs(e, 's_text')} rows={5} maxlength={20000}>
            {v.s_text ?? ''}
          </textarea>
        </Field>
        <div class="grid">
          <Field ctx={ctx} name="s_voice" label={t('tts.voice')} errors={e}>
            <select {...fieldAttrs(e, 's_voice')}>
              {info.voices.map((x) => (
                <option value={x.id} data-lang={x.lang} selected={v.s_voice === x.id}>
                  {`${x.label} (${t(`lang.${x.lang}` as MsgKey)})`}
                </option>
              ))}
            </select>
          </Field>
          <Field ctx={ctx} name="s_rate" label={t('tts.rate')} errors={e}>
            <select {...fieldAttrs(e, 's_rate')}>
              {RATES.map((r) => (
                <option value={String(r.wpm)} selected={(v.s_rate ?? '150') === String(r.wpm)}>
                  {t(r.key)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <CategorySelect
          ctx={ctx}
          name="s_category"
          categories={props.categories}
          value={v.s_category}
          errors={e}
        />
        <div class="speak-preview" data-speak-preview hidden={!p}>
          <p>
            <strong>{t('tts.spoken')}:</strong>
          </p>
          <blockquote data-speak-spoken lang="vi">
            {p?.spoken ?? ''}
          </blockquote>
          <audio controls data-speak-audio src={p?.audio} autoplay={p ? true : undefined}>
            <track kind="captions" />
          </audio>
          <p class="muted" data-speak-part hidden={!p?.truncated}>
            {t('tts.previewPart')}
          </p>
        </div>
        <p data-speak-status role="status" aria-live="polite" data-msg-previewing={t('tts.previewing')} />
        <div class="actions">
          <button type="submit" name="action" value="preview" class="secondary" data-speak-listen>
            {t('tts.preview')}
          </button>
          <button type="submit" name="action" value="save">
            {t('tts.save')}
          </button>
        </div>
      </form>
    </Section>
  );
}

const FIELD_OF: Record<string, string> = {
  title: 's_title',
  unit: 's_unit',
  text: 's_text',
  voice: 's_voice',
  rate: 's_rate',
  category: 's_category',
  lang: 's_voice',
};

/** The language a voice speaks (the API checks the voice against it). */
function langOfVoice(voice: string): string {
  return voice.toLowerCase().split('-')[0] ?? 'vi';
}

/** Renders the content page again with the spoken-text form's state (content.tsx owns the page). */
export type RenderWithSpeak = (
  c: UiContext,
  g: Extract<Guarded, { user: AuthUser }>,
  state: SpeakState,
  status: 200 | 400,
) => Promise<Response>;

export function registerSpeechPages(app: Hono<AppEnv>, s: UiServer, render: RenderWithSpeak): void {
  app.post('/ui/content/speech', async (c) => {
    const g = await guard(c, s, 'content.write');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = {
      s_title: str(f, 's_title'),
      s_unit: str(f, 's_unit'),
      s_text: str(f, 's_text'),
      s_voice: str(f, 's_voice'),
      s_rate: str(f, 's_rate'),
      s_category: str(f, 's_category'),
    };
    const preview = str(f, 'action') === 'preview';
    const errors: FieldErrors = {};
    if (!preview) {
      if (!values.s_title) errors.s_title = { key: 'err.required' };
      else if (values.s_title.length > 300) errors.s_title = { key: 'err.tooLong', params: { max: 300 } };
    }
    if (!UnitPathSchema.safeParse(values.s_unit).success) errors.s_unit = { key: 'err.unit' };
    else if (!inScope(g.user, values.s_unit)) errors.s_unit = { key: 'err.unitScope' };
    if (!values.s_text) errors.s_text = { key: 'err.required' };
    else if (values.s_text.length > 20_000) errors.s_text = { key: 'err.tooLong', params: { max: 20_000 } };
    const lang = langOfVoice(values.s_voice || 'vi');
    if (!LanguageSchema.safeParse(lang).success) errors.s_voice = { key: 'err.invalid' };
    const rate = Number(values.s_rate || '150');
    if (Object.keys(errors).length === 0) {
      const common = {
        unit: values.s_unit,
        lang,
        text: values.s_text,
        ...(values.s_voice ? { voice: values.s_voice } : {}),
        rate,
      };
      if (preview) {
        const r = await callApi<{ spoken: string; audio: string; truncated: boolean }>(
          s.api,
          c,
          'POST',
          '/speech/preview',
          common,
        );
        if (r.ok) return render(c, g, { values, preview: r.data }, 200);
        Object.assign(errors, speechErrors(r));
      } else {
        const r = await callApi(s.api, c, 'POST', '/content/speech', {
          ...common,
          title: values.s_title,
          ...(values.s_category ? { category: values.s_category } : {}),
        });
        if (r.ok) return done(c, ui('/content'), 'content.spoken');
        Object.assign(errors, speechErrors(r));
      }
    }
    return render(c, g, { values, errors }, 400);
  });
}

function speechErrors(r: Parameters<typeof apiFieldErrors>[0]): FieldErrors {
  if (r.code === 'TTS_VOICE' || r.code === 'TTS_NO_VOICE' || r.code === 'TTS_RATE')
    return { [r.code === 'TTS_RATE' ? 's_rate' : 's_voice']: r.message };
  if (r.code === 'FORBIDDEN_SCOPE') return { s_unit: { key: 'err.unitScope' } };
  return apiFieldErrors(r, (p) => (p[0] ? FIELD_OF[p[0]] : undefined));
}
