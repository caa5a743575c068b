/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * "Lịch phát trong ngày": for a commune and a day, what its stations will play and when (the
 * upper-level items it carries, its own, the ones it refused struck through, quiet hours shaded),
 * and, for those who may publish, the commune's choices: which upper-level normal slots it does
 * not carry and its quiet hours (signed through the API as the person).
 */
import type { OptOut } from '@loa/protocol';
import type { Hono } from 'hono';
import type { DeviceRecord, UnitRecord } from '../../../domain/model.js';
import type { ProgrammeTimeline } from '../../../domain/programme-timeline.js';
import type { ProgrammeWeek } from '../../../domain/programme-week.js';
import { can } from '../../../domain/rbac.js';
import type { ChoicesView } from '../../../services/choices-service.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Badge, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, list, readForm, str, type UiServer } from '../shared.js';
import { formatDay, vnDay } from '../time.js';
import {
  choicesFromForm,
  type LaneFilter,
  type LaneView,
  type LengthParts,
  type TimelineRowView,
  timelineView,
} from '../view-models/timeline.js';
import { weekView } from '../view-models/timeline-week.js';
import { ChoicesForm } from './timeline-choices.js';
import { WeekSection } from './timeline-week.js';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const UNIT_RE = /^[0-9]{2,5}(\/[0-9]{2,5}){0,4}$/;
const LANES: readonly LaneFilter[] = ['all', 'audio', 'display'];

/** The unit shown first: the deepest unit of the person's scope, else the first commune. */
function defaultUnit(units: readonly UnitRecord[], scope: readonly string[]): string | undefined {
  const own = scope.filter((s) => units.some((u) => u.path === s)).sort((a, b) => b.length - a.length)[0];
  if (own && own.includes('/')) return own;
  return units.find((u) => u.path.includes('/'))?.path ?? own ?? units[0]?.path;
}

function DayBar(props: { ctx: UiCtx; lane: LaneView }) {
  const t = props.ctx.t;
  const { lane } = props;
  return (
    <figure class="tl-bar-wrap">
      <div class="tl-bar" role="img" aria-label={`${t(`tl.lane.${lane.output}`)}: ${t('tl.bar')}`}>
        {lane.bands.map((b) => (
          <span
            class={`tl-band ${b.state}`}
            style={`left:${b.left.toFixed(2)}%;width:${b.width.toFixed(2)}%`}
            title={b.label}
          />
        ))}
      </div>
      <div class="tl-hours" aria-hidden="true">
        {[0, 6, 12, 18, 24].map((h) => (
          <span style={`left:${(h / 24) * 100}%`}>{h}h</span>
        ))}
      </div>
      <figcaption class="tl-legend">
        <span class="tl-key plays">
          {t(lane.output === 'display' ? 'tl.legend.shows' : 'tl.legend.plays')}
        </span>
        <span class="tl-key opted-out">{t('tl.legend.opted')}</span>
        <span class="tl-key quiet">{t('tl.legend.quiet')}</span>
      </figcaption>
    </figure>
  );
}

/** "1 giờ 5 phút", "14 giây": the parts that are not zero. */
export function lengthWords(ctx: UiCtx, l: LengthParts): string {
  const parts: string[] = [];
  if (l.h) parts.push(ctx.t('tl.len.h', { n: l.h }));
  if (l.min) parts.push(ctx.t('tl.len.min', { n: l.min }));
  if (l.s || parts.length === 0) parts.push(ctx.t('tl.len.s', { n: l.s }));
  return parts.join(' ');
}

