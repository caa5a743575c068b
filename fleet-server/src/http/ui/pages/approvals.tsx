/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Approval queue, bundle detail with a diff against the published version, approve/reject/publish. */
import type { Hono } from 'hono';
import type { BundleRecord } from '../../../domain/model.js';
import { can } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Csrf, Empty, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { userNames } from '../data.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';
import { type Change, diffManifests } from '../view-models/diff.js';
import { BundleState } from './programmes.js';

interface Rollout {
  summary?: Record<string, number>;
}

function QueuePage(props: { ctx: UiCtx; queue: BundleRecord[]; names: ReadonlyMap<string, string> }) {
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
                    <a href={ui(`/approvals/${encodeURIComponent(b.id)}`)}>{b.id}</a>
                    <br />
                    <small class="muted">{b.manifest.items.map((i) => i.title).join(' · ')}</small>
                  </td>
                  <td>{b.units.join(', ')}</td>
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

function DetailPage(props: {
  ctx: UiCtx;
  b: BundleRecord;
  prev: BundleRecord | undefined;
  changes: Change[];
  canApprove: boolean;
  canPublish: boolean;
  errors?: FieldErrors;
  reason?: string;
  rollout?: Rollout | undefined;
  names: ReadonlyMap<string, string>;
}) {
  const { ctx, b } = props;
  const who = (id: string | undefined) => (id ? (props.names.get(id) ?? id) : '—');
  const t = ctx.t;
  const e = props.errors;
  return (
    <Layout ctx={ctx} title={b.id}>
      <p>
        <BundleState ctx={ctx} state={b.state} /> · {t('prog.channel')} <code>{b.channel}</code> v{b.version}{' '}
        · {b.units.join(', ')}
        {b.rejectedReason ? (
          <>
            {' '}
            · {t('common.reason')}: {b.rejectedReason}
          </>
        ) : null}
      </p>
      <Section title={t('appr.diff')} id="diff">
        {props.prev ? (
          <p class="muted">
            ← {props.prev.id} (v{props.prev.version})
          </p>
        ) : (
          <p class="muted">{t('appr.firstVersion')}</p>
        )}
        <table class="diff">
          <tbody>
            {props.changes.map((c) => (
              <tr class={c.kind}>
                <td>{t(CHANGE_KEY[c.kind])}</td>
                <td>
                  <code>{c.what}</code> {c.id}
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
            <li>
              <code>{s.keyid.slice(0, 16)}…</code>
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
          data-confirm={`${t('prog.publish')} ${b.id}?`}
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
  return (
    <DetailPage
      ctx={ctx}
      b={b}
      prev={prev}
      changes={diffManifests(prev?.manifest, b.manifest)}
      canApprove={can(user.role, 'bundle.approve')}
      canPublish={can(user.role, 'bundle.publish')}
      {...(errors ? { errors } : {})}
      {...(reason !== undefined ? { reason } : {})}
      rollout={rollout?.ok ? rollout.data : undefined}
      names={await userNames(s, [b.createdBy, b.submittedBy, ...(b.approvedBy ?? [])])}
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
    return c.html(<QueuePage ctx={g.ctx} queue={queue} names={names} />);
  });

  app.get('/ui/approvals/:id', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const page = await detail(s, c, g.ctx, g.user, c.req.param('id'));
    return page ? c.html(page) : c.text(g.ctx.t('err.notFound'), 404);
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
      const r = await callApi(
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
          id,
        );
      if (r.issues.some((i) => i.path[0] === 'reason')) errors.reason = r.issues[0]?.message ?? r.message;
      else errors._form = `${r.message} (${r.code})`;
    }
    const page = await detail(s, c, g.ctx, g.user, id, errors, reason);
    return page ? c.html(page, 400) : c.text(g.ctx.t('err.notFound'), 404);
  });
}
