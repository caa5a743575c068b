/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Overview page: online/offline per unit, open alerts, today's programme planned vs played. */
import type { Hono } from 'hono';
import type { AlertRecord } from '../../../domain/model.js';
import { can } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Ago, Badge, Bar, Csrf, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { fleetInputs, openAlerts } from '../data.js';
import { formatNumber } from '../i18n/index.js';
import { Layout } from '../layout.js';
import type { LiveView, UpdateSet } from '../live.js';
import { errorPage } from '../refusal.js';
import { checkFormCsrf, done, guard, list, readForm, type UiServer } from '../shared.js';
import { formatDay, formatTime, vnDay, vnDayStart } from '../time.js';
import { buildFleet, summarizeByUnit } from '../view-models/fleet.js';
import { buildOverview, type OverviewVm } from '../view-models/overview.js';
import { alertLabel } from './fleet-view.js';

type OverviewPageVm = OverviewVm & { names: Map<string, string>; unitNames: Map<string, string> };

async function loadOverview(s: UiServer, user: AuthUser): Promise<OverviewPageVm> {
  const now = s.deps.clock.now();
  const day = vnDay(now);
  const dayStart = vnDayStart(day);
  const inp = await fleetInputs(s, user);
  const fleet = buildFleet(inp, {});
  const [alerts, bundles, proofs] = await Promise.all([
    openAlerts(s, user),
    s.deps.store.bundles.list((b) => b.state === 'published'),
    s.deps.store.proofs.query({ from: new Date(dayStart).toISOString() }),
  ]);
  const names = new Map(inp.devices.map((d) => [d.id, d.name || d.id]));
  const vm = buildOverview({
    rows: fleet.rows,
    alerts,
    bundles,
    devices: inp.devices,
    proofs: proofs.map((p) => p.proof),
    day,
    dayStartMs: dayStart,
    nowMs: now,
  });
  return { ...vm, names, unitNames: new Map([...inp.units].map(([p, u]) => [p, u.name])) };
}

/** Open alerts of one cause in one unit: "Mất điện lưới · Xã Tân Trào · 3 cụm loa". */
export interface AlertGroup {
  rule: string;
  unit: string;
  unitName: string;
  severity: AlertRecord['severity'];
  alerts: AlertRecord[];
  /** Ids of the group's alerts not yet acknowledged. */
  open: string[];
  /** The earliest opening. */
  openedAt: string;
}

export function groupAlerts(
  alerts: readonly AlertRecord[],
  unitNames: ReadonlyMap<string, string>,
): AlertGroup[] {
  const sev = { critical: 0, warning: 1, info: 2 } as const;
  const groups = new Map<string, AlertGroup>();
  for (const a of alerts) {
    const k = `${a.unit}|${a.rule}`;
    let g = groups.get(k);
    if (!g) {
      g = {
        rule: a.rule,
        unit: a.unit,
        unitName: unitNames.get(a.unit) ?? a.unit,
        severity: a.severity,
        alerts: [],
        open: [],
        openedAt: a.openedAt,
      };
      groups.set(k, g);
    }
    g.alerts.push(a);
    if (a.state === 'open') g.open.push(a.id);
    if (a.openedAt < g.openedAt) g.openedAt = a.openedAt;
    if (sev[a.severity] < sev[g.severity]) g.severity = a.severity;
  }
  return [...groups.values()].sort(
    (a, b) =>
      sev[a.severity] - sev[b.severity] ||
      b.alerts.length - a.alerts.length ||
      a.unitName.localeCompare(b.unitName, 'vi'),
  );
}

function pct(lang: UiCtx['lang'], a: number, b: number): string {
  return b === 0 ? '—' : `${formatNumber(lang, (a / b) * 100, 1)}%`;
}