function Row(props: { ctx: UiCtx; r: TimelineRowView }) {
  const { ctx, r } = props;
  const t = ctx.t;
  const out = r.row.output;
  const length = r.length
    ? t(out === 'display' ? 'tl.len.display' : 'tl.len.audio', { len: lengthWords(ctx, r.length) })
    : t(out === 'display' ? 'tl.len.displayUnknown' : 'tl.len.audioUnknown');
  return (
    <li
      class={`tl-row ${r.row.state}`}
      data-state={r.row.state}
      data-item={r.row.itemId}
      data-output={out}
      data-length={r.row.lengthKnown ? 'known' : 'unknown'}
    >
      <span class="tl-time" title={r.row.startEstimated ? t('tl.approxHelp') : undefined}>
        {r.row.startEstimated ? t('tl.approx', { time: r.time }) : r.time}
      </span>
      <span class="tl-what">
        <span class={`tl-out ${out}`}>{t(`tl.out.${out}`)}</span>{' '}
        {r.row.state === 'opted-out' ? <s>{r.row.title}</s> : <strong>{r.row.title}</strong>}
        {r.row.priority !== 'normal' ? (
          <>
            {' '}
            <Badge tone={r.row.priority === 'emergency' ? 'bad' : 'warn'}>
              {t(r.row.priority === 'emergency' ? 'tl.prio.emergency' : 'tl.prio.priority')}
            </Badge>
          </>
        ) : null}
        <small class="tl-len">{length}</small>
        <small class="muted tl-src">
          {r.row.programme} · {r.row.source === 'own' ? t('tl.own') : t('tl.from', { name: r.fromName })}
        </small>
        {r.row.state === 'opted-out' ? (
          <small class="tl-why">
            {t(out === 'display' ? 'tl.optedOut.display' : 'tl.optedOut', { name: r.refusedBy ?? '' })}
          </small>
        ) : r.row.state === 'quiet' ? (
          <small class="tl-why">{t(out === 'display' ? 'tl.quiet.display' : 'tl.quiet')}</small>
        ) : null}
      </span>
    </li>
  );
}

/** One output's day: its summary, its 24-hour bar and its rows. */
function Lane(props: { ctx: UiCtx; lane: LaneView }) {
  const t = props.ctx.t;
  const { lane } = props;
  return (
    <section class={`tl-lane ${lane.output}`} data-lane={lane.output}>
      <h2>{t(`tl.lane.${lane.output}`)}</h2>
      <p class="tl-summary">
        {t(`tl.summary.${lane.output}`, {
          plays: lane.counts.plays,
          opted: lane.counts.optedOut,
          quiet: lane.counts.quiet,
        })}
      </p>
      <DayBar ctx={props.ctx} lane={lane} />
      {lane.rows.length === 0 ? (
        <Empty>{t(`tl.laneEmpty.${lane.output}`)}</Empty>
      ) : (
        <ol class="tl-rows">
          {lane.rows.map((r) => (
            <Row ctx={props.ctx} r={r} />
          ))}
        </ol>
      )}
      {lane.output === 'display' ? <p class="muted">{t('tl.loopNote')}</p> : null}
    </section>
  );
}

