/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Audit log viewer (who, what, when, from where), newest first, with an action filter. */
import type { Hono } from 'hono';
import type { AuditEntry } from '../../../domain/model.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Empty } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { Layout } from '../layout.js';
import { guard, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';

function AuditPage(props: { ctx: UiCtx; entries: AuditEntry[]; next?: number | undefined; action: string }) {
  const { ctx } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('admin.audit')}>
      <form method="get" action={ui('/admin/audit')} class="filters">
        <div class="field">
          <label for="f-action">{t('admin.what')}</label>
          <input
            id="f-action"
            name="action"
            value={props.action}
            placeholder={t('admin.auditFilter')}
            maxlength={64}
          />
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
                  <td>{e.actor.name ?? e.actor.id}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ? `${e.target.type} ${e.target.id}` : ''}</td>
                  <td>{e.unit ?? ''}</td>
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
    return c.html(
      <AuditPage
        ctx={g.ctx}
        entries={entries}
        action={action}
        next={entries.length === 200 && last ? last.seq : undefined}
      />,
    );
  });
}
