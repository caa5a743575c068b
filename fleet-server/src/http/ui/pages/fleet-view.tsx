/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Fleet list + map page (pure rendering from the view model). */
import { html } from 'hono/html';
import { Empty, Section, type Tone } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { formatNumber } from '../i18n/index.js';
import { Layout } from '../layout.js';
import type { LiveUpdate } from '../live.js';
import { ageParts, formatDateTime } from '../time.js';
import { type DeviceState, FLEET_PAGE_SIZE, type FleetRow, type FleetVm } from '../view-models/fleet.js';

export const STATE_TONE: Record<DeviceState, Tone> = {
  online: 'ok',
  offline: 'bad',
  never: 'muted',
  pending: 'warn',
  revoked: 'muted',
  decommissioned: 'muted',
};

export function stateLabel(ctx: UiCtx, s: DeviceState): string {
  return ctx.t(`state.${s}` as MsgKey);
}

export function StateBadge(props: { ctx: UiCtx; state: DeviceState; k?: string }) {
  return (
    <span class={`badge ${STATE_TONE[props.state]}`} data-k={props.k}>
      {stateLabel(props.ctx, props.state)}
    </span>
  );
}

export function alertLabel(ctx: UiCtx, rule: string): string {
  const key = `alert.${rule}` as MsgKey;
  const text = ctx.t(key);
  return text === key ? rule : text;
}

/** Relative age text for live updates (same words as <Ago>). */
export function ageText(ctx: UiCtx, at: number | undefined): string {
  if (at === undefined) return ctx.t('common.never');
  const a = ageParts(at, ctx.now);
  const key =
    a.unit === 's'
      ? 'common.secondsAgo'
      : a.unit === 'm'
        ? 'common.minutesAgo'
        : a.unit === 'h'
          ? 'common.hoursAgo'
          : 'common.daysAgo';
  return ctx.t(key, { n: a.n });
}

/** Live-update entries for one fleet row (keys match the data-k attributes below). */
export function rowUpdates(ctx: UiCtx, r: FleetRow): Record<string, LiveUpdate> {
  return {
    [`d:${r.id}:s`]: { t: stateLabel(ctx, r.state), c: `badge ${STATE_TONE[r.state]}`, v: r.state },
    [`d:${r.id}:seen`]: { t: ageText(ctx, r.lastSeen) },
    [`d:${r.id}:a`]: {
      t: r.alerts > 0 ? String(r.alerts) : '',
      c: r.alerts > 0 ? 'badge bad' : '',
      title: r.alertRules.map((a) => alertLabel(ctx, a)).join(', '),
    },
    [`d:${r.id}:air`]: { t: r.onAir ?? '' },
  };
}

/**
 * One table row. The fleet list can hold 10,000 rows, so rows use hono's `html` tagged template
 * (every interpolation is escaped by hono, like JSX text) instead of JSX: ~10x faster to render.
 */
function rowHtml(ctx: UiCtx, r: FleetRow, kinds: { station: string; noticeboard: string }) {
  const alerts = r.alerts > 0 ? String(r.alerts) : '';
  const seen = r.lastSeen === undefined ? '' : formatDateTime(r.lastSeen, true);
  return html`<tr><td><a href="/ui/devices/${encodeURIComponent(r.id)}" title="${r.id}">${r.name || r.id}</a></td><td>${r.unitName}</td><td class="hide-sm">${kinds[r.kind]}</td><td><span class="badge ${STATE_TONE[r.state]}" data-k="d:${r.id}:s">${stateLabel(ctx, r.state)}</span></td><td data-k="d:${r.id}:seen" title="${seen}">${ageText(ctx, r.lastSeen)}</td><td><span class="${alerts ? 'badge bad' : ''}" data-k="d:${r.id}:a" title="${r.alertRules.map((a) => alertLabel(ctx, a)).join(', ')}">${alerts}</span></td><td class="hide-sm" data-k="d:${r.id}:air">${r.onAir ?? ''}</td><td class="hide-sm">${r.bundles}</td></tr>`;
}

function Pager(props: { vm: FleetVm; qs: URLSearchParams }) {
  const { vm } = props;
  const link = (p: number) => {
    const q = new URLSearchParams(props.qs);
    q.set('page', String(p));
    if (vm.pageSize !== FLEET_PAGE_SIZE) q.set('size', String(vm.pageSize));
    return `/ui/fleet?${q}`;
  };
  const around = [...new Set([1, vm.page - 2, vm.page - 1, vm.page, vm.page + 1, vm.page + 2, vm.pages])]
    .filter((p) => p >= 1 && p <= vm.pages)
    .sort((a, b) => a - b);
  return (
    <nav class="pager actions" aria-label="pages">
      {around.map((p) =>
        p === vm.page ? (
          <strong class="button">{p}</strong>
        ) : (
          <a class="button secondary" href={link(p)}>
            {p}
          </a>
        ),
      )}
    </nav>
  );
}