export function registerTimelinePages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/timeline', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const { ctx, user } = g;
    const t = ctx.t;
    const units = await callApi<UnitRecord[]>(s.api, c, 'GET', '/units');
    const all = units.ok ? units.data : [];
    const names = new Map(all.map((u) => [u.path, u.name] as const));
    const q = c.req.query();
    const unit = q.unit && UNIT_RE.test(q.unit) ? q.unit : defaultUnit(all, user.scope);
    const day = q.day && DAY_RE.test(q.day) ? q.day : vnDay(ctx.now);
    const lanes = LANES.find((l) => l === q.lanes) ?? 'all';
    const mode: 'day' | 'week' = q.view === 'week' ? 'week' : 'day';
    let tl: ProgrammeTimeline | undefined;
    let week: ProgrammeWeek | undefined;
    let choices: ChoicesView | undefined;
    let devices: DeviceRecord[] = [];
    let error: string | undefined;
    if (unit) {
      const listed = await callApi<{ devices: DeviceRecord[] }>(s.api, c, 'GET', `/devices?unit=${unit}`);
      // loudspeaker stations first, then the boards, each by name
      devices = listed.ok
        ? listed.data.devices
            .filter((d) => d.status !== 'decommissioned')
            .sort(
              (a, b) =>
                Number(a.kind === 'noticeboard') - Number(b.kind === 'noticeboard') ||
                a.name.localeCompare(b.name, 'vi'),
            )
        : [];
      // a station of another unit (the unit was changed on the form) is not asked for
      const station = devices.find((d) => d.id === q.station)?.id;
      const at = station ? `&station=${encodeURIComponent(station)}` : '';
      if (mode === 'week') {
        const w = await callApi<ProgrammeWeek>(s.api, c, 'GET', `/units/${unit}/timeline?week=${day}${at}`);
        if (w.ok) week = w.data;
        else error = `${w.message} (${w.code})`;
      } else {
        const [a, b] = await Promise.all([
          callApi<ProgrammeTimeline>(s.api, c, 'GET', `/units/${unit}/timeline?day=${day}${at}`),
          callApi<ChoicesView>(s.api, c, 'GET', `/units/${unit}/choices`),
        ]);
        if (a.ok) tl = a.data;
        else error = `${a.message} (${a.code})`;
        if (b.ok) choices = b.data;
      }
    }
    // the form shows the choices waiting for a second signature, so a co-signer signs the same
    const view = tl ? timelineView(tl, names, choices?.pending ?? choices?.current, lanes) : undefined;
    const wv = week ? weekView(week, names, lanes) : undefined;
    const picked = tl?.station ?? week?.station;
    const station = picked ? devices.find((d) => d.id === picked.id) : undefined;
    /** The page for another day or week, the rest of the selection kept. */
    const href = (v: 'day' | 'week', d: string) =>
      `${ui('/timeline')}?${new URLSearchParams({
        ...(unit ? { unit } : {}),
        ...(station ? { station: station.id } : {}),
        ...(lanes !== 'all' ? { lanes } : {}),
        ...(v === 'week' ? { view: 'week' } : {}),
        day: d,
      }).toString()}`;
    // publishers choose; an editor or approver may co-sign choices waiting for a second signature
    const mayChoose =
      unit !== undefined &&
      unit.includes('/') &&
      (can(user.role, 'bundle.publish') ||
        (choices?.pending !== undefined &&
          (can(user.role, 'bundle.compose') || can(user.role, 'bundle.approve'))));
    return c.html(
      <Layout
        ctx={ctx}
        title={`${t(mode === 'week' ? 'tlw.title' : 'tl.title')}${unit ? ` · ${station?.name ?? names.get(unit) ?? unit}` : ''} · ${wv ? `${formatDay(wv.week)}–${formatDay(wv.end)}` : formatDay(day)}`}
      >
        <nav class="tlw-toggle" aria-label={t('tlw.toggle')}>
          <a
            href={href('day', day)}
            class={mode === 'day' ? 'tlw-on' : undefined}
            aria-current={mode === 'day' ? 'page' : undefined}
          >
            {t('tlw.view.day')}
          </a>
          <a
            href={href('week', day)}
            class={mode === 'week' ? 'tlw-on' : undefined}
            aria-current={mode === 'week' ? 'page' : undefined}
          >
            {t('tlw.view.week')}
          </a>
        </nav>
        <form method="get" action={ui('/timeline')} class="filters tl-filters">
          <label>
            {t('tl.unit')}{' '}
            <select name="unit">
              {all.map((u) => (
                <option value={u.path} selected={u.path === unit}>
                  {'\u00a0'.repeat(2 * (u.path.split('/').length - 1))}
                  {u.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('tl.station')}{' '}
            <select name="station">
              <option value="">{t('tl.station.all')}</option>
              {devices.map((d) => (
                <option value={d.id} selected={d.id === station?.id}>
                  {d.name} ({t(d.kind === 'noticeboard' ? 'tl.out.display' : 'tl.out.audio')})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('tl.lanes')}{' '}
            <select name="lanes" disabled={station !== undefined}>
              {LANES.map((l) => (
                <option value={l} selected={l === lanes}>
                  {t(`tl.filter.${l}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t(mode === 'week' ? 'tlw.dayInWeek' : 'tl.day')}{' '}
            <input type="date" name="day" value={day} required />
          </label>
          {mode === 'week' ? <input type="hidden" name="view" value="week" /> : null}
          <button type="submit">{t('tl.show')}</button>
        </form>
        {error ? (
          <p class="flash error" role="alert">
            {error}
          </p>
        ) : null}
        {wv ? (
          <>
            {station ? <p class="tl-station">{t('tlw.stationOf', { name: station.name })}</p> : null}
            <nav class="tlw-weeks" aria-label={t('tlw.weeks')}>
              <a href={href('week', wv.prev)} rel="prev">
                ← {t('tlw.prev')}
              </a>
              <strong>{t('tlw.range', { from: formatDay(wv.week), to: formatDay(wv.end) })}</strong>
              <a href={href('week', wv.next)} rel="next">
                {t('tlw.next')} →
              </a>
            </nav>
            <WeekSection
              ctx={ctx}
              view={wv}
              dayHref={(d) => href('day', d)}
              words={(l) => lengthWords(ctx, l)}
              today={vnDay(ctx.now)}
            />
          </>
        ) : null}
        {view ? (
          <>
            {station ? <p class="tl-station">{t('tl.stationOf', { name: station.name })}</p> : null}
            {view.rows.length === 0 ? <Empty>{t('tl.empty')}</Empty> : null}
            {view.lanes.map((lane) => (
              <Lane ctx={ctx} lane={lane} />
            ))}
            {mayChoose && station ? (
              // the choices are the commune's, for all its devices: changed on the commune's plan
              <p class="muted tl-choices-elsewhere">
                {t('tl.choicesOnUnit')}{' '}
                <a href={`${ui('/timeline')}?unit=${encodeURIComponent(unit as string)}&day=${day}#choices`}>
                  {t('tl.choicesOnUnitLink')}
                </a>
              </p>
            ) : mayChoose ? (
              <Section title={t('tl.choices')} id="choices">
                <ChoicesForm ctx={ctx} unit={unit as string} day={day} view={view} choices={choices} />
              </Section>
            ) : null}
          </>
        ) : null}
      </Layout>,
    );
  });

  app.post('/ui/timeline/choices', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const unit = str(f, 'unit');
    const day = str(f, 'day');
    const back = `${ui('/timeline')}?unit=${encodeURIComponent(unit)}&day=${encodeURIComponent(DAY_RE.test(day) ? day : vnDay(g.ctx.now))}`;
    let kept: OptOut[] = [];
    try {
      const parsed = JSON.parse(str(f, 'kept') || '[]');
      if (Array.isArray(parsed)) kept = parsed as OptOut[];
    } catch {
      kept = [];
    }
    const quiet = [0, 1, 2, 3]
      .map((i) => ({ start: str(f, `qs${i}`), end: str(f, `qe${i}`) }))
      .filter((q) => q.start !== '' || q.end !== '');
    const body = choicesFromForm(list(f, 'refuse'), kept, quiet);
    const r = UNIT_RE.test(unit)
      ? await callApi<ChoicesView>(s.api, c, 'PUT', `/units/${unit}/choices`, body)
      : ({ ok: false, status: 400, code: 'UNIT_INVALID', message: unit } as const);
    if (r.ok) return done(c, back, r.data.pending ? 'tl.savedPending' : 'tl.saved');
    const t = g.ctx.t;
    return c.html(
      <Layout ctx={g.ctx} title={t('tl.failed')}>
        <p class="flash error" role="alert">
          {t('tl.failed')}: {r.message} ({r.code})
        </p>
        <p>
          <a href={back}>{t('tl.back')}</a>
        </p>
      </Layout>,
      r.status as 400,
    );
  });
}
