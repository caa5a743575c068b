/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Station software updates: the agent releases (version, who signed them, the staged rollout
 * canary → unit → all, halted and why) and the fleet's agent versions per unit, by name. Starting
 * a stage or halting goes through the JSON API as the person (trust.manage: administrators);
 * everyone else with the page sees it read-only. Without the releases plugin the API answers
 * 404 and the page says the server does not run updates.
 */
import type { Hono } from 'hono';
import { can } from '../../../domain/rbac.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Badge, Csrf, Empty, ErrorWords, errorSentence, Section } from '../components.js';
import type { UiCtx } from '../context.js';
import { ui } from '../context.js';
import { scopedDevices, unitMap, userNames } from '../data.js';
import { Layout } from '../layout.js';
import { errorPage } from '../refusal.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';
import {
  type FleetVersionsIn,
  type ReleaseIn,
  type ReleaseRow,
  type RolloutEntryIn,
  releaseRows,
  type Stage,
  type VersionsVm,
  versionsVm,
} from '../view-models/releases.js';

interface Vm {
  off: boolean;
  rows: ReleaseRow[];
  versions: VersionsVm;
  canManage: boolean;
}

const stageKey = (s: Stage) => `rel.stage.${s}` as const;

function Stages(props: { ctx: UiCtx; row: ReleaseRow }) {
  const { ctx, row } = props;
  const t = ctx.t;
  return (
    <ol class="stages">
      {(['canary', 'unit', 'all'] as const).map((st) => {
        const done = row.stages.filter((s) => s.stage === st);
        return (
          <li class={done.length ? 'done' : ''} data-stage={st}>
            <strong>{t(stageKey(st))}</strong>
            {done.map((s) => (
              <div>
                <small>
                  {t('rel.stageDone', {
                    unit: s.unit ? `${s.unit}: ` : '',
                    n: s.count,
                    at: formatDateTime(s.at),
                    by: s.by,
                  })}
                </small>
              </div>
            ))}
          </li>
        );
      })}
    </ol>
  );
}

function Actions(props: { ctx: UiCtx; row: ReleaseRow }) {
  const { ctx, row } = props;
  const t = ctx.t;
  const base = ui(`/releases/${encodeURIComponent(row.id)}`);
  return (
    <div class="actions">
      {row.next.map((st) => (
        <form method="post" action={`${base}/stage`} class="inline-form" data-stage-form={st}>
          <Csrf ctx={ctx} />
          <input type="hidden" name="stage" value={st} />
          {st === 'canary' ? (
            <label>
              {t('rel.count')}{' '}
              <input name="count" type="number" min={1} max={50} value="3" style="width:4.5em" />
            </label>
          ) : null}
          {st === 'unit' ? (
            <label>
              {t('rel.unit')}{' '}
              <select name="unit" required>
                {row.unitChoices.map((u) => (
                  <option value={u.path}>{u.name}</option>
                ))}
              </select>
            </label>
          ) : null}
          <button type="submit">{t('rel.start', { stage: t(stageKey(st)) })}</button>
        </form>
      ))}
      {row.halted || row.stages.length === 0 ? null : (
        <form
          method="post"
          action={`${base}/halt`}
          class="inline-form"
          data-confirm={t('rel.haltConfirm', { v: row.agentVersion })}
        >
          <Csrf ctx={ctx} />
          <label>
            <span class="sr-only">{t('rel.haltReason')}</span>
            <input name="reason" required minlength={3} maxlength={500} placeholder={t('rel.haltReason')} />
          </label>
          <button type="submit" class="danger">
            {t('rel.halt')}
          </button>
        </form>
      )}
    </div>
  );
}

