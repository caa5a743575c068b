/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Reports: the effectiveness of a unit over a period (the same figures as GET
 * /api/v1/reports/effectiveness): planned vs played per unit, day and output, essential content
 * reached, airtime by category and language by name, uptime from presence, faults apart from brief
 * start-up alerts; CSV and Excel export; printable.
 */
import { isLoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { inScope } from '../../../domain/rbac.js';
import type { EffectivenessReport } from '../../../domain/reports/effectiveness.js';
import { computeKpis, type Kpi } from '../../../domain/reports/kpi.js';
import { periodOf } from '../../../domain/reports/period.js';
import { toCsv } from '../../../domain/reports/table.js';
import { dailyTable } from '../../../domain/reports/tables.js';
import { ReportService } from '../../../services/report-service.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Bar, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { formatNumber } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { guard, type UiServer } from '../shared.js';
import { formatDay, vnDay } from '../time.js';
import { unitOptions } from '../unit-labels.js';

function pct(ctx: UiCtx, a: number | null): string {
  return a === null ? '—' : `${formatNumber(ctx.lang, a * 100, 1)}%`;
}

function ReportPage(props: {
  ctx: UiCtx;
  rep: EffectivenessReport | null;
  kpis?: Kpi[];
  from: string;
  to: string;
  unit: string;
  /** The units in the reader's scope by name, for the unit picker. */
  units: readonly (readonly [string, string])[];
  error?: boolean;
}) {
  const { ctx, rep } = props;
  const t = ctx.t;
  const qs = new URLSearchParams({
    from: props.from,
    to: props.to,
    ...(props.unit ? { unit: props.unit } : {}),
  });
  const tot = rep?.totals;
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
          <select id="f-unit" name="unit">
            <option value="">{t('common.all')}</option>
            {props.units.map(([path, label]) => (
              <option value={path} selected={path === props.unit}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t('common.filter')}</button>
        <a class="button secondary" href={ui(`/reports.csv?${qs}`)}>
          {t('common.exportCsv')}
        </a>
        {rep ? (
          <a
            class="button secondary"
            href={`/api/v1/reports/effectiveness?${new URLSearchParams({ unit: rep.unit, from: props.from, to: props.to, format: 'xlsx' })}`}
          >
            {t('rep.exportXlsx')}
          </a>
        ) : null}
        <button type="button" class="secondary" data-print>
          {t('common.print')}
        </button>
      </form>
      {rep && tot ? (
        <>
          <h2 class="print-only">
            {t('rep.summary')} · {rep.unitName} · {rep.period.name}
          </h2>
          <div class="stats">
            <div class="stat">
              <b>{formatNumber(ctx.lang, tot.audio.planned)}</b>
              {t('rep.scheduled')} ({t('out.audio')})
            </div>
            <div class="stat ok">
              <b>{formatNumber(ctx.lang, tot.audio.done)}</b>
              {t('rep.played')} · {pct(ctx, tot.audio.rate)}
            </div>
            <div class="stat">
              <b>
                {formatNumber(ctx.lang, tot.display.done)}/{formatNumber(ctx.lang, tot.display.planned)}
              </b>
              {t('rep.displayed')} · {pct(ctx, tot.display.rate)}
            </div>
            <div class="stat">
              <b>{pct(ctx, tot.essential.share)}</b>
              {t('rep.essential')}
            </div>
            <div class="stat">
              <b>{pct(ctx, tot.uptime.uptime)}</b>
              {t('rep.uptime')}
            </div>
          </div>
          {props.kpis && props.kpis.length > 0 ? (
            <Section title={t('rep.kpi')}>
              <div class="table-wrap">
                <table id="kpi">
                  <thead>
                    <tr>
                      <th />
                      <th class="num">{t('rep.kpiFigure')}</th>
                      <th class="num">{t('rep.kpiTarget')}</th>
                      <th>{t('rep.kpiSource')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.kpis.map((k) => (
                      <tr class={k.met === false ? 'bad' : undefined}>
                        <td>{k.name}</td>
                        <td class="num">
                          {k.value === null
                            ? '—'
                            : k.kind === 'share'
                              ? pct(ctx, k.value)
                              : formatNumber(ctx.lang, k.value)}
                          {k.met === null ? '' : ` · ${k.met ? t('rep.kpiMet') : t('rep.kpiNotMet')}`}
                        </td>
                        <td class="num">{k.target === null ? '—' : pct(ctx, k.target)}</td>
                        <td>
                          <small>{k.source}</small>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Section>
          ) : null}
          <Section title={t('rep.perUnitDay')}>
            {rep.daily.length === 0 ? (
              <Empty>{t('common.empty')}</Empty>
            ) : (
              <div class="table-wrap">
                <table id="unit-day">
                  <thead>
                    <tr>
                      <th>{t('rep.day')}</th>
                      <th>{t('common.unit')}</th>
                      <th>{t('out.header')}</th>
                      <th class="num">{t('rep.planned')}</th>
                      <th class="num">
                        {t('rep.played')} / {t('rep.displayed').toLowerCase()}
                      </th>
                      <th class="num">{t('rep.rate')}</th>
                      <th class="no-print" />
                    </tr>
                  </thead>
                  <tbody>
                    {rep.daily.map((r) => (
                      <tr>
                        <td>{formatDay(r.day)}</td>
                        <td>{r.unitName}</td>
                        <td>{t(`out.${r.output}`)}</td>
                        <td class="num">{r.planned}</td>
                        <td class="num">{r.done}</td>
                        <td class="num">{pct(ctx, r.planned ? r.done / r.planned : null)}</td>
                        <td class="no-print" style="width:20%">
                          <Bar
                            total={r.planned}
                            parts={[
                              { value: r.done, tone: 'ok', label: t('rep.played') },
                              { value: r.planned - r.done, tone: 'bad', label: t('overview.missed') },
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
          {rep.essential.items.some((i) => i.missedCount > 0) ? (
            <Section title={t('rep.essential')}>
              <table id="essential">
                <tbody>
                  {rep.essential.items
                    .filter((i) => i.missedCount > 0)
                    .map((i) => (
                      <tr>
                        <td>{i.title}</td>
                        <td>{i.priorityName}</td>
                        <td class="num">
                          {i.reached}/{i.targeted}
                        </td>
                        <td>
                          {t('rep.missedBy')}: {i.missed.map((m) => m.name).join(', ')}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </Section>
          ) : null}
          <div class="grid">
            {(
              [
                ['rep.airtimeCat', rep.airtime.byCategory, 'airtime-cat'],
                ['rep.airtimeLang', rep.airtime.byLanguage, 'airtime-lang'],
              ] as const
            ).map(([title, rows, id]) => (
              <Section title={t(title)}>
                {rows.length === 0 ? (
                  <Empty>{t('common.empty')}</Empty>
                ) : (
                  <table id={id}>
                    <tbody>
                      {rows.map((r) => (
                        <tr>
                          <td>{r.name}</td>
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
              {rep.units.length === 0 ? (
                <Empty>{t('common.empty')}</Empty>
              ) : (
                <>
                  <table id="uptime">
                    <tbody>
                      {rep.units.map((u) => (
                        <tr>
                          <td>{u.unitName}</td>
                          <td class="num">
                            {u.uptime.uptime === null ? t('rep.noObservation') : pct(ctx, u.uptime.uptime)}
                          </td>
                          <td class="num">
                            {u.uptime.outages} {t('rep.outages').toLowerCase()}
                          </td>
                          <td class="num">
                            {u.faults} {t('rep.faults').toLowerCase()}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <p class="muted">{t('rep.uptimeNote')}</p>
                </>
              )}
            </Section>
            <Section title={t('rep.faults')}>
              {rep.faults.length === 0 ? (
                <Empty>{t('common.empty')}</Empty>
              ) : (
                <table id="faults">
                  <thead>
                    <tr>
                      <th />
                      <th class="num">{t('rep.faults')}</th>
                      <th class="num">{t('rep.brief')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rep.faults.map((a) => (
                      <tr>
                        <td>{a.name}</td>
                        <td class="num">{a.faults}</td>
                        <td class="num muted">{a.brief}</td>
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

function params(s: UiServer, q: Record<string, string>, user: AuthUser) {
  const now = s.deps.clock.now();
  const from = q.from ?? vnDay(now - 6 * 86_400_000);
  const to = q.to ?? vnDay(now);
  const unit = q.unit && inScope(user, q.unit) ? q.unit : '';
  let period = null;
  try {
    period = periodOf(from, to, 92);
  } catch (e) {
    if (!isLoaError(e)) throw e;
  }
  return { from, to, unit, period };
}

/** The report service of the server, or one of the page's own when the reports plugin is absent. */
function serviceOf(s: UiServer): ReportService {
  s.reports ??= new ReportService({ store: s.deps.store, clock: s.deps.clock });
  return s.reports;
}

async function load(s: UiServer, user: AuthUser, p: ReturnType<typeof params>): Promise<EffectivenessReport> {
  const own = user.scope.filter((x) => x !== '*');
  const roots = await s.deps.store.units.children(null);
  const unit =
    p.unit || (own.length === 1 ? (own[0] as string) : roots.length === 1 ? (roots[0]?.path ?? '') : '');
  const svc = serviceOf(s);
  if (unit) return svc.effectiveness({ unit, period: p.period as NonNullable<typeof p.period> });
  // several roots in scope: one report per root, shown together
  const reps = await Promise.all(
    roots
      .filter((r) => inScope(user, r.path))
      .map((r) => svc.effectiveness({ unit: r.path, period: p.period as NonNullable<typeof p.period> })),
  );
  const first = reps[0];
  if (!first) throw new Error('no unit in scope');
  return { ...first, daily: reps.flatMap((r) => r.daily), units: reps.flatMap((r) => r.units) };
}

export function registerReportPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/reports', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const p = params(s, c.req.query(), g.user);
    const all = await s.deps.store.units.list();
    const picker = unitOptions(
      all.filter((u) => inScope(g.user, u.path)),
      all,
    );
    if (!p.period)
      return c.html(
        <ReportPage ctx={g.ctx} rep={null} from={p.from} to={p.to} unit={p.unit} units={picker} error />,
        400,
      );
    const rep = await load(s, g.user, p);
    const units = await s.deps.store.units.subtree(rep.unit);
    const parents = new Set(units.map((u) => u.parent));
    const kpis = computeKpis({
      report: rep,
      communes: units.filter((u) => !parents.has(u.path)),
      devices: await s.deps.store.devices.inUnits([rep.unit]),
      register: await s.deps.store.register.list(
        (e) => e.unit === rep.unit || e.unit.startsWith(`${rep.unit}/`),
      ),
    });
    return c.html(
      <ReportPage ctx={g.ctx} rep={rep} kpis={kpis} from={p.from} to={p.to} unit={p.unit} units={picker} />,
    );
  });

  app.get('/ui/reports.csv', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const p = params(s, c.req.query(), g.user);
    if (!p.period) return c.text(g.ctx.t('rep.range'), 400);
    const rep = await load(s, g.user, p);
    return c.body(toCsv(dailyTable(rep)), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="loa-bao-cao-${p.from}-${p.to}.csv"`,
    });
  });
}