function OverviewPage(props: { ctx: UiCtx; vm: OverviewPageVm; canAck: boolean }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const n = (x: number) => formatNumber(ctx.lang, x);
  return (
    <Layout ctx={ctx} title={t('overview.title')} live={ui('/live/overview')}>
      <div class="stats">
        <div class="stat">
          <b>{n(vm.total)}</b>
          {t('overview.devices')}
        </div>
        <div class="stat ok">
          <b data-k="ov:online">{n(vm.counts.online)}</b>
          {t('overview.online')}
        </div>
        <div class="stat bad">
          <b data-k="ov:offline">{n(vm.counts.offline + vm.counts.never)}</b>
          {t('overview.offline')}
        </div>
        <div class="stat warn">
          <b data-k="ov:alerts">{n(vm.alerts.length)}</b>
          {t('overview.openAlerts')}
        </div>
        <div class="stat">
          <b data-k="ov:rate">{pct(ctx.lang, vm.dueBy.audio.played, vm.dueBy.audio.planned)}</b>
          {t('overview.playRateAudio')}
        </div>
        {vm.dueBy.display.planned > 0 ? (
          <div class="stat">
            <b data-k="ov:rate-display">{pct(ctx.lang, vm.dueBy.display.played, vm.dueBy.display.planned)}</b>
            {t('overview.playRateDisplay')}
          </div>
        ) : null}
      </div>
      <div class="grid">
        <Section title={t('overview.byUnit')}>
          {vm.units.length === 0 ? (
            <Empty>{t('common.empty')}</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>{t('common.unit')}</th>
                  <th class="num">{t('overview.online')}</th>
                  <th class="num">{t('overview.offline')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {vm.units.map((u) => (
                  <tr>
                    <td>
                      <a href={ui(`/fleet?unit=${encodeURIComponent(u.path)}`)}>{u.name}</a>
                    </td>
                    <td class="num" data-k={`ov:u:${u.path}:on`}>
                      {n(u.online)}
                    </td>
                    <td class="num" data-k={`ov:u:${u.path}:off`}>
                      {n(u.offline)}
                    </td>
                    <td style="width:35%">
                      <Bar
                        total={u.total}
                        parts={[
                          { value: u.online, tone: 'ok', label: t('overview.online') },
                          { value: u.offline, tone: 'bad', label: t('overview.offline') },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title={t('overview.openAlerts')}>
          <div data-k="ov:alert-list">
            {vm.alerts.length === 0 ? (
              <Empty>{t('overview.noAlerts')}</Empty>
            ) : (
              <table id="alert-groups">
                <tbody>
                  {groupAlerts(vm.alerts, vm.unitNames)
                    .slice(0, 50)
                    .map((g) => (
                      <tr>
                        <td>
                          <Badge
                            tone={
                              g.severity === 'critical' ? 'bad' : g.severity === 'warning' ? 'warn' : 'info'
                            }
                          >
                            {alertLabel(ctx, g.rule)}
                          </Badge>
                        </td>
                        <td>
                          <strong title={g.unit}>{g.unitName}</strong>{' '}
                          <span class="muted">· {t('alert.covers', { n: g.alerts.length })}</span>
                          <br />
                          <small>
                            {g.alerts.slice(0, 5).map((a, i) => (
                              <>
                                {i > 0 ? ', ' : ''}
                                <a href={ui(`/devices/${encodeURIComponent(a.deviceId)}`)} title={a.deviceId}>
                                  {vm.names.get(a.deviceId) ?? a.deviceId}
                                </a>
                              </>
                            ))}
                            {g.alerts.length > 5 ? ` … (+${g.alerts.length - 5})` : ''}
                          </small>
                        </td>
                        <td>
                          <Ago ctx={ctx} at={g.openedAt} />
                          {g.open.length === 0 ? (
                            <>
                              <br />
                              <small class="muted">{t('alert.acknowledged')}</small>
                            </>
                          ) : props.canAck ? (
                            <form method="post" action={ui('/alerts/ack')}>
                              <Csrf ctx={ctx} />
                              {g.open.map((id) => (
                                <input type="hidden" name="id" value={id} />
                              ))}
                              <button type="submit" class="secondary">
                                {t('alert.ack')}
                              </button>
                            </form>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )}
          </div>
        </Section>
      </div>
      <Section title={t('overview.today', { day: formatDay(vm.day) })}>
        <div data-k="ov:programme">
          {vm.programme.length === 0 ? (
            <Empty>{t('overview.noProgramme')}</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>{t('common.time')}</th>
                    <th>{t('prog.items')}</th>
                    <th class="num">{t('overview.planned')}</th>
                    <th class="num">{t('overview.played')}</th>
                    <th class="hide-sm" />
                  </tr>
                </thead>
                <tbody>
                  {vm.programme.map((r) => (
                    <tr>
                      <td>{formatTime(r.at)}</td>
                      <td>
                        {r.titles.join(' · ')}
                        <br />
                        <small class="muted" title={r.channel}>
                          {t(`out.${r.output}`)} · {r.programme || r.channel}
                        </small>
                      </td>
                      <td class="num">{n(r.planned)}</td>
                      <td class="num">{n(r.played)}</td>
                      <td class="hide-sm" style="width:25%">
                        <Bar
                          total={r.planned}
                          parts={[
                            { value: r.played, tone: 'ok', label: t('overview.played') },
                            {
                              value: r.due ? r.planned - r.played : 0,
                              tone: 'bad',
                              label: t('overview.missed'),
                            },
                          ]}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </Section>
    </Layout>
  );
}

/** The programme table and play rate read today's proofs: re-rendered at most this often. */
const PROGRAMME_EVERY_MS = 3000;

export function overviewLiveView(s: UiServer, user: AuthUser, ctx: UiCtx): LiveView {
  // Fleet counts are cheap (in-memory state); the programme reads today's proofs, so it is
  // refreshed when a proof arrived, at most every few seconds (a later mark picks up the rest).
  let progAt = 0;
  let progPending = false;
  let alertsPending = false;
  return {
    wantsDevice: () => true,
    wantsTopic: (t) => t === 'alerts' || t === 'devices' || t === 'proofs',
    initial: { topics: ['devices'] },
    render: async (dirty) => {
      if (dirty.topics.has('proofs')) progPending = true;
      if (dirty.topics.has('alerts')) alertsPending = true;
      const n = (x: number) => formatNumber(ctx.lang, x);
      const fleet = buildFleet(await fleetInputs(s, user), {});
      const alerts = await openAlerts(s, user);
      const set: UpdateSet = {
        'ov:online': { t: n(fleet.counts.online) },
        'ov:offline': { t: n(fleet.counts.offline + fleet.counts.never) },
        'ov:alerts': { t: n(alerts.length) },
      };
      for (const u of summarizeByUnit(fleet.rows)) {
        set[`ov:u:${u.path}:on`] = { t: n(u.online) };
        set[`ov:u:${u.path}:off`] = { t: n(u.offline) };
      }
      if (alertsPending) {
        alertsPending = false;
        set['ov:alert-list'] = { r: true };
      }
      if (progPending && s.deps.clock.now() - progAt >= PROGRAMME_EVERY_MS) {
        progPending = false;
        progAt = s.deps.clock.now();
        const vm = await loadOverview(s, user);
        set['ov:rate'] = { t: pct(ctx.lang, vm.dueBy.audio.played, vm.dueBy.audio.planned) };
        set['ov:rate-display'] = { t: pct(ctx.lang, vm.dueBy.display.played, vm.dueBy.display.planned) };
        set['ov:programme'] = { r: true };
      }
      return set;
    },
  };
}

export function registerOverviewPage(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui', (c) => c.redirect(ui('/'), 301));
  app.get('/ui/', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return c.html(
      <OverviewPage
        ctx={g.ctx}
        vm={await loadOverview(s, g.user)}
        canAck={can(g.user.role, 'alert.manage')}
      />,
    );
  });

  // Acknowledges a group of alerts (one cause in one unit) at once.
  app.post('/ui/alerts/ack', async (c) => {
    const g = await guard(c, s, 'alert.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    for (const id of list(f, 'id').slice(0, 1000)) {
      const r = await callApi(s.api, c, 'POST', `/alerts/${encodeURIComponent(id)}/ack`, {});
      if (!r.ok && r.status !== 409)
        return errorPage(c, g.ctx, `${r.message} (${r.code})`, r.status === 403 ? 403 : 400);
    }
    return done(c, ui('/'), 'common.savedOk');
  });

  app.post('/ui/alerts/:id/ack', async (c) => {
    const g = await guard(c, s, 'alert.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const r = await callApi(s.api, c, 'POST', `/alerts/${encodeURIComponent(c.req.param('id'))}/ack`, {});
    if (!r.ok)
      return errorPage(
        c,
        g.ctx,
        `${r.message} (${r.code})`,
        r.status === 403 ? 403 : r.status === 409 ? 409 : 400,
      );
    return done(c, ui('/'), 'common.savedOk');
  });
}
