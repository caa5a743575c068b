/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Audit log viewer (who, what, when, from where), newest first, with an action filter. */
import type { Hono } from 'hono';
import type { AuditEntry } from '../../../domain/model.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Empty } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { viOps } from '../i18n/vi-ops.js';
import { viStaff } from '../i18n/vi-staff.js';
import { Layout } from '../layout.js';
import { guard, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';

/** Known actions (those with a Vietnamese name), for the filter. */
const ACTIONS = Object.keys({ ...viOps, ...viStaff })
  .filter((k) => k.startsWith('act.'))
  .map((k) => k.slice(4));

/** "Đăng nhập" for "auth.login"; an unknown action shows as its code. */
export function actionLabel(ctx: UiCtx, action: string): string {
  const key = `act.${action}` as MsgKey;
  const v = ctx.t(key);
  return v === key ? action : v;
}

function targetLabel(ctx: UiCtx, type: string): string {
  const key = `tgt.${type}` as MsgKey;
  const v = ctx.t(key);
  return v === key ? type : v;
}

function AuditPage(props: {
  ctx: UiCtx;
  entries: AuditEntry[];
  next?: number | undefined;
  action: string;
  names: Map<string, string>;
  units: Map<string, string>;
}) {
  const { ctx, names } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('admin.audit')}>
      <form method="get" action={ui('/admin/audit')} class="filters">
        <div class="field">
          <label for="f-action">{t('admin.what')}</label>
          <select id="f-action" name="action">
            <option value="">{t('audit.actionPick')}</option>
            {ACTIONS.map((a) => (
              <option value={a} selected={a === props.action}>
                {actionLabel(ctx, a)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t('common.filter')}</button>
      </form>
      {props.entries.length === 0 ? (
        <Empty>{t('common.empty')}</Empty>
      ) : (
        <div class="table-wrap">
          <table id="audit">
            <thead>
              <tr>
                <th>{t('common.time')}</th>
                <th>{t('admin.who')}</th>
                <th>{t('admin.what')}</th>
                <th>{t('admin.target')}</th>
                <th>{t('common.unit')}</th>
                <th>{t('admin.from')}</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((e) => (
                <tr>
                  <td>{formatDateTime(e.at, true)}</td>
                  <td title={e.actor.id}>{names.get(e.actor.id) ?? e.actor.name ?? e.actor.id}</td>
                  <td title={e.action}>{actionLabel(ctx, e.action)}</td>
                  <td>
                    {e.target ? (
                      <>
                        {targetLabel(ctx, e.target.type)}:{' '}
                        {e.target.type === 'device' ? (
                          <a href={ui(`/devices/${encodeURIComponent(e.target.id)}`)} title={e.target.id}>
                            {names.get(e.target.id) ?? e.target.id}
                          </a>
                        ) : (
                          <span title={e.target.id}>{names.get(e.target.id) ?? e.target.id}</span>
                        )}
                      </>
                    ) : (
                      ''
                    )}
                  </td>
                  <td title={e.unit}>{e.unit ? (props.units.get(e.unit) ?? e.unit) : ''}</td>
                  <td>{e.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.next ? (
        <p>
          <a
            class="button secondary"
            href={ui(
              `/admin/audit?beforeSeq=${props.next}${props.action ? `&action=${encodeURIComponent(props.action)}` : ''}`,
            )}
          >
            →
          </a>
        </p>
      ) : null}
    </Layout>
  );
}

export function registerAuditPage(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/admin/audit', async (c) => {
    const g = await guard(c, s, 'audit.read');
    if ('response' in g) return g.response;
    const before = Number(c.req.query('beforeSeq'));
    const action = (c.req.query('action') ?? '').trim().slice(0, 64);
    const qs =
      (Number.isInteger(before) && before > 0 ? `&beforeSeq=${before}` : '') +
      (action ? `&action=${encodeURIComponent(action)}` : '');
    const r = await callApi<AuditEntry[]>(s.api, c, 'GET', `/audit?limit=200${qs}`);
    const entries = r.ok ? r.data : [];
    const last = entries.at(-1);
    // People and devices by name (records keep ids).
    const names = new Map<string, string>();
    for (const id of new Set(entries.flatMap((e) => [e.actor.id, e.target?.id ?? '']))) {
      if (!id) continue;
      const u = await s.deps.store.users.get(id);
      if (u) {
        names.set(id, u.displayName || u.username);
        continue;
      }
      const d = await s.deps.store.devices.get(id);
      if (d?.name) names.set(id, d.name);
    }
    // Content and programmes by title: content from the entry itself (deleted content keeps its
    // title in the log), programmes from their description.
    for (const e of entries) {
      const id = e.target?.id;
      if (!id || names.has(id)) continue;
      const title = (e.details as { title?: unknown } | undefined)?.title;
      if (e.target?.type === 'content' && typeof title === 'string') names.set(id, title);
      else if (e.target?.type === 'bundle') {
        const b = await s.deps.store.bundles.get(id);
        if (b?.manifest.description) names.set(id, b.manifest.description);
      }
    }
    const units = new Map((await s.deps.store.units.list()).map((u) => [u.path, u.name]));
    return c.html(
      <AuditPage
        ctx={g.ctx}
        entries={entries}
        action={action}
        names={names}
        units={units}
        next={entries.length === 200 && last ? last.seq : undefined}
      />,
    );
  });
}
