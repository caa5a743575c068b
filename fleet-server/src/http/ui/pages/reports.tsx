/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Reports: per unit and day scheduled vs played, airtime, uptime, alerts; CSV export; printable. */
import type { Hono } from 'hono';
import { inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Bar, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { scopedDevices, unitMap } from '../data.js';
import { formatNumber } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { guard, type UiServer } from '../shared.js';
import { formatDay, vnDay, vnDayStart } from '../time.js';
import { buildReport, dayRange, type ReportVm, reportCsv } from '../view-models/report.js';
import { categoryLabel } from './content.js';
import { alertLabel } from './fleet-view.js';

function pct(ctx: UiCtx, a: number, b: number): string {
  return b === 0 ? '—' : `${formatNumber(ctx.lang, (a / b) * 100, 1)}%`;
}

function ReportPage(props: {
  ctx: UiCtx;
  vm: ReportVm | null;
  from: string;
  to: string;
  unit: string;
  error?: boolean;
}) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const qs = new URLSearchParams({
    from: props.from,
    to: props.to,
    ...(props.unit ? { unit: props.unit } : {}),
  });
  return (
    <Layout ctx={ctx} title={t('rep.title')}>
      <form method="get" action={ui('/reports')} class="filters">
        <div class={props.error ? 'field invalid' : 'field'}>
          <label for="f-from">{t('rep.from')}</label>
          <input id="f-from" name="from" type="date" value={props.from} />
          {props.error ? (
            <p class="error" data-error-for="from" role="alert">
              {t('rep.range')}
            </p>
          ) : null}
        </div>
        <div class="field">
          <label for="f-to">{t('rep.to')}</label>
          <input id="f-to" name="to" type="date" value={props.to} />
        </div>
        <div class="field">
          <label for="f-unit">{t('common.unit')}</label>
          <input id="f-unit" name="unit" value={props.unit} placeholder="08/02500" />
        </div>
        <button type="submit">{t('common.filter')}</button>
        <a class="button secondary" href={ui(`/reports.csv?${qs}`)}>
          {t('common.exportCsv')}
        </a>
        <button type="button" class="secondary" data-print>
          {t('common.print')}
        </button>
      </form>
      {vm ? (
        <>
          <h2 class="print-only">
            {t('rep.summary')} · {formatDay(vm.from)} – {formatDay(vm.to)}
            {props.unit ? ` · ${props.unit}` : ''}
          </h2>
          <div class="stats">
            <div class="stat">
              <b>{formatNumber(ctx.lang, vm.totals.scheduled)}</b>
              {t('rep.scheduled')}
            </div>
            <div class="stat ok">
              <b>{formatNumber(ctx.lang, vm.totals.played)}</b>
              {t('rep.played')}
            </div>
            <div class="stat">
              <b>{pct(ctx, vm.totals.played, vm.totals.scheduled)}</b>
              {t('rep.rate')}
            </div>
          </div>
          <Section title={t('rep.perUnitDay')}>
            {vm.rows.length === 0 ? (
              <Empty>{t('common.empty')}</Empty>
            ) : (
              <div class="table-wrap">
                <table id="unit-day">
                  <thead>
                    <tr>
                      <th>{t('rep.day')}</th>
                      <th>{t('common.unit')}</th>
                      <th>{t('out.header')}</th>
                      <th class="num">{t('rep.scheduled')}</th>
                      <th class="num">{t('rep.played')}</th>
                      <th class="num">{t('rep.rate')}</th>
                      <th class="no-print" />
                    </tr>
                  </thead>
                  <tbody>
                    {vm.rows.map((r) => (
                      <tr>
                        <td>{formatDay(r.day)}</td>
                        <td>
                          {r.unitName} <small class="muted">{r.unit}</small>
                        </td>
                        <td>{t(`out.${r.output}`)}</td>
                        <td class="num">{r.scheduled}</td>
                        <td class="num">{r.played}</td>
                        <td class="num">{pct(ctx, r.played, r.scheduled)}</td>
                        <td class="no-print" style="width:20%">
                          <Bar
                            total={r.scheduled}
                            parts={[
                              { value: r.played, tone: 'ok', label: t('rep.played') },
                              { value: r.scheduled - r.played, tone: 'bad', label: t('overview.missed') },
                            ]}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <div class="grid">
            {(
              [
                ['rep.airtimeCat', vm.byCategory, (k: string) => categoryLabel(ctx, k)],
                ['rep.airtimeLang', vm.byLanguage, (k: string) => k],
              ] as const
            ).map(([title, rows, label]) => (
              <Section title={t(title)}>
                {rows.length === 0 ? (
                  <Empty>{t('common.empty')}</Empty>
                ) : (
                  <table>
                    <tbody>
                      {rows.map((r) => (
                        <tr>
                          <td>{label(r.key)}</td>
                          <td class="num">
                            {formatNumber(ctx.lang, r.minutes, 1)} {t('rep.minutes').toLowerCase()}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Section>
            ))}
            <Section title={t('rep.uptime')}>
              {vm.uptime.length === 0 ? (
                <Empty>{t('common.empty')}</Empty>
              ) : (
                <table>
                  <tbody>
                    {vm.uptime.map((u) => (
                      <tr>
                        <td>{u.unitName}</td>
                        <td class="num">{formatNumber(ctx.lang, u.uptime * 100, 1)}%</td>
                        <td class="num">
                          {u.alerts} {t('rep.alerts').toLowerCase()}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
            <Section title={t('rep.alerts')}>
              {vm.alertsByRule.length === 0 ? (
                <Empty>{t('common.empty')}</Empty>
              ) : (
                <table>
                  <tbody>
                    {vm.alertsByRule.map((a) => (
                      <tr>
                        <td>{alertLabel(ctx, a.rule)}</td>
                        <td class="num">{a.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
          </div>
        </>
      ) : null}
    </Layout>
  );
}

async function loadReport(s: UiServer, user: AuthUser, days: string[], unit: string): Promise<ReportVm> {
  const { store, clock } = s.deps;
  const scope = unit ? { scope: [unit] } : user;
  const [devices, units, bundles] = await Promise.all([
    scopedDevices(s, scope),
    unitMap(s, user),
    store.bundles.list((b) => b.state === 'published'),
  ]);
  const ids = new Set(devices.map((d) => d.id));
  const fromIso = new Date(vnDayStart(days[0] as string)).toISOString();
  const toIso = new Date(vnDayStart(days.at(-1) as string) + 86_400_000 + 3600_000).toISOString();
  const [proofs, alerts] = await Promise.all([
    store.proofs.query({ from: fromIso, to: toIso }),
    store.alerts.list((a) => ids.has(a.deviceId)),
  ]);
  return buildReport({
    days,
    units,
    devices,
    bundles,
    proofs: proofs.filter((p) => ids.has(p.deviceId)).map((p) => p.proof),
    alerts,
    nowMs: clock.now(),
  });
}

function params(s: UiServer, q: Record<string, string>, user: AuthUser) {
  const today = vnDay(s.deps.clock.now());
  const from = q.from ?? vnDay(s.deps.clock.now() - 6 * 86_400_000);
  const to = q.to ?? today;
  const unit = q.unit && inScope(user, q.unit) ? q.unit : '';
  return { from, to, unit, days: dayRange(from, to) };
}

export function registerReportPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/reports', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const p = params(s, c.req.query(), g.user);
    if (!p.days)
      return c.html(<ReportPage ctx={g.ctx} vm={null} from={p.from} to={p.to} unit={p.unit} error />, 400);
    const vm = await loadReport(s, g.user, p.days, p.unit);
    return c.html(<ReportPage ctx={g.ctx} vm={vm} from={p.from} to={p.to} unit={p.unit} />);
  });

  app.get('/ui/reports.csv', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const p = params(s, c.req.query(), g.user);
    if (!p.days) return c.text(g.ctx.t('rep.range'), 400);
    const vm = await loadReport(s, g.user, p.days, p.unit);
    const t = g.ctx.t;
    const csv = reportCsv(
      vm,
      [
        t('rep.day'),
        t('common.unit'),
        t('common.name'),
        t('out.header'),
        t('rep.scheduled'),
        t('rep.played'),
        t('rep.rate'),
      ],
      (o) => t(`out.${o}`),
    );
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="loa-bao-cao-${p.from}-${p.to}.csv"`,
    });
  });
}
