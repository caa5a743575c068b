/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Taking a published programme back ("Gỡ chương trình") and cancelling a sent emergency ("Huỷ
 * cảnh báo"): a reason, a confirmation, then the signed recall through the API as the person
 * (services/recall-service.ts). Afterwards the control says how many stations dropped it. Shown
 * only to roles that may publish that priority.
 */
import type { Hono } from 'hono';
import type { BundleRecord } from '../../../domain/model.js';
import { can } from '../../../domain/rbac.js';
import { mayDropRecall, type RecallState, recallCounts, recallOf } from '../../../domain/recall.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Csrf } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, str, type UiServer } from '../shared.js';

/**
 * May this user recall this bundle (the permission to publish its priority), or co-sign its
 * pending recall (an editor or approver, for a programme)?
 */
export function mayRecall(ctx: UiCtx, b: BundleRecord): boolean {
  const role = ctx.user?.role;
  if (role === undefined) return false;
  if (can(role, b.emergency ? 'emergency.send' : 'bundle.publish')) return true;
  return (
    !b.emergency &&
    recallOf(b)?.state === 'pending' &&
    (can(role, 'bundle.compose') || can(role, 'bundle.approve'))
  );
}

/** "đã gỡ trên N/M trạm", or the form that asks for the recall. */
export function RecallControl(props: { ctx: UiCtx; bundle: BundleRecord; back: string }) {
  const { ctx, bundle: b } = props;
  const t = ctx.t;
  const r = recallOf(b);
  if (r?.state === 'published') {
    const n = recallCounts(r);
    return (
      <small class="recall-status" data-recall={b.id} title={r.document.reason}>
        {t('recall.done', { n: n.withdrawn, m: n.targeted })}
      </small>
    );
  }
  if (b.state !== 'published') return null;
  const drop =
    r && ctx.user && mayDropRecall(ctx.user, b, r) ? <DropForm ctx={ctx} b={b} back={props.back} /> : null;
  if (!mayRecall(ctx, b))
    return r?.state === 'pending' && drop ? (
      <span>
        <PendingNote ctx={ctx} b={b} r={r} /> {drop}
      </span>
    ) : null;
  if (r?.state === 'pending' && ctx.user && r.requestedBy.includes(ctx.user.id))
    // signed already: the second signature must come from someone else
    return (
      <span>
        <PendingNote ctx={ctx} b={b} r={r} /> {drop}
      </span>
    );
  const label = t(b.emergency ? 'recall.cancelEmergency' : 'recall.withdraw');
  const title = b.manifest.items[0]?.title ?? b.id;
  const form = (
    <form
      method="post"
      action={ui(`/bundles/${encodeURIComponent(b.id)}/recall`)}
      class="recall-form"
      data-confirm={t(b.emergency ? 'recall.confirmEmergency' : 'recall.confirm', { title })}
    >
      <Csrf ctx={ctx} />
      <input type="hidden" name="back" value={props.back} />
      {r?.state === 'pending' ? (
        <small class="muted">
          {t('recall.pending', { n: r.document.signatures.length })} {r.document.reason}
        </small>
      ) : (
        <label>
          <span class="sr-only">{t('recall.reason')}</span>
          <input
            name="reason"
            required
            maxlength={500}
            placeholder={t('recall.reason')}
            aria-label={`${t('recall.reason')}: ${title}`}
          />
        </label>
      )}
      {r?.state === 'pending' ? <input type="hidden" name="reason" value={r.document.reason} /> : null}
      <button type="submit" class="danger" data-recall-button={b.id}>
        {r?.state === 'pending' ? t('recall.cosign') : label}
      </button>
    </form>
  );
  return drop ? (
    <span>
      {form} {drop}
    </span>
  ) : (
    form
  );
}

function PendingNote(props: { ctx: UiCtx; b: BundleRecord; r: RecallState }) {
  return (
    <small class="muted" data-recall-pending={props.b.id}>
      {props.ctx.t('recall.pending', { n: props.r.document.signatures.length })} {props.r.document.reason}
    </small>
  );
}

/** "Huỷ yêu cầu gỡ": drops a recall still waiting for its second signature. */
function DropForm(props: { ctx: UiCtx; b: BundleRecord; back: string }) {
  const { ctx, b } = props;
  const t = ctx.t;
  return (
    <form
      method="post"
      action={ui(`/bundles/${encodeURIComponent(b.id)}/recall/drop`)}
      class="recall-form"
      data-confirm={t('recall.dropConfirm', {
        title: b.manifest.description || b.manifest.items[0]?.title || b.id,
      })}
    >
      <Csrf ctx={ctx} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class="secondary" data-recall-drop={b.id}>
        {t('recall.drop')}
      </button>
    </form>
  );
}

export function registerRecallPages(app: Hono<AppEnv>, s: UiServer): void {
  app.post('/ui/bundles/:id/recall/drop', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const backIn = str(f, 'back');
    const back = backIn.startsWith('/ui/') && !backIn.startsWith('//') ? backIn : ui('/programmes');
    const id = c.req.param('id');
    const r = await callApi(s.api, c, 'DELETE', `/bundles/${encodeURIComponent(id)}/recall`);
    if (r.ok) return done(c, back, 'recall.dropped');
    const t = g.ctx.t;
    return c.html(
      <Layout ctx={g.ctx} title={t('recall.failed')}>
        <p class="flash error" role="alert">
          {t('recall.failed')}: {r.message} ({r.code})
        </p>
        <p>
          <a href={back}>{t('recall.back')}</a>
        </p>
      </Layout>,
      r.status as 400,
    );
  });

  app.post('/ui/bundles/:id/recall', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const backIn = str(f, 'back');
    const back = backIn.startsWith('/ui/') && !backIn.startsWith('//') ? backIn : ui('/programmes');
    const id = c.req.param('id');
    const r = await callApi<{ state: string }>(
      s.api,
      c,
      'POST',
      `/bundles/${encodeURIComponent(id)}/recall`,
      {
        reason: str(f, 'reason'),
      },
    );
    if (r.ok) return done(c, back, r.data.state === 'pending' ? 'recall.pendingOk' : 'recall.ok');
    const t = g.ctx.t;
    return c.html(
      <Layout ctx={g.ctx} title={t('recall.failed')}>
        <p class="flash error" role="alert">
          {t('recall.failed')}: {r.message} ({r.code})
        </p>
        <p>
          <a href={back}>{t('recall.back')}</a>
        </p>
      </Layout>,
      r.status as 400,
    );
  });
}
