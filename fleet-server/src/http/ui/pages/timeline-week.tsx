/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The week of the programme page ("Tuần"): per output, a table of the seven days (Monday to
 * Sunday) with what will play, what is held and why, the first and last times, the air time, and a
 * link to each day's plan.
 */
import { Empty } from '../components.js';
import type { UiCtx } from '../context.js';
import type { LengthParts } from '../view-models/timeline.js';
import type { HeldReason, WeekLane, WeekView } from '../view-models/timeline-week.js';

function reasonWords(ctx: UiCtx, r: HeldReason): string {
  return r.kind === 'quiet'
    ? ctx.t('tlw.held.quiet', { n: r.n })
    : ctx.t('tlw.held.opted', { n: r.n, name: r.name });
}

function airtime(
  ctx: UiCtx,
  words: (l: LengthParts) => string,
  a: LengthParts | undefined,
  estimated: boolean,
) {
  if (!a) return '—';
  return estimated ? ctx.t('tl.approx', { time: words(a) }) : words(a);
}

function WeekTable(props: {
  ctx: UiCtx;
  lane: WeekLane;
  dayHref: (day: string) => string;
  words: (l: LengthParts) => string;
  today: string;
}) {
  const { ctx, lane } = props;
  const t = ctx.t;
  return (
    <section class={`tl-lane tlw-lane ${lane.output}`} data-lane={lane.output}>
      <h2>{t(`tl.lane.${lane.output}`)}</h2>
      <p class="tl-summary">
        {t(`tlw.summary.${lane.output}`, { plays: lane.totals.plays, held: lane.totals.held })}
        {lane.totals.airtime
          ? ` · ${t('tlw.airtimeTotal', { len: airtime(ctx, props.words, lane.totals.airtime, lane.totals.airtimeEstimated) })}`
          : ''}
      </p>
      {lane.totals.plays + lane.totals.held === 0 ? (
        <Empty>{t(`tlw.laneEmpty.${lane.output}`)}</Empty>
      ) : (
        <table class="tlw-table">
          <thead>
            <tr>
              <th scope="col">{t('tlw.col.day')}</th>
              <th scope="col">{t(`tlw.col.plays.${lane.output}`)}</th>
              <th scope="col">{t('tlw.col.held')}</th>
              <th scope="col">{t('tlw.col.span')}</th>
              <th scope="col">{t('tlw.col.airtime')}</th>
            </tr>
          </thead>
          <tbody>
            {lane.days.map((d) => (
              <tr data-day={d.day} class={d.day === props.today ? 'tlw-today' : undefined}>
                <th scope="row" data-label={t('tlw.col.day')}>
                  <a href={props.dayHref(d.day)}>
                    {t(`tlw.weekday.${d.weekday}`)} <span class="muted">{d.date}</span>
                  </a>
                </th>
                <td class="tlw-plays" data-label={t(`tlw.col.plays.${lane.output}`)}>
                  {d.plays}
                </td>
                <td class="tlw-held" data-label={t('tlw.col.held')}>
                  {d.held}
                  {d.reasons.length ? (
                    <small class="tl-why"> ({d.reasons.map((r) => reasonWords(ctx, r)).join('; ')})</small>
                  ) : null}
                </td>
                <td class="tlw-span" data-label={t('tlw.col.span')}>
                  {d.first ? `${d.first}–${d.last}` : '—'}
                </td>
                <td class="tlw-airtime" data-label={t('tlw.col.airtime')}>
                  {airtime(ctx, props.words, d.airtime, d.airtimeEstimated)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The week's lanes; `dayHref` links a day to its plan, `words` says a length. */
export function WeekSection(props: {
  ctx: UiCtx;
  view: WeekView;
  dayHref: (day: string) => string;
  words: (l: LengthParts) => string;
  today: string;
}) {
  return (
    <>
      {props.view.lanes.map((lane) => (
        <WeekTable
          ctx={props.ctx}
          lane={lane}
          dayHref={props.dayHref}
          words={props.words}
          today={props.today}
        />
      ))}
      <p class="muted">{props.ctx.t('tlw.note')}</p>
    </>
  );
}
