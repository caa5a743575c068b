/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Emergency broadcast: choose the unit, upload audio or type text, confirm twice (a checkbox and a
 * typed phrase, checked on the server), then live progress notified → verified → playing and the
 * devices that did not respond.
 */
import { UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import type { EmergencyDeviceState, EmergencySummary } from '../../../domain/emergency.js';
import { inScope } from '../../../domain/rbac.js';
import type { BundleRecord, ContentRecord } from '../../../store/types.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import { Bar, Csrf, Empty, Field, FormErrorSummary, fieldAttrs, Section, type Tone } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import type { LiveView, UpdateSet } from '../live.js';
import { checkFormCsrf, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';

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
  completed: 'emg.playing',
  failed: 'emg.failed',
};
const STAGE_TONE: Record<EmergencyDeviceState['stage'], Tone> = {
  sent: 'muted',
  received: 'info',
  playing: 'ok',
  completed: 'ok',
  failed: 'bad',
};

export function progressParts(sum: EmergencySummary) {
  return {
    notified: sum.sent,
    verified: sum.received,
    playing: sum.playing + sum.completed,
    failed: sum.failed,
  };
}

function FormPage(props: {
  ctx: UiCtx;
  units: { path: string; name: string }[];
  recent: BundleRecord[];
  values?: Record<string, string>;
  errors?: FieldErrors;
}) {
  const { ctx } = props;
  const t = ctx.t;
  const e = props.errors;
  const v = props.values ?? {};
  return (
    <Layout ctx={ctx} title={t('emg.title')}>
      <p class="warning-box">{t('emg.warning')}</p>
      <Section title={t('emg.title')}>
        <FormErrorSummary ctx={ctx} errors={e} />
        <form method="post" action={ui('/emergency')} enctype="multipart/form-data" class="stack" novalidate>
          <Csrf ctx={ctx} />
          <Field ctx={ctx} name="unit" label={t('emg.units')} errors={e}>
            <select {...fieldAttrs(e, 'unit')}>
              <option value="">—</option>
              {props.units.map((u) => (
                <option value={u.path} selected={v.unit === u.path}>
                  {`${u.name} (${u.path})`}
                </option>
              ))}
            </select>
          </Field>
          <Field ctx={ctx} name="title" label={t('emg.titleField')} errors={e}>
            <input {...fieldAttrs(e, 'title')} value={v.title ?? ''} maxlength={300} />
          </Field>
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
                  {b.units.join(', ')} · {formatDateTime(b.publishedAt ?? b.createdAt)}
                </small>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </Layout>
  );
}

function ProgressPage(props: { ctx: UiCtx; v: EmergencyViewData }) {
  const { ctx, v } = props;
  const t = ctx.t;
  const p = progressParts(v.summary);
  const id = v.bundle.id;
  const silent = v.devices.filter((d) => d.stage === 'sent');
  return (
    <Layout
      ctx={ctx}
      title={`${t('emg.progress')}: ${v.bundle.manifest.items[0]?.title ?? id}`}
      live={ui(`/live/emergency/${encodeURIComponent(id)}`)}
    >
      <Section title={t('emg.progress')}>
        <p class="emg-progress">
          <strong data-k="emg:summary" data-playing={String(p.playing)} data-total={String(v.summary.total)}>
            {t('emg.summary', { playing: p.playing, total: v.summary.total })}
          </strong>
        </p>
        <div class="emg-progress" data-k="emg:bar">
          <Bar
            total={v.summary.total}
            parts={[
              { value: p.playing, tone: 'ok', label: t('emg.playing') },
              { value: p.verified, tone: 'info', label: t('emg.verified') },
              { value: p.failed, tone: 'bad', label: t('emg.failed') },
              { value: p.notified, tone: 'muted', label: t('emg.notified') },
            ]}
          />
        </div>
        <div class="stats">
          {(['notified', 'verified', 'playing', 'failed'] as const).map((k) => (
            <div class="stat">
              <b data-k={`emg:${k}`}>{p[k]}</b>
              {t(`emg.${k}` as MsgKey)}
            </div>
          ))}
        </div>
      </Section>
      <div class="grid">
        <Section title={t('emg.nonResponders')}>
          <ul data-k="emg:silent">
            {silent.map((d) => (
              <li>
                <a href={ui(`/devices/${encodeURIComponent(d.deviceId)}`)}>{d.deviceId}</a>
              </li>
            ))}
          </ul>
        </Section>
        <Section title={t('fleet.title')}>
          <table>
            <tbody>
              {v.devices.map((d) => (
                <tr>
                  <td>{d.deviceId}</td>
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

export function emergencyLiveView(s: UiServer, c: UiContext, ctx: UiCtx, id: string): LiveView {
  return {
    wantsDevice: () => false,
    wantsTopic: (topic) => topic === `emergency:${id}`,
    initial: { topics: [`emergency:${id}`] },
    render: async () => {
      const r = await callApi<EmergencyViewData>(s.api, c, 'GET', `/emergency/${encodeURIComponent(id)}`);
      if (!r.ok) return {};
      const v = r.data;
      const p = progressParts(v.summary);
      const set: UpdateSet = {
        'emg:summary': { t: ctx.t('emg.summary', { playing: p.playing, total: v.summary.total }) },
        'emg:notified': { t: String(p.notified) },
        'emg:verified': { t: String(p.verified) },
        'emg:playing': { t: String(p.playing) },
        'emg:failed': { t: String(p.failed) },
        'emg:bar': { r: true },
        'emg:silent': {
          items: v.devices
            .filter((d) => d.stage === 'sent')
            .map((d) => ({ text: d.deviceId, href: ui(`/devices/${encodeURIComponent(d.deviceId)}`) })),
        },
      };
      for (const d of v.devices)
        set[`emg:d:${d.deviceId}`] = { t: ctx.t(STAGE_KEY[d.stage]), c: `badge ${STAGE_TONE[d.stage]}` };
      return set;
    },
  };
}

async function formData(s: UiServer, c: UiContext, user: AuthUser) {
  const units = (await s.deps.store.units.list((u) => inScope(user, u.path)))
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((u) => ({ path: u.path, name: u.name }));
  const recent = await callApi<BundleRecord[]>(s.api, c, 'GET', '/emergency');
  return { units, recent: recent.ok ? recent.data.slice(0, 10) : [] };
}

export function registerEmergencyPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/emergency', async (c) => {
    const g = await guard(c, s, 'emergency.send');
    if ('response' in g) return g.response;
    return c.html(<FormPage ctx={g.ctx} {...(await formData(s, c, g.user))} />);
  });

  app.get('/ui/emergency/:id', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const r = await callApi<EmergencyViewData>(
      s.api,
      c,
      'GET',
      `/emergency/${encodeURIComponent(c.req.param('id'))}`,
    );
    if (!r.ok) return c.text(g.ctx.t('err.notFound'), 404);
    return c.html(<ProgressPage ctx={g.ctx} v={r.data} />);
  });

  app.post('/ui/emergency', async (c) => {
    const g = await guard(c, s, 'emergency.send');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const t = g.ctx.t;
    const values = {
      unit: str(f, 'unit'),
      title: str(f, 'title'),
      text: str(f, 'text'),
      repeat: str(f, 'repeat'),
      confirm1: str(f, 'confirm1'),
    };
    const file = f.file instanceof File && f.file.size > 0 ? f.file : undefined;
    const errors: FieldErrors = {};
    if (!values.unit) errors.unit = { key: 'err.required' };
    else if (!UnitPathSchema.safeParse(values.unit).success) errors.unit = { key: 'err.unit' };
    else if (!inScope(g.user, values.unit)) errors.unit = { key: 'err.unitScope' };
    if (!values.title) errors.title = { key: 'err.required' };
    if (!file && !values.text) errors.text = { key: 'err.textOrFile' };
    const repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
      errors.repeat = { key: 'err.number', params: { min: 1, max: 20 } };
    if (values.confirm1 !== 'yes') errors.confirm1 = { key: 'err.required' };
    if (str(f, 'confirm2').toUpperCase() !== t('emg.phrase')) errors.confirm2 = { key: 'err.confirm' };
    if (Object.keys(errors).length === 0) {
      let content: string | undefined;
      if (file) {
        const qs = new URLSearchParams({
          title: values.title,
          unit: values.unit,
          lang: 'vi',
          category: 'disaster',
          kind: 'audio',
          name: file.name.replace(/[/\\]/g, '_').slice(0, 255) || 'khan-cap',
        });
        const up = await callApi<ContentRecord>(s.api, c, 'POST', `/content/upload?${qs}`, undefined, {
          raw: file.stream(),
          contentType: file.type || 'application/octet-stream',
          headers: { 'content-length': String(file.size) },
        });
        if (up.ok) content = up.data.id;
        else errors.file = up.message;
      }
      if (!errors.file) {
        const r = await callApi<EmergencyViewData>(s.api, c, 'POST', '/emergency', {
          unit: values.unit,
          title: values.title,
          ...(values.text ? { text: values.text } : {}),
          ...(content ? { content } : {}),
          repeat,
        });
        if (r.ok) return c.redirect(ui(`/emergency/${encodeURIComponent(r.data.bundle.id)}`), 303);
        Object.assign(errors, apiFieldErrors(r));
      }
    }
    return c.html(
      <FormPage ctx={g.ctx} {...(await formData(s, c, g.user))} values={values} errors={errors} />,
      400,
    );
  });
}
