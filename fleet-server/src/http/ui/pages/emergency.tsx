/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Emergency broadcast: choose the unit, record the alert in the browser (the shared recorder),
 * upload audio or type text, confirm twice (a checkbox and a typed phrase, checked on the server),
 * then live progress notified → verified → playing and the devices that did not respond.
 *
 * A recording goes up as `source=recording` (held to the recording limits, its silent head and
 * tail cut, normalised) in the speech profile, so that a short alert travels inside the signed
 * emergency message as a spoken one does; a longer one is downloaded like any emergency audio.
 */
import { UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import type { EmergencyDeviceState, EmergencySummary } from '../../../domain/emergency.js';
import type { BundleRecord, ContentRecord } from '../../../domain/model.js';
import { inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import {
  Bar,
  Csrf,
  Empty,
  errorText,
  Field,
  FormErrorSummary,
  fieldAttrs,
  Section,
  type Tone,
} from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { scopedDevices, unitMap } from '../data.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import type { LiveView, UpdateSet } from '../live.js';
import { Recorder, type RecorderLimits, recorderLimits } from '../recorder.js';
import { notFoundPage } from '../refusal.js';
import { checkFormCsrf, guard, list, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { isPhrase } from '../text.js';
import { formatDateTime } from '../time.js';
import { unitLabels } from '../unit-labels.js';
import { type UnitNode, UnitTreeField, unitTree } from '../unit-tree.js';
import { RepeatControl } from './emergency-repeat.js';
import { mayRecall, RecallControl } from './recall.js';

interface EmergencyViewData {
  bundle: BundleRecord;
  devices: EmergencyDeviceState[];
  summary: EmergencySummary;
}

/** Stages as operators read them: sent = notified, received = verified, playing/completed = playing. */
const STAGE_KEY: Record<EmergencyDeviceState['stage'], MsgKey> = {
  sent: 'emg.notified',
  received: 'emg.verified',
  playing: 'emg.playing',
  completed: 'emg.completed',
  failed: 'emg.failed',
  withdrawn: 'emg.withdrawn',
};
const STAGE_TONE: Record<EmergencyDeviceState['stage'], Tone> = {
  sent: 'muted',
  received: 'info',
  playing: 'ok',
  completed: 'ok',
  failed: 'bad',
  withdrawn: 'muted',
};

/**
 * The funnel as operators read it: how many stations got at least that far (a station that is
 * playing was also notified and verified), so the numbers only grow as the alert spreads; then
 * how many are playing now and how many have finished. A station that dropped the alert on its
 * cancel still counts where it had got to (verified, finished) before: a cancel does not unsay it.
 */
export function progressParts(sum: EmergencySummary, devices: readonly EmergencyDeviceState[] = []) {
  const reached = sum.playing + sum.completed;
  const withdrawn = devices.filter((d) => d.stage === 'withdrawn');
  return {
    notified: sum.total,
    verified: sum.received + reached + withdrawn.filter((d) => d.receivedAt).length,
    playing: sum.playing,
    done: sum.completed + withdrawn.filter((d) => d.completedAt).length,
    failed: sum.failed,
  };
}

/** One line: "3/3 đang phát", "1/3 đang phát, 2 đã phát xong", or "Đã phát xong 3/3" once nothing plays. */
export function progressSummary(t: UiCtx['t'], sum: EmergencySummary): string {
  const p = progressParts(sum);
  if (sum.withdrawn > 0) return t('emg.cancelled', { n: sum.withdrawn, total: sum.total });
  if (p.done > 0 && p.playing === 0 && p.done + p.failed === sum.total)
    return t('emg.done', { done: p.done, total: sum.total });
  if (p.done > 0) return t('emg.summaryMixed', { playing: p.playing, total: sum.total, done: p.done });
  return t('emg.summary', { playing: p.playing, total: sum.total });
}

/** "Ghi âm lời cảnh báo": the shared recorder, which puts its recording in the form's hidden file input. */
function RecordField(props: { ctx: UiCtx; limits: RecorderLimits; errors?: FieldErrors | undefined }) {
  const { ctx } = props;
  const err = errorText(ctx, props.errors, 'recording');
  return (
    <fieldset class={err ? 'field rec-field invalid' : 'field rec-field'} id="record">
      <legend>{ctx.t('rec.emgTitle')}</legend>
      <Recorder ctx={ctx} limits={props.limits} hint="rec.emgHint" review="rec.emgReview">
        <input type="file" name="recording" accept="audio/*" data-rec-file hidden tabindex={-1} />
        <div class="actions">
          <button type="button" class="secondary" data-rec-again>
            {ctx.t('rec.again')}
          </button>
        </div>
      </Recorder>
      {err ? (
        <p class="error" id="f-recording-error" data-error-for="recording" role="alert">
          {err}
        </p>
      ) : null}
    </fieldset>
  );
}

function FormPage(props: {
  ctx: UiCtx;
  tree: UnitNode[];
  recent: BundleRecord[];
  /** What operators read for each unit (names, never codes). */
  unitNames: ReadonlyMap<string, string>;
  limits: RecorderLimits;
  values?: Record<string, string>;
  errors?: FieldErrors;
}) {
  const { ctx } = props;
  const t = ctx.t;
  const e = props.errors;
  const v = props.values ?? {};
  return (
    <Layout ctx={ctx} title={t('emg.title')} scripts={[ui('/assets/recorder.js')]}>
      <p class="warning-box">{t('emg.warning')}</p>
      <Section title={t('emg.title')}>
        <FormErrorSummary ctx={ctx} errors={e} />
        <form method="post" action={ui('/emergency')} enctype="multipart/form-data" class="stack" novalidate>
          <Csrf ctx={ctx} />
          <UnitTreeField
            ctx={ctx}
            name="unit"
            label={t('emg.units')}
            tree={props.tree}
            checked={new Set((v.unit ?? '').split(',').filter(Boolean))}
            errors={e}
          />
          <Field ctx={ctx} name="title" label={t('emg.titleField')} errors={e}>
            <input {...fieldAttrs(e, 'title')} value={v.title ?? ''} maxlength={300} />
          </Field>
          <RecordField ctx={ctx} limits={props.limits} errors={e} />
          <Field ctx={ctx} name="file" label={t('emg.audio')} errors={e}>
            <input {...fieldAttrs(e, 'file')} type="file" accept="audio/*" />
          </Field>
          <Field ctx={ctx} name="text" label={t('emg.text')} errors={e}>
            <textarea {...fieldAttrs(e, 'text')} rows={4} maxlength={5000}>
              {v.text ?? ''}
            </textarea>
          </Field>
          <Field ctx={ctx} name="repeat" label={t('emg.repeat')} errors={e}>
            <input {...fieldAttrs(e, 'repeat')} type="number" min="1" max="20" value={v.repeat ?? '3'} />
          </Field>
          <Field ctx={ctx} name="confirm1" label={t('common.confirm')} errors={e}>
            <label class="checks">
              <input
                {...fieldAttrs(e, 'confirm1')}
                type="checkbox"
                value="yes"
                checked={v.confirm1 === 'yes'}
              />
              {t('emg.confirm1')}
            </label>
          </Field>
          <Field ctx={ctx} name="confirm2" label={t('emg.confirm2')} errors={e}>
            <input {...fieldAttrs(e, 'confirm2')} autocomplete="off" value="" />
          </Field>
          <div class="actions">
            <button type="submit" class="danger">
              {t('emg.send')}
            </button>
          </div>
        </form>
      </Section>
      <Section title={t('emg.recent')}>
        {props.recent.length === 0 ? (
          <Empty>{t('common.empty')}</Empty>
        ) : (
          <ul>
            {props.recent.map((b) => (
              <li>
                <a href={ui(`/emergency/${encodeURIComponent(b.id)}`)}>
                  {b.manifest.items[0]?.title ?? b.id}
                </a>{' '}
                <small class="muted">
                  {b.units.map((u) => props.unitNames.get(u) ?? u).join(', ')} ·{' '}
                  {formatDateTime(b.publishedAt ?? b.createdAt)}
                </small>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </Layout>
  );
}

function ProgressPage(props: { ctx: UiCtx; v: CombinedView; bundles?: BundleRecord[] }) {
  const { ctx, v } = props;
  const t = ctx.t;
  const p = progressParts(v.summary, v.devices);
  const ids = v.ids.map(encodeURIComponent).join(',');
  const silent = v.devices.filter((d) => d.stage === 'sent');
  return (
    <Layout ctx={ctx} title={`${t('emg.progress')}: ${v.title}`} live={ui(`/live/emergency/${ids}`)}>
      <Section title={t('emg.progress')}>
        <p class="emg-progress">
          <strong data-k="emg:summary" data-playing={String(p.playing)} data-total={String(v.summary.total)}>
            {progressSummary(t, v.summary)}
          </strong>
        </p>
        <div class="emg-progress" data-k="emg:bar">
          <Bar
            total={v.summary.total}
            parts={[
              { value: p.done, tone: 'ok', label: t('emg.completed') },
              { value: p.playing, tone: 'ok', label: t('emg.playing') },
              { value: p.verified - p.playing - p.done, tone: 'info', label: t('emg.verified') },
              { value: p.failed, tone: 'bad', label: t('emg.failed') },
              { value: p.notified - p.verified - p.failed, tone: 'muted', label: t('emg.notified') },
            ]}
          />
        </div>
        <div class="stats">
          {(['notified', 'verified', 'playing', 'done', 'failed'] as const).map((k) => (
            <div class="stat">
              <b data-k={`emg:${k}`}>{p[k]}</b>
              {t(k === 'done' ? 'emg.completed' : (`emg.${k}` as MsgKey))}
            </div>
          ))}
        </div>
      </Section>
      {props.bundles?.some((b) => b.state === 'recalled' || mayRecall(ctx, b)) ? (
        <Section title={t('recall.cancelEmergency')}>
          {props.bundles.map((b) => (
            <p>
              {b.manifest.items[0]?.title ?? b.id}: <RecallControl ctx={ctx} bundle={b} back={ctx.path} />
            </p>
          ))}
        </Section>
      ) : null}
      {props.bundles?.some((b) => b.state === 'published') ? (
        <Section title={t('emgx.title')}>
          {props.bundles.map((b) => (
            <RepeatControl ctx={ctx} bundle={b} />
          ))}
        </Section>
      ) : null}
      <div class="grid">
        <Section title={t('emg.nonResponders')}>
          <ul data-k="emg:silent">
            {silent.map((d) => (
              <li>
                <a href={ui(`/devices/${encodeURIComponent(d.deviceId)}`)} title={d.deviceId}>
                  {v.names?.get(d.deviceId) ?? d.deviceId}
                </a>
              </li>
            ))}
          </ul>
        </Section>
        <Section title={t('fleet.title')}>
          <table>
            <tbody>
              {v.devices.map((d) => (
                <tr>
                  <td>
                    <a href={ui(`/devices/${encodeURIComponent(d.deviceId)}`)} title={d.deviceId}>
                      {v.names?.get(d.deviceId) ?? d.deviceId}
                    </a>
                  </td>
                  <td>
                    <span class={`badge ${STAGE_TONE[d.stage]}`} data-k={`emg:d:${d.deviceId}`}>
                      {t(STAGE_KEY[d.stage])}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      </div>
    </Layout>
  );
}

/** Several emergencies sent together (one per chosen unit), shown as one progress view. */
export interface CombinedView {
  ids: string[];
  /** Device names by id (filled by the page loader). */
  names?: Map<string, string>;
  title: string;
  summary: EmergencySummary;
  devices: EmergencyDeviceState[];
}

export function combineViews(views: EmergencyViewData[]): CombinedView {
  const summary: EmergencySummary = {
    total: 0,
    sent: 0,
    received: 0,
    playing: 0,
    completed: 0,
    failed: 0,
    withdrawn: 0,
  };
  for (const v of views)
    for (const k of Object.keys(summary) as (keyof EmergencySummary)[]) summary[k] += v.summary[k];
  return {
    ids: views.map((v) => v.bundle.id),
    title: views[0]?.bundle.manifest.items[0]?.title ?? views[0]?.bundle.id ?? '',
    summary,
    devices: views.flatMap((v) => v.devices),
  };
}

/** Ids from the path ("a,b,c"); ids cannot contain commas. */
export function parseIds(raw: string): string[] {
  return [...new Set(raw.split(',').filter((x) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(x)))].slice(
    0,
    50,
  );
}

async function loadCombined(s: UiServer, c: UiContext, ids: string[]): Promise<CombinedView | null> {
  const views: EmergencyViewData[] = [];
  for (const id of ids) {
    const r = await callApi<EmergencyViewData>(s.api, c, 'GET', `/emergency/${encodeURIComponent(id)}`);
    if (!r.ok) return null;
    views.push(r.data);
  }
  if (views.length === 0) return null;
  const v = combineViews(views);
  const names = new Map<string, string>();
  for (const d of v.devices) {
    const rec = await s.deps.store.devices.get(d.deviceId);
    if (rec?.name) names.set(d.deviceId, rec.name);
  }
  return { ...v, names };
}

export function emergencyLiveView(s: UiServer, c: UiContext, ctx: UiCtx, ids: string[]): LiveView {
  const topics = new Set(ids.map((id) => `emergency:${id}`));
  return {
    wantsDevice: () => false,
    wantsTopic: (topic) => topics.has(topic),
    initial: { topics: [...topics] },
    render: async () => {
      const v = await loadCombined(s, c, ids);
      if (!v) return {};
      const p = progressParts(v.summary, v.devices);
      const set: UpdateSet = {
        'emg:summary': { t: progressSummary(ctx.t, v.summary) },
        'emg:notified': { t: String(p.notified) },
        'emg:verified': { t: String(p.verified) },
        'emg:playing': { t: String(p.playing) },
        'emg:done': { t: String(p.done) },
        'emg:failed': { t: String(p.failed) },
        'emg:bar': { r: true },
        'emg:silent': {
          items: v.devices
            .filter((d) => d.stage === 'sent')
            .map((d) => ({
              text: v.names?.get(d.deviceId) ?? d.deviceId,
              href: ui(`/devices/${encodeURIComponent(d.deviceId)}`),
            })),
        },
      };
      for (const d of v.devices)
        set[`emg:d:${d.deviceId}`] = { t: ctx.t(STAGE_KEY[d.stage]), c: `badge ${STAGE_TONE[d.stage]}` };
      return set;
    },
  };
}

async function formData(s: UiServer, c: UiContext, user: AuthUser) {
  const [units, devices] = await Promise.all([unitMap(s, user), scopedDevices(s, user)]);
  const recent = await callApi<BundleRecord[]>(s.api, c, 'GET', '/emergency');
  return {
    tree: unitTree(units.values(), devices),
    recent: recent.ok ? recent.data.slice(0, 10) : [],
    unitNames: unitLabels(await s.deps.store.units.list()),
    limits: recorderLimits(s.content?.content.recording),
  };
}

export function registerEmergencyPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/emergency', async (c) => {
    const g = await guard(c, s, 'emergency.send');
    if ('response' in g) return g.response;
    return c.html(<FormPage ctx={g.ctx} {...(await formData(s, c, g.user))} />);
  });

  app.get('/ui/emergency/:ids', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const v = await loadCombined(s, c, parseIds(c.req.param('ids')));
    if (!v) return notFoundPage(c, g.ctx);
    const bundles: BundleRecord[] = [];
    for (const id of v.ids) {
      const b = await callApi<BundleRecord>(s.api, c, 'GET', `/bundles/${encodeURIComponent(id)}`);
      if (b.ok) bundles.push(b.data);
    }
    return c.html(<ProgressPage ctx={g.ctx} v={v} bundles={bundles} />);
  });

  app.post('/ui/emergency', async (c) => {
    const g = await guard(c, s, 'emergency.send');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const t = g.ctx.t;
    const units = list(f, 'unit');
    const values = {
      unit: units.join(','),
      title: str(f, 'title'),
      text: str(f, 'text'),
      repeat: str(f, 'repeat'),
      confirm1: str(f, 'confirm1'),
    };
    const upload = f.file instanceof File && f.file.size > 0 ? f.file : undefined;
    const recording = f.recording instanceof File && f.recording.size > 0 ? f.recording : undefined;
    const file = recording ?? upload;
    const errors: FieldErrors = {};
    if (units.length === 0) errors.unit = { key: 'err.pickOne' };
    else if (units.some((u) => !UnitPathSchema.safeParse(u).success)) errors.unit = { key: 'err.unit' };
    else if (units.some((u) => !inScope(g.user, u))) errors.unit = { key: 'err.unitScope' };
    if (!values.title) errors.title = { key: 'err.required' };
    if (!file && !values.text) errors.text = { key: 'err.textOrFile' };
    if (recording && upload) errors.file = { key: 'rec.emgOneAudio' };
    const repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
      errors.repeat = { key: 'err.number', params: { min: 1, max: 20 } };
    if (values.confirm1 !== 'yes') errors.confirm1 = { key: 'err.required' };
    // The phrase, capitals included (its marks optional): a word typed by mistake must never send an emergency.
    if (!isPhrase(str(f, 'confirm2'), t('emg.phrase'))) errors.confirm2 = { key: 'err.confirm' };
    if (Object.keys(errors).length === 0) {
      let content: string | undefined;
      if (file) {
        const qs = new URLSearchParams({
          title: values.title,
          unit: units[0] as string,
          lang: 'vi',
          name: file.name.replace(/[/\\]/g, '_').slice(0, 255) || 'khan-cap',
          // a recording: held to the recording limits, trimmed, normalised, speech-grade (inline)
          ...(recording ? { source: 'recording', profile: 'speech' } : {}),
        });
        const up = await callApi<ContentRecord>(s.api, c, 'POST', `/emergency/audio?${qs}`, undefined, {
          raw: file.stream(),
          contentType: file.type || 'application/octet-stream',
          headers: { 'content-length': String(file.size) },
        });
        if (up.ok) content = up.data.id;
        else errors[recording ? 'recording' : 'file'] = up.message;
      }
      // One emergency per chosen unit subtree (the API takes one unit); sent one after the other.
      const sent: string[] = [];
      for (const unit of errors.file || errors.recording ? [] : units) {
        const r = await callApi<EmergencyViewData>(s.api, c, 'POST', '/emergency', {
          unit,
          title: values.title,
          ...(values.text ? { text: values.text } : {}),
          ...(content ? { content } : {}),
          repeat,
        });
        if (!r.ok) {
          Object.assign(errors, apiFieldErrors(r));
          break;
        }
        sent.push(r.data.bundle.id);
      }
      if (sent.length > 0 && Object.keys(errors).length === 0)
        return c.redirect(ui(`/emergency/${sent.map(encodeURIComponent).join(',')}`), 303);
      if (sent.length > 0) errors._form = t('emg.partial', { ids: sent.join(', ') });
    }
    return c.html(
      <FormPage ctx={g.ctx} {...(await formData(s, c, g.user))} values={values} errors={errors} />,
      400,
    );
  });
}