export function FleetPage(props: { ctx: UiCtx; vm: FleetVm; tileUrl: string; liveUrl: string }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const f = vm.filter;
  const qs = new URLSearchParams();
  if (f.unit) qs.set('unit', f.unit);
  if (f.state && f.state !== 'all') qs.set('state', f.state);
  if (f.alert && f.alert !== 'all') qs.set('alert', f.alert);
  if (f.q) qs.set('q', f.q);
  const states: DeviceState[] = ['online', 'offline', 'never', 'pending', 'revoked', 'decommissioned'];
  const kinds = { station: t('fleet.kind.station'), noticeboard: t('fleet.kind.noticeboard') };
  return (
    <Layout
      ctx={ctx}
      title={t('fleet.title')}
      live={props.liveUrl}
      css={['/ui/vendor/leaflet/leaflet.css']}
      vendorScripts={['/ui/vendor/leaflet/leaflet.js']}
      scripts={[ui('/assets/map.js')]}
    >
      <div class="stats">
        {(['online', 'offline', 'never', 'pending'] as const).map((st) => (
          <div class={`stat ${STATE_TONE[st]}`}>
            <b data-k={`cnt:${st}`}>{formatNumber(ctx.lang, vm.counts[st])}</b>
            {stateLabel(ctx, st)}
          </div>
        ))}
      </div>
      <form method="get" action={ui('/fleet')} class="filters">
        <div class="field">
          <label for="f-unit">{t('fleet.filterUnit')}</label>
          <select id="f-unit" name="unit">
            <option value="">{t('common.all')}</option>
            {vm.units.map((u) => (
              <option value={u.path} selected={u.path === f.unit}>
                {`${'\u00a0\u00a0'.repeat(u.depth)}${u.name}`}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-state">{t('fleet.filterState')}</label>
          <select id="f-state" name="state">
            <option value="all">{t('common.all')}</option>
            {states.map((st) => (
              <option value={st} selected={f.state === st}>
                {stateLabel(ctx, st)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-alert">{t('fleet.filterAlert')}</label>
          <select id="f-alert" name="alert">
            <option value="all">{t('common.all')}</option>
            <option value="with" selected={f.alert === 'with'}>
              {t('fleet.withAlerts')}
            </option>
            <option value="without" selected={f.alert === 'without'}>
              {t('fleet.withoutAlerts')}
            </option>
          </select>
        </div>
        <div class="field">
          <label for="f-q">{t('common.search')}</label>
          <input id="f-q" name="q" value={f.q ?? ''} type="search" />
        </div>
        <button type="submit">{t('common.filter')}</button>
      </form>
      <Section title={t('fleet.map')} id="map-section">
        <div
          id="map"
          data-src={ui(`/fleet/map.json?${qs.toString()}`)}
          data-tiles={props.tileUrl}
          data-boundaries={ui('/fleet/boundaries.geojson')}
          data-no-tiles={t('fleet.mapNoTiles')}
          data-missing={t('fleet.noLocation', { n: '{n}' })}
        />
        <p class="muted" data-map-note />
      </Section>
      <Section
        title={t('fleet.list')}
        actions={
          <span class="muted">
            {t('fleet.shown', {
              n: formatNumber(ctx.lang, vm.matching),
              total: formatNumber(ctx.lang, vm.total),
            })}
          </span>
        }
      >
        {vm.pages > 1 ? <Pager vm={vm} qs={qs} /> : null}
        {vm.rows.length === 0 ? (
          <Empty>{t('common.empty')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="fleet-table">
              <thead>
                <tr>
                  <th>{t('fleet.device')}</th>
                  <th>{t('common.unit')}</th>
                  <th class="hide-sm">{t('fleet.kind')}</th>
                  <th>{t('common.state')}</th>
                  <th>{t('fleet.lastSeen')}</th>
                  <th>{t('fleet.alerts')}</th>
                  <th class="hide-sm">{t('fleet.onAir')}</th>
                  <th class="hide-sm">{t('fleet.bundle')}</th>
                </tr>
              </thead>
              <tbody>{vm.rows.map((r) => rowHtml(ctx, r, kinds))}</tbody>
            </table>
          </div>
        )}
      </Section>
    </Layout>
  );
}
