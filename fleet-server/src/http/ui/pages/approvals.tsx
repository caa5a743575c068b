/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Approval queue, bundle detail with a diff against the published version, approve/reject/publish. */
import type { Hono } from 'hono';
import type { BundleRecord } from '../../../domain/model.js';
import { can } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Csrf, Empty, Field, FormErrorSummary, fieldAttrs, formatDuration, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { type Signer, scopedDevices, signerNames, unitMap, userNames } from '../data.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { notFoundPage } from '../refusal.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';
import { bundleTitle } from '../view-models/device.js';
import { type Change, type DiffWords, diffManifests } from '../view-models/diff.js';
import { targetedDevices } from '../view-models/overview.js';
import { describeEntry, nextOccurrences } from '../view-models/schedule-words.js';
import { categoryLabel } from './content.js';
import { zoneChoices } from './programme-zones.js';
import { BundleState } from './programmes.js';

interface Rollout {
  summary?: Record<string, number>;
}

function QueuePage(props: {
  ctx: UiCtx;
  queue: BundleRecord[];
  names: ReadonlyMap<string, string>;
  units: ReadonlyMap<string, { name: string }>;
}) {
  const { ctx } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('appr.title')}>
      <Section title={t('appr.queue')}>
        {props.queue.length === 0 ? (
          <Empty>{t('appr.none')}</Empty>
        ) : (
          <table id="queue">
            <thead>
              <tr>
                <th>{t('fleet.bundle')}</th>
                <th>{t('prog.targets')}</th>
                <th>{t('appr.submittedBy')}</th>
                <th>{t('common.time')}</th>
              </tr>
            </thead>
            <tbody>
              {props.queue.map((b) => (
                <tr>
                  <td>
                    <a href={ui(`/approvals/${encodeURIComponent(b.id)}`)} title={b.id}>
                      {b.manifest.description || b.manifest.items.map((i) => i.title).join(' · ') || b.id}
                    </a>
                    {b.manifest.description ? (
                      <>
                        <br />
                        <small class="muted">{b.manifest.items.map((i) => i.title).join(' · ')}</small>
                      </>
                    ) : null}
                  </td>
                  <td title={b.units.join(', ')}>
                    {b.units.map((u) => props.units.get(u)?.name ?? u).join(', ')}
                  </td>
                  <td>{props.names.get(b.submittedBy ?? b.createdBy) ?? b.submittedBy ?? b.createdBy}</td>
                  <td>{formatDateTime(b.submittedAt ?? b.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </Layout>
  );
}

const CHANGE_KEY: Record<Change['kind'], MsgKey> = {
  added: 'appr.added',
  removed: 'appr.removed',
  changed: 'appr.changed',
};

/** A label from the table, or the raw value when the table has none (a new language code). */
function label(ctx: UiCtx, prefix: string, v: string): string {
  const key = `${prefix}.${v}` as MsgKey;
  const out = ctx.t(key);
  return out === key ? v : out;
}

/** The diff in words: titles, Vietnamese kinds, priorities, languages, categories, unit names. */
export function diffWords(ctx: UiCtx, unitName: (path: string) => string): DiffWords {
  const t = ctx.t;
  return {
    item: (i) => {
      const parts = [
        label(ctx, 'kind', i.kind),
        label(ctx, 'priority', i.priority),
        label(ctx, 'lang', i.lang),
      ];
      if (i.category) parts.push(categoryLabel(ctx, i.category));
      if (i.durationMs) parts.push(formatDuration(i.durationMs));
      if (i.text !== undefined) parts.push(`“${i.text.length > 80 ? `${i.text.slice(0, 80)}…` : i.text}”`);
      return parts.join(' · ');
    },
    entry: (e) => describeEntry(t, e),
    unit: unitName,
    target: (x) => {
      const parts = [unitName(x.unit)];
      if (x.groups?.length) parts.push(t('diff.groups', { groups: x.groups.join(', ') }));
      if (x.devices?.length) parts.push(t('diff.devices', { n: x.devices.length }));
      return parts.join(', ');
    },
    date: (iso) => formatDateTime(iso),
  };
}

/** The facts an approver judges, in words (built by the loader). */
interface Summary {
  units: { path: string; name: string }[];
  groups: string[];
  stations: number;
  noticeboards: number;
  next: number[];
  /** The loudspeaker zones the schedule chooses, by the names the stations were given. */
  zones: { id: string; name: string }[];
}

function SummarySection(props: { ctx: UiCtx; b: BundleRecord; sum: Summary }) {
  const { ctx, b, sum } = props;
  const t = ctx.t;
  const m = b.manifest;
  const prio = [...new Set(m.items.map((i) => i.priority))];
  return (
    <Section title={t('appr.summary')} id="summary">
      <dl class="kv summary">
        <dt>{t('appr.what')}</dt>
        <dd>
          <ul class="plain">
            {m.items.map((it) => (
              <li>
                <strong>{it.title}</strong>{' '}
                <small class="muted">
                  {categoryLabel(ctx, it.category)}
                  {it.durationMs ? ` · ${formatDuration(it.durationMs)}` : ''}
                </small>
                {it.kind === 'audio' && it.blob ? (
                  <div>
                    <audio controls preload="none" src={`/blobs/${it.blob.sha256}`} aria-label={it.title}>
                      <track kind="captions" />
                    </audio>
                  </div>
                ) : null}
                {it.kind === 'text' && it.text ? <blockquote class="text-item">{it.text}</blockquote> : null}
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t('appr.when')}</dt>
        <dd>
          <ul class="plain">
            {(m.schedule ?? []).map((e) => (
              <li>{describeEntry(t, e)}</li>
            ))}
          </ul>
          <small class="muted">
            {t('words.next')}:{' '}
            {sum.next.length ? sum.next.map((x) => formatDateTime(x)).join(' · ') : t('words.noNext')}
          </small>
        </dd>
        <dt>{t('appr.where')}</dt>
        <dd>
          {sum.units
            .map((u) => <span title={u.path}>{u.name}</span>)
            .flatMap((x, i) => (i ? [', ', x] : [x]))}
          {sum.groups.length ? <small class="muted"> ({sum.groups.join(', ')})</small> : null}
          {sum.zones.length ? (
            <>
              <br />
              <span data-k="appr:zones">
                {t('prog.zones')}:{' '}
                {sum.zones
                  .map((z) => <span title={z.id}>{z.name}</span>)
                  .flatMap((x, i) => (i ? [', ', x] : [x]))}
              </span>
            </>
          ) : null}
          <br />
          <small>
            {t('tree.stations', { n: sum.stations })}
            {sum.noticeboards ? `, ${t('tree.noticeboards', { n: sum.noticeboards })}` : ''}
          </small>
        </dd>
        <dt>{t('appr.priority')}</dt>
        <dd>{prio.map((p) => t(`priority.${p}` as MsgKey)).join(', ')}</dd>
        <dt>{t('appr.valid')}</dt>
        <dd>
          {t('appr.validRange', {
            from: formatDateTime(m.notBefore ?? m.created),
            to: formatDateTime(m.expires),
          })}
        </dd>
      </dl>
    </Section>
  );
}

/** "Nguyễn Thị Duyệt (Người duyệt)": who holds a key and in what role; the key id stays on hover. */
export function signerLabel(ctx: UiCtx, signer: Signer | undefined): string {
  const t = ctx.t;
  if (!signer) return t('sig.unknown');
  const role = signer.role
    ? t(`role.${signer.role}` as MsgKey)
    : (signer.trustRoles ?? []).map((r) => label(ctx, 'trole', r)).join(', ');
  return role ? t('sig.by', { name: signer.name, role }) : signer.name;
}

function DetailPage(props: {
  ctx: UiCtx;
  sum: Summary;
  b: BundleRecord;
  prev: BundleRecord | undefined;
  changes: Change[];
  canApprove: boolean;
  canPublish: boolean;
  errors?: FieldErrors;
  reason?: string;
  rollout?: Rollout | undefined;
  names: ReadonlyMap<string, string>;
  signers: ReadonlyMap<string, Signer>;
  channelName: string;
}) {
  const { ctx, b } = props;
  const who = (id: string | undefined) => (id ? (props.names.get(id) ?? id) : '—');
  const t = ctx.t;
  const e = props.errors;
  return (
    <Layout
      ctx={ctx}
      title={b.manifest.description || b.manifest.items.map((i) => i.title).join(' · ') || b.id}
    >
      <p>
        <BundleState ctx={ctx} state={b.state} /> · {t('prog.channel')}{' '}
        <span title={`${b.channel} · ${b.id}`} data-k="appr:channel">
          {props.channelName}
        </span>{' '}
        <small class="muted">v{b.version}</small>
        {b.rejectedReason ? (
          <>
            {' '}
            · {t('common.reason')}: {b.rejectedReason}
          </>
        ) : null}
      </p>
      <SummarySection ctx={ctx} b={b} sum={props.sum} />
      <Section title={t('appr.diff')} id="diff">
        {props.prev ? (
          <p class="muted" title={props.prev.id}>
            {t('diff.prev', {
              v: props.prev.version,
              at: formatDateTime(props.prev.publishedAt ?? props.prev.createdAt),
            })}
          </p>
        ) : (
          <p class="muted">{t('appr.firstVersion')}</p>
        )}
        {props.changes.length === 0 ? <p>{t('diff.none')}</p> : null}
        <table class="diff">
          <tbody>
            {props.changes.map((c) => (
              <tr class={c.kind}>
                <td>{t(CHANGE_KEY[c.kind])}</td>
                <td title={c.id}>
                  <span class="muted">{t(`diff.${c.what}` as MsgKey)}</span>
                  {c.label ? (
                    <>
                      {' '}
                      <strong>{c.label}</strong>
                    </>
                  ) : null}
                </td>
                <td>
                  {c.before ? <del>{c.before}</del> : null}
                  {c.before && c.after ? <br /> : null}
                  {c.after ? <ins>{c.after}</ins> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title={t('appr.signatures')}>
        <ul>
          {b.manifest.signatures.map((s) => (
            <li title={t('sig.keyTitle', { keyid: s.keyid })} data-signer={s.keyid}>
              {signerLabel(ctx, props.signers.get(s.keyid))}
            </li>
          ))}
        </ul>
        <p class="muted">
          {t('appr.submittedBy')}: {who(b.submittedBy ?? b.createdBy)}
          {b.approvedBy?.length ? ` · ${t('bstate.approved')}: ${b.approvedBy.map(who).join(', ')}` : ''}
        </p>
      </Section>
      {props.rollout?.summary ? (
        <Section title={t('device.rollout')}>
          <p>
            {Object.entries(props.rollout.summary)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k in { total: 1, pending: 1 } ? k : t(`rollout.${k}` as MsgKey)}: ${n}`)
              .join(' · ')}
          </p>
        </Section>
      ) : null}
      <FormErrorSummary ctx={ctx} errors={e} />
      {b.state === 'submitted' && props.canApprove ? (
        <div class="grid">
          <Section title={t('appr.approve')}>
            <form method="post" action={ui(`/approvals/${encodeURIComponent(b.id)}/approve`)}>
              <Csrf ctx={ctx} />
              <button type="submit">{t('appr.approve')}</button>
            </form>
          </Section>
          <Section title={t('appr.reject')}>
            <form
              method="post"
              action={ui(`/approvals/${encodeURIComponent(b.id)}/reject`)}
              class="stack"
              novalidate
            >
              <Csrf ctx={ctx} />
              <Field
                ctx={ctx}
                name="reason"
                label={t('common.reason')}
                errors={e}
                hint={t('appr.reasonHint')}
              >
                <textarea {...fieldAttrs(e, 'reason')} rows={3} maxlength={1000}>
                  {props.reason ?? ''}
                </textarea>
              </Field>
              <button type="submit" class="danger">
                {t('appr.reject')}
              </button>
            </form>
          </Section>
        </div>
      ) : null}
      {b.state === 'approved' && props.canPublish ? (
        <form
          method="post"
          action={ui(`/bundles/${encodeURIComponent(b.id)}/publish`)}
          data-confirm={`${t('prog.publish')} “${bundleTitle(b)}”?`}
        >
          <Csrf ctx={ctx} />
          <button type="submit" id="publish">
            {t('prog.publish')}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

async function detail(
  s: UiServer,
  c: UiContext,
  ctx: UiCtx,
  user: AuthUser,
  id: string,
  errors?: FieldErrors,
  reason?: string,
) {
  const r = await callApi<BundleRecord>(s.api, c, 'GET', `/bundles/${encodeURIComponent(id)}`);
  if (!r.ok) return undefined;
  const b = r.data;
  const published = await callApi<BundleRecord[]>(
    s.api,
    c,
    'GET',
    `/bundles?state=published&channel=${encodeURIComponent(b.channel)}&limit=20`,
  );
  const prev = (published.ok ? published.data : [])
    .filter((p) => p.version < b.version)
    .sort((a, z) => z.version - a.version)[0];
  const rollout =
    b.state === 'published'
      ? await callApi<Rollout>(s.api, c, 'GET', `/bundles/${encodeURIComponent(id)}/rollout`)
      : undefined;
  const [units, devices] = await Promise.all([unitMap(s, user), scopedDevices(s, user)]);
  const targeted = targetedDevices(b, devices);
  const sum: Summary = {
    units: b.manifest.targets.map((x) => ({ path: x.unit, name: units.get(x.unit)?.name ?? x.unit })),
    groups: [...new Set(b.manifest.targets.flatMap((x) => x.groups ?? []))],
    stations: targeted.filter((d) => d.kind !== 'noticeboard').length,
    noticeboards: targeted.filter((d) => d.kind === 'noticeboard').length,
    next: nextOccurrences(b.manifest, s.deps.clock.now()),
    zones: [...new Set((b.manifest.schedule ?? []).flatMap((e) => e.zones ?? []))].map((id) => ({
      id,
      name: zoneChoices(targeted).find((z) => z.id === id)?.name ?? id,
    })),
  };
  return (
    <DetailPage
      ctx={ctx}
      sum={sum}
      b={b}
      prev={prev}
      changes={diffManifests(
        prev?.manifest,
        b.manifest,
        diffWords(ctx, (p) => units.get(p)?.name ?? p),
      )}
      channelName={b.manifest.description || prev?.manifest.description || b.channel}
      canApprove={can(user.role, 'bundle.approve')}
      canPublish={can(user.role, 'bundle.publish')}
      {...(errors ? { errors } : {})}
      {...(reason !== undefined ? { reason } : {})}
      rollout={rollout?.ok ? rollout.data : undefined}
      names={await userNames(s, [b.createdBy, b.submittedBy, ...(b.approvedBy ?? [])])}
      signers={
        await signerNames(
          s,
          b.manifest.signatures.map((x) => x.keyid),
        )
      }
    />
  );
}

export function registerApprovalPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/approvals', async (c) => {
    const g = await guard(c, s, 'bundle.approve');
    if ('response' in g) return g.response;
    const r = await callApi<BundleRecord[]>(s.api, c, 'GET', '/approvals');
    const queue = r.ok ? r.data : [];
    const names = await userNames(
      s,
      queue.map((b) => b.submittedBy ?? b.createdBy),
    );
    return c.html(<QueuePage ctx={g.ctx} queue={queue} names={names} units={await unitMap(s, g.user)} />);
  });

  app.get('/ui/approvals/:id', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const page = await detail(s, c, g.ctx, g.user, c.req.param('id'));
    return page ? c.html(page) : notFoundPage(c, g.ctx);
  });

  app.post('/ui/approvals/:id/:action{approve|reject}', async (c) => {
    const g = await guard(c, s, 'bundle.approve');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const action = c.req.param('action');
    const reason = str(f, 'reason');
    const errors: FieldErrors = {};
    if (action === 'reject' && !reason) errors.reason = { key: 'err.required' };
    else if (reason.length > 1000) errors.reason = { key: 'err.tooLong', params: { max: 1000 } };
    else {
      const r = await callApi<BundleRecord>(
        s.api,
        c,
        'POST',
        `/bundles/${encodeURIComponent(id)}/${action}`,
        action === 'approve' ? { sign: true } : { reason },
      );
      if (r.ok)
        return done(
          c,
          ui(`/approvals/${encodeURIComponent(id)}`),
          action === 'approve' ? 'appr.approved' : 'appr.rejected',
          bundleTitle(r.data),
        );
      if (r.issues.some((i) => i.path[0] === 'reason')) errors.reason = r.issues[0]?.message ?? r.message;
      else errors._form = `${r.message} (${r.code})`;
    }
    const page = await detail(s, c, g.ctx, g.user, id, errors, reason);
    return page ? c.html(page, 400) : notFoundPage(c, g.ctx);
  });
}