function ReleaseCard(props: { ctx: UiCtx; row: ReleaseRow; canManage: boolean }) {
  const { ctx, row } = props;
  const t = ctx.t;
  return (
    <article class="card release" data-release={row.id}>
      <header class="card-head">
        <h3>
          {t('rel.version', { v: row.agentVersion })}{' '}
          {row.halted ? (
            <Badge tone="bad">{t('rel.halted')}</Badge>
          ) : row.stages.some((s) => s.stage === 'all') ? (
            <Badge tone="ok">{t('rel.done')}</Badge>
          ) : null}
        </h3>
      </header>
      {row.notes ? <p>{row.notes}</p> : null}
      <p class="muted">
        {t('rel.signedBy')}: <span data-signers>{row.signedBy.join(', ')}</span> ·{' '}
        {t('rel.uploaded', { at: formatDateTime(row.uploadedAt), by: row.uploadedBy })} · {t('rel.targets')}:{' '}
        {row.targets.join(', ')}
      </p>
      {row.halted ? (
        <p class="bad" data-halted>
          <strong>{t('rel.halted')}:</strong>{' '}
          {row.halted.station
            ? t('rel.haltedByStation', {
                station: row.halted.station,
                reason: isCode(row.halted.reason)
                  ? errorSentence(ctx, row.halted.reason, row.halted.reason)
                  : row.halted.reason,
                at: formatDateTime(row.halted.at),
              })
            : t('rel.haltedByPerson', {
                by: row.halted.by ?? '—',
                reason: row.halted.reason,
                at: formatDateTime(row.halted.at),
              })}
        </p>
      ) : null}
      <h4>{t('rel.stages')}</h4>
      <Stages ctx={ctx} row={row} />
      {row.stages.length === 0 ? (
        <p class="muted">{t('rel.notStarted')}</p>
      ) : (
        <p data-counts>
          {t('rel.counts', {
            sent: row.counts.sent,
            ready: row.counts.ready,
            wait: row.counts.inProgress,
            failed: row.counts.failed,
          })}
        </p>
      )}
      {row.failed.length > 0 ? (
        <div data-failed>
          <h4>{t('rel.failed')}</h4>
          <ul>
            {row.failed.map((f) => (
              <li>
                <strong>{f.name}</strong> {f.unit ? <small class="muted">({f.unit})</small> : null}:{' '}
                {f.reason && isCode(f.reason) ? (
                  <ErrorWords ctx={ctx} code={f.reason} message={f.reason} />
                ) : (
                  (f.reason ?? '—')
                )}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {row.waiting.length > 0 ? (
        <p class="muted" data-waiting>
          {t('rel.waiting')}: {row.waiting.map((w) => w.name).join(', ')}
        </p>
      ) : null}
      {props.canManage ? (
        <Actions ctx={ctx} row={row} />
      ) : row.next.length > 0 ? (
        <p class="muted">{t('rel.adminOnly')}</p>
      ) : null}
    </article>
  );
}

function Versions(props: { ctx: UiCtx; vm: VersionsVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  if (vm.units.length === 0) return <Empty>{t('rel.fleetNone')}</Empty>;
  const label = (v: string) => (v === '?' ? t('rel.unknownVersion') : v);
  return (
    <>
      <ul class="version-pills" data-versions>
        {vm.versions.map((v) => (
          <li>
            <strong>{label(v.version)}</strong>: {t('rel.nStations', { n: v.devices, online: v.online })}
          </li>
        ))}
      </ul>
      <div class="table-wrap">
        <table id="unit-versions">
          <thead>
            <tr>
              <th>{t('common.unit')}</th>
              {vm.versions.map((v) => (
                <th class="num">{label(v.version)}</th>
              ))}
              <th class="num">{t('rel.total')}</th>
            </tr>
          </thead>
          <tbody>
            {vm.units.map((u) => (
              <tr>
                <td>{u.name}</td>
                {vm.versions.map((v) => (
                  <td class="num">{u.byVersion[v.version] ?? 0}</td>
                ))}
                <td class="num">{u.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function ReleasesPage(props: { ctx: UiCtx; vm: Vm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('rel.title')}>
      <Section title={t('rel.releases')} id="releases">
        {vm.off ? (
          <Empty>{t('rel.off')}</Empty>
        ) : vm.rows.length === 0 ? (
          <Empty>{t('rel.none')}</Empty>
        ) : (
          vm.rows.map((row) => <ReleaseCard ctx={ctx} row={row} canManage={vm.canManage} />)
        )}
      </Section>
      {vm.off ? null : (
        <Section title={t('rel.fleet')} id="fleet-versions">
          <Versions ctx={ctx} vm={vm.versions} />
        </Section>
      )}
    </Layout>
  );
}

async function load(s: UiServer, c: UiContext, user: Parameters<typeof scopedDevices>[1] & { role: string }) {
  const list = await callApi<ReleaseIn[]>(s.api, c, 'GET', '/releases');
  const empty: Vm = { off: true, rows: [], versions: { versions: [], units: [] }, canManage: false };
  if (!list.ok) {
    if (list.status === 404) return empty;
    throw new Error(`${list.code}: ${list.message}`);
  }
  const [fleet, trust, devices, units] = await Promise.all([
    callApi<FleetVersionsIn>(s.api, c, 'GET', '/fleet/versions'),
    callApi<{ policy: { keys?: { keyid: string; name?: string }[] } | null }>(s.api, c, 'GET', '/trust'),
    scopedDevices(s, user),
    unitMap(s, user),
  ]);
  const rollouts = new Map<string, RolloutEntryIn[]>();
  for (const r of list.data) {
    const ro = await callApi<{ devices: RolloutEntryIn[] }>(
      s.api,
      c,
      'GET',
      `/releases/${encodeURIComponent(r.release.id)}/rollout`,
    );
    if (ro.ok) rollouts.set(r.release.id, ro.data.devices);
  }
  const byId = new Map(devices.map((d) => [d.id, d] as const));
  const keys = new Map(
    (trust.ok ? (trust.data.policy?.keys ?? []) : []).map((k) => [k.keyid, k.name] as const),
  );
  const users = await userNames(
    s,
    list.data.flatMap((r) => [r.uploadedBy, r.halted?.by, ...r.stages.map((st) => st.by)]),
  );
  const names = {
    device: (id: string) => byId.get(id)?.name || id,
    deviceUnit: (id: string) => byId.get(id)?.unit,
    unit: (path: string) => units.get(path)?.name ?? path,
    key: (keyid: string) => keys.get(keyid) ?? `${keyid.slice(0, 12)}…`,
    user: (id: string) => users.get(id) ?? id,
  };
  const fleetData = fleet.ok ? fleet.data : { devices: [] };
  return {
    off: false,
    rows: releaseRows(list.data, rollouts, [...new Set(fleetData.devices.map((d) => d.unit))], names),
    versions: versionsVm(fleetData, names),
    canManage: can(user.role as Parameters<typeof can>[0], 'trust.manage'),
  } satisfies Vm;
}

export function registerReleasePages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/releases', async (c) => {
    const g = await guard(c, s, 'read');
    if ('response' in g) return g.response;
    return c.html(<ReleasesPage ctx={g.ctx} vm={await load(s, c, g.user)} />);
  });

  app.post('/ui/releases/:id/stage', async (c) => {
    const g = await guard(c, s, 'trust.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const stage = str(f, 'stage');
    const count = Number(str(f, 'count'));
    const body = {
      stage,
      ...(stage === 'unit' ? { unit: str(f, 'unit') } : {}),
      ...(stage === 'canary' && Number.isInteger(count) && count > 0 ? { count } : {}),
    };
    const r = await callApi(
      s.api,
      c,
      'POST',
      `/releases/${encodeURIComponent(c.req.param('id'))}/stages`,
      body,
    );
    if (!r.ok) return errorPage(c, g.ctx, `${r.message} (${r.code})`, r.status === 409 ? 409 : 400);
    return done(c, ui('/releases'), 'rel.staged');
  });

  app.post('/ui/releases/:id/halt', async (c) => {
    const g = await guard(c, s, 'trust.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const r = await callApi(s.api, c, 'POST', `/releases/${encodeURIComponent(c.req.param('id'))}/halt`, {
      reason: str(f, 'reason'),
    });
    if (!r.ok) return errorPage(c, g.ctx, `${r.message} (${r.code})`, r.status === 409 ? 409 : 400);
    return done(c, ui('/releases'), 'rel.haltedOk');
  });
}

/** A station's reason that is an error code (UPDATE_ROLLED_BACK), said in words on the page. */
function isCode(reason: string): boolean {
  return /^[A-Z][A-Z0-9_]{2,}$/.test(reason);
}
