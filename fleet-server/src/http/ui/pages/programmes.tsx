/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Programme editor (compose a bundle: items, schedule, repeat, quiet hours, targets) and bundle list. */
import type { Hono } from 'hono';
import type { BundleRecord, ContentRecord } from '../../../domain/model.js';
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
  Section,
  type Tone,
} from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { scopedDevices, unitMap } from '../data.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, list, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { fold } from '../text.js';
import { formatDateTime } from '../time.js';
import { type UnitNode, UnitTreeField, unitTree } from '../unit-tree.js';
import { bundleTitle } from '../view-models/device.js';
import { EMPTY_PROGRAMME, type ProgrammeForm, parseProgramme } from '../view-models/programme-form.js';
import { describeEntry, nextOccurrences } from '../view-models/schedule-words.js';
import { type ZoneChoice, ZonesField, zoneChoices } from './programme-zones.js';
import { RecallControl } from './recall.js';

/** The channel picker's "new channel" choice (a channel id never starts with "+"). */
const NEW_CHANNEL = '+new';

/** A channel id from a readable name: "Bản tin sáng Tân Trào" → "ban-tin-sang-tan-trao". */
export function channelSlug(name: string): string {
  return fold(name)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const BSTATE_TONE: Record<string, Tone> = {
  draft: 'muted',
  submitted: 'warn',
  approved: 'info',
  published: 'ok',
  rejected: 'bad',
  withdrawn: 'muted',
};

interface ProgVm {
  tree: UnitNode[];
  unitNames: Map<string, string>;
  /** The newest published bundle of each channel (older ones are replaced on the stations). */
  latest: Map<string, string>;
  /** Channels already used, with a readable name (the latest description), for the picker. */
  channels: { id: string; name: string }[];
  content: ContentRecord[];
  bundles: BundleRecord[];
  /** The named loudspeaker zones of the stations in scope, to choose by name. */
  zones: ZoneChoice[];
  form: ProgrammeForm;
  errors?: FieldErrors;
  canCompose: boolean;
  canPublish: boolean;
}

/** A label from the table (`kind.audio`, `lang.vi`), or the raw value when the table has none. */
function words(ctx: UiCtx, prefix: string, v: string): string {
  const key = `${prefix}.${v}` as MsgKey;
  const out = ctx.t(key);
  return out === key ? v : out;
}

export function BundleState(props: { ctx: UiCtx; state: string }) {
  return (
    <Badge tone={BSTATE_TONE[props.state] ?? 'muted'}>{props.ctx.t(`bstate.${props.state}` as MsgKey)}</Badge>
  );
}

function NextPlays(props: { ctx: UiCtx; at: number[] }) {
  const t = props.ctx.t;
  if (props.at.length === 0) return <small class="muted">{t('words.noNext')}</small>;
  return (
    <small>
      {t('words.next')}: {props.at.map((x) => formatDateTime(x)).join(' · ')}
    </small>
  );
}

function ProgrammesPage(props: { ctx: UiCtx; vm: ProgVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const e = vm.errors;
  const f = vm.form;
  return (
    <Layout ctx={ctx} title={t('prog.title')}>
      {vm.canCompose ? (
        <Section title={t('prog.new')} id="compose">
          <FormErrorSummary ctx={ctx} errors={e} />
          {vm.content.length === 0 ? (
            <p class="empty">{t('prog.noItems')}</p>
          ) : (
            <form method="post" action={ui('/programmes')} class="stack" novalidate>
              <Csrf ctx={ctx} />
              <div class="grid">
                <Field
                  ctx={ctx}
                  name="channel"
                  label={t('prog.channel')}
                  errors={e}
                  hint={t('prog.channelHint')}
                >
                  <select {...fieldAttrs(e, 'channel')}>
                    {vm.channels.map((ch) => (
                      <option value={ch.id} selected={f.channel === ch.id}>
                        {ch.name}
                      </option>
                    ))}
                    <option value={NEW_CHANNEL} selected={!vm.channels.some((ch) => ch.id === f.channel)}>
                      {t('prog.channelNew')}
                    </option>
                  </select>
                </Field>
                <Field ctx={ctx} name="channelName" label={t('prog.channelName')} errors={e}>
                  <input
                    {...fieldAttrs(e, 'channelName')}
                    value={f.channelName ?? ''}
                    maxlength={64}
                    placeholder={t('prog.channelNamePh')}
                  />
                </Field>
              </div>
              <Field ctx={ctx} name="items" label={t('prog.items')} errors={e}>
                <div class="checks" id="f-items">
                  {vm.content.map((c) => (
                    <label>
                      <input type="checkbox" name="items" value={c.id} checked={f.items.includes(c.id)} />
                      {c.title}{' '}
                      <small class="muted">
                        ({words(ctx, 'kind', c.kind)}, {words(ctx, 'lang', c.lang)})
                      </small>
                    </label>
                  ))}
                </div>
              </Field>
              <fieldset class="stack" id="f-live">
                <legend>{t('prog.live')}</legend>
                <p class="muted">{t('prog.liveHint')}</p>
                <div class="grid">
                  <Field ctx={ctx} name="liveKind" label={t('prog.liveKind')} errors={e}>
                    <select {...fieldAttrs(e, 'liveKind')}>
                      {(['', 'stream', 'fm'] as const).map((k) => (
                        <option value={k} selected={(f.live?.kind ?? '') === k}>
                          {t(
                            k === 'stream' ? 'prog.liveStream' : k === 'fm' ? 'prog.liveFm' : 'prog.liveNone',
                          )}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field ctx={ctx} name="liveTitle" label={t('prog.liveTitle')} errors={e}>
                    <input {...fieldAttrs(e, 'liveTitle')} value={f.live?.title ?? ''} maxlength={300} />
                  </Field>
                  <Field ctx={ctx} name="liveUrl" label={t('prog.liveUrl')} errors={e}>
                    <input
                      {...fieldAttrs(e, 'liveUrl')}
                      value={f.live?.url ?? ''}
                      placeholder="http://…/vov1.mp3"
                    />
                  </Field>
                  <Field ctx={ctx} name="liveFormat" label={t('prog.liveFormat')} errors={e}>
                    <select {...fieldAttrs(e, 'liveFormat')}>
                      {['', 'mp3', 'aac', 'ogg', 'hls'].map((k) => (
                        <option value={k} selected={(f.live?.format ?? '') === k}>
                          {k === '' ? t('prog.liveFormatAuto') : k.toUpperCase()}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field ctx={ctx} name="liveFm" label={t('prog.liveFmFreq')} errors={e}>
                    <input
                      {...fieldAttrs(e, 'liveFm')}
                      value={f.live?.fm ?? ''}
                      inputmode="decimal"
                      placeholder="98.7"
                    />
                  </Field>
                  <Field ctx={ctx} name="liveMinutes" label={t('prog.liveMinutes')} errors={e}>
                    <input
                      {...fieldAttrs(e, 'liveMinutes')}
                      value={f.live?.minutes ?? '30'}
                      inputmode="numeric"
                    />
                  </Field>
                  <Field ctx={ctx} name="fallbackFm" label={t('prog.fallbackFm')} errors={e}>
                    <input
                      {...fieldAttrs(e, 'fallbackFm')}
                      value={f.live?.fallbackFm ?? ''}
                      inputmode="decimal"
                      placeholder="96.5"
                    />
                  </Field>
                  <Field ctx={ctx} name="fallbackRecording" label={t('prog.fallbackRecording')} errors={e}>
                    <select {...fieldAttrs(e, 'fallbackRecording')}>
                      <option value="">{t('prog.liveNone')}</option>
                      {vm.content
                        .filter((c) => c.kind === 'audio')
                        .map((c) => (
                          <option value={c.id} selected={f.live?.fallbackRecording === c.id}>
                            {c.title}
                          </option>
                        ))}
                    </select>
                  </Field>
                </div>
              </fieldset>
              <Field ctx={ctx} name="rule" label={t('prog.rule')} errors={e}>
                <select {...fieldAttrs(e, 'rule')} data-rule-select>
                  {(['daily', 'weekly', 'once', 'loop'] as const).map((r) => (
                    <option value={r} selected={f.rule === r}>
                      {t(`prog.rule.${r}` as MsgKey)}
                    </option>
                  ))}
                </select>
              </Field>
              <div data-when="daily weekly">
                <Field ctx={ctx} name="times" label={t('prog.times')} errors={e} hint="05:30, 17:00">
                  <input {...fieldAttrs(e, 'times')} value={f.times} />
                </Field>
              </div>
              <div data-when="weekly">
                <Field ctx={ctx} name="days" label={t('prog.days')} errors={e}>
                  <div class="checks" id="f-days">
                    {DAYS.map((d) => (
                      <label>
                        <input type="checkbox" name="days" value={d} checked={f.days.includes(d)} />
                        {t(`prog.day.${d}` as MsgKey)}
                      </label>
                    ))}
                  </div>
                </Field>
              </div>
              <div data-when="once">
                <Field ctx={ctx} name="at" label={t('prog.at')} errors={e}>
                  <input {...fieldAttrs(e, 'at')} type="datetime-local" value={f.at} />
                </Field>
              </div>
              <Field
                ctx={ctx}
                name="displaySeconds"
                label={t('prog.displaySeconds')}
                errors={e}
                hint={t('prog.displaySecondsHint')}
              >
                <input
                  {...fieldAttrs(e, 'displaySeconds')}
                  type="number"
                  min="1"
                  max="3600"
                  value={f.displaySeconds ?? ''}
                />
              </Field>
              <div class="grid" data-when="daily weekly once">
                <Field ctx={ctx} name="repeat" label={t('prog.repeat')} errors={e}>
                  <input {...fieldAttrs(e, 'repeat')} type="number" min="1" max="100" value={f.repeat} />
                </Field>
                <Field ctx={ctx} name="gap" label={t('prog.gap')} errors={e}>
                  <input {...fieldAttrs(e, 'gap')} type="number" min="0" max="86400" value={f.gap} />
                </Field>
              </div>
              <Field ctx={ctx} name="quiet" label={t('prog.quiet')} errors={e} hint={t('prog.quietHint')}>
                <input {...fieldAttrs(e, 'quiet')} value={f.quiet} />
              </Field>
              <UnitTreeField
                ctx={ctx}
                name="targetUnits"
                errorFor="targets"
                label={t('prog.targetUnits')}
                hint={t('prog.targetUnitsHint')}
                tree={vm.tree}
                checked={new Set(f.targetUnits)}
                errors={e}
              />
              <details open={f.targets.trim() !== '' || undefined}>
                <summary>{t('prog.groupsAdvanced')}</summary>
                <Field ctx={ctx} name="targets" label={t('prog.targets')} hint={t('prog.targetsHint')}>
                  <textarea {...fieldAttrs(undefined, 'targets')} rows={3}>
                    {f.targets}
                  </textarea>
                </Field>
              </details>
              <ZonesField ctx={ctx} zones={vm.zones} value={f.zones} errors={e} />
              <div class="grid">
                <Field ctx={ctx} name="priority" label={t('prog.priority')} errors={e}>
                  <select {...fieldAttrs(e, 'priority')}>
                    {(['normal', 'priority'] as const).map((p) => (
                      <option value={p} selected={f.priority === p}>
                        {t(`priority.${p}` as MsgKey)}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field ctx={ctx} name="validDays" label={t('prog.validDays')} errors={e}>
                  <input
                    {...fieldAttrs(e, 'validDays')}
                    type="number"
                    min="1"
                    max="365"
                    value={f.validDays}
                  />
                </Field>
              </div>
              <div class="actions">
                <button type="submit" name="action" value="draft" class="secondary">
                  {t('prog.saveDraft')}
                </button>
                <button type="submit" name="action" value="submit">
                  {t('prog.submit')}
                </button>
              </div>
            </form>
          )}
        </Section>
      ) : null}
      <Section title={t('prog.drafts')} id="bundles">
        {vm.bundles.length === 0 ? (
          <Empty>{t('common.empty')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="bundle-list">
              <thead>
                <tr>
                  <th>{t('fleet.bundle')}</th>
                  <th>{t('prog.targets')}</th>
                  <th>{t('prog.status')}</th>
                  <th>{t('words.next')}</th>
                  <th>{t('common.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {vm.bundles.map((b) => (
                  <tr data-bundle={b.id}>
                    <td>
                      <a href={ui(`/approvals/${encodeURIComponent(b.id)}`)} title={b.id}>
                        {b.manifest.items.map((i) => i.title).join(' · ') || b.id}
                      </a>
                      <br />
                      <small class="muted">
                        {vm.channels.find((ch) => ch.id === b.channel)?.name ?? b.channel} · v{b.version}
                      </small>
                    </td>
                    <td>
                      {b.units
                        .map((u) => <span title={u}>{vm.unitNames.get(u) ?? u}</span>)
                        .flatMap((x, i) => (i ? [', ', x] : [x]))}
                    </td>
                    <td>
                      <BundleState ctx={ctx} state={b.state} />
                      {b.rejectedReason ? <small class="muted"> {b.rejectedReason}</small> : null}
                    </td>
                    <td class="next-plays">
                      {(b.manifest.schedule ?? []).map((e) => (
                        <div>{describeEntry(t, e)}</div>
                      ))}
                      {b.state === 'published' && vm.latest.get(b.channel) !== b.id ? (
                        <small class="muted">{t('prog.superseded')}</small>
                      ) : ['rejected', 'withdrawn', 'recalled'].includes(b.state) ? null : (
                        <NextPlays ctx={ctx} at={nextOccurrences(b.manifest, ctx.now)} />
                      )}
                    </td>
                    <td>
                      {b.state === 'draft' && vm.canCompose ? (
                        <form method="post" action={ui(`/bundles/${encodeURIComponent(b.id)}/submit`)}>
                          <Csrf ctx={ctx} />
                          <button type="submit" class="secondary">
                            {t('prog.submit')}
                          </button>
                        </form>
                      ) : null}
                      {b.state === 'approved' && vm.canPublish ? (
                        <form
                          method="post"
                          action={ui(`/bundles/${encodeURIComponent(b.id)}/publish`)}
                          data-confirm={`${t('prog.publish')} “${bundleTitle(b)}”?`}
                        >
                          <Csrf ctx={ctx} />
                          <button type="submit">{t('prog.publish')}</button>
                        </form>
                      ) : null}
                      <RecallControl ctx={ctx} bundle={b} back={ui('/programmes')} />
                      {b.state === 'published' ? (
                        <a
                          class="button secondary"
                          href={`/api/v1/bundles/${encodeURIComponent(b.id)}/tar`}
                          download={`${b.channel}-v${b.version}.tar`}
                          data-export-tar={b.id}
                        >
                          {t('prog.usbTar')}
                        </a>
                      ) : null}
                    </td>
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

async function loadProg(
  s: UiServer,
  c: UiContext,
  user: AuthUser,
  form: ProgrammeForm,
  errors?: FieldErrors,
) {
  const [content, bundles, units, devices] = await Promise.all([
    callApi<ContentRecord[]>(s.api, c, 'GET', '/content?limit=500'),
    callApi<BundleRecord[]>(s.api, c, 'GET', '/bundles?emergency=false&limit=100'),
    unitMap(s, user),
    scopedDevices(s, user),
  ]);
  const channels = new Map<string, { id: string; name: string; version: number }>();
  for (const b of bundles.ok ? bundles.data : []) {
    const cur = channels.get(b.channel);
    if (!cur || b.version > cur.version)
      channels.set(b.channel, {
        id: b.channel,
        name: b.manifest.description || b.channel,
        version: b.version,
      });
  }
  const latest = new Map<string, string>();
  const latestV = new Map<string, number>();
  for (const b of bundles.ok ? bundles.data : [])
    if (b.state === 'published' && b.version > (latestV.get(b.channel) ?? 0)) {
      latestV.set(b.channel, b.version);
      latest.set(b.channel, b.id);
    }
  const vm: ProgVm = {
    tree: unitTree(units.values(), devices),
    unitNames: new Map([...units].map(([p, u]) => [p, u.name])),
    latest,
    channels: [...channels.values()]
      .map(({ id, name }) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'vi')),
    content: content.ok ? content.data : [],
    bundles: bundles.ok ? bundles.data : [],
    zones: zoneChoices(devices),
    form,
    canCompose: can(user.role, 'bundle.compose'),
    canPublish: can(user.role, 'bundle.publish'),
    ...(errors ? { errors } : {}),
  };
  return vm;
}

export function registerProgrammePages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/programmes', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const form = { ...EMPTY_PROGRAMME, channel: '', targetUnits: g.user.scope.filter((u) => u !== '*') };
    return c.html(<ProgrammesPage ctx={g.ctx} vm={await loadProg(s, c, g.user, form)} />);
  });

  app.post('/ui/programmes', async (c) => {
    const g = await guard(c, s, 'bundle.compose');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const channelName = str(f, 'channelName');
    const picked = str(f, 'channel');
    const form: ProgrammeForm = {
      channel: picked === NEW_CHANNEL || picked === '' ? channelSlug(channelName) : picked,
      channelName,
      items: list(f, 'items'),
      rule: str(f, 'rule'),
      times: str(f, 'times'),
      days: list(f, 'days'),
      at: str(f, 'at'),
      repeat: str(f, 'repeat'),
      gap: str(f, 'gap'),
      quiet: str(f, 'quiet'),
      targetUnits: list(f, 'targetUnits'),
      targets: typeof f.targets === 'string' ? f.targets : '',
      zones: list(f, 'zones').join(', '),
      priority: str(f, 'priority'),
      validDays: str(f, 'validDays'),
      description: str(f, 'description') || (picked === NEW_CHANNEL || picked === '' ? channelName : ''),
      displaySeconds: str(f, 'displaySeconds'),
      live: {
        kind: str(f, 'liveKind'),
        title: str(f, 'liveTitle'),
        url: str(f, 'liveUrl'),
        format: str(f, 'liveFormat'),
        fm: str(f, 'liveFm'),
        minutes: str(f, 'liveMinutes'),
        fallbackFm: str(f, 'fallbackFm'),
        fallbackRecording: str(f, 'fallbackRecording'),
      },
    };
    const content = await callApi<ContentRecord[]>(s.api, c, 'GET', '/content?limit=1000');
    const known = new Set(content.ok ? content.data.map((x) => x.id) : []);
    const onScreen = new Set(
      content.ok ? content.data.filter((x) => x.kind === 'image' || x.kind === 'text').map((x) => x.id) : [],
    );
    const parsed = parseProgramme(form, {
      nowMs: s.deps.clock.now(),
      inScope: (u) => inScope(g.user, u),
      knownContent: known,
      displayContent: onScreen,
    });
    let errors: FieldErrors;
    if ('body' in parsed) {
      const r = await callApi<BundleRecord>(s.api, c, 'POST', '/bundles', parsed.body);
      if (r.ok) {
        if (str(f, 'action') !== 'submit') return done(c, ui('/programmes'), 'common.savedOk');
        const sub = await callApi(s.api, c, 'POST', `/bundles/${encodeURIComponent(r.data.id)}/submit`, {
          sign: true,
        });
        if (sub.ok) return done(c, ui('/programmes'), 'prog.submittedOk', bundleTitle(r.data));
        errors = {
          _form: `${g.ctx.t('prog.savedNotSubmitted', { title: bundleTitle(r.data) })} ${sub.message} (${sub.code})`,
        };
      } else
        errors = apiFieldErrors(r, (p) =>
          p[0] === 'targets' ? 'targets' : p[0] === 'schedule' ? 'times' : p[0] === 'items' ? 'items' : p[0],
        );
    } else errors = parsed.errors;
    return c.html(<ProgrammesPage ctx={g.ctx} vm={await loadProg(s, c, g.user, form, errors)} />, 400);
  });

  app.post('/ui/bundles/:id/:action{submit|publish}', async (c) => {
    const action = c.req.param('action');
    const g = await guard(c, s, action === 'submit' ? 'bundle.compose' : 'bundle.publish');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const id = encodeURIComponent(c.req.param('id'));
    const r = await callApi<BundleRecord>(
      s.api,
      c,
      'POST',
      `/bundles/${id}/${action}`,
      action === 'submit' ? { sign: true } : {},
    );
    if (!r.ok) {
      const vm = await loadProg(s, c, g.user, EMPTY_PROGRAMME, { _form: `${r.message} (${r.code})` });
      return c.html(<ProgrammesPage ctx={g.ctx} vm={vm} />, r.status as 400);
    }
    const ok = action === 'submit' ? 'prog.submittedOk' : 'prog.publishedOk';
    return done(c, ui('/programmes'), ok, bundleTitle(r.data));
  });
}
