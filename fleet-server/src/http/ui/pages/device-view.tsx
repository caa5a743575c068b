/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Device page: health, charts, proofs timeline, bundles/rollout, commands. */
import type { Child } from 'hono/jsx';
import { Ago, Badge, Csrf, Empty, ErrorWords, formatDuration, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { formatDateTime } from '../time.js';
import type { DeviceVm, ProofRow } from '../view-models/device.js';
import { alertLabel, StateBadge } from './fleet-view.js';

const OUTCOME_TONE = {
  completed: 'ok',
  started: 'info',
  interrupted: 'warn',
  failed: 'bad',
  skipped: 'muted',
  withdrawn: 'muted',
} as const;
const ROLLOUT_TONE = {
  notified: 'info',
  downloading: 'info',
  verified: 'info',
  active: 'ok',
  playing: 'ok',
  failed: 'bad',
} as const;

/** The health charts: series name, title, what an empty chart says. */
const CHARTS: readonly (readonly [string, MsgKey, MsgKey])[] = [
  ['cpuTempC', 'device.cpuTemp', 'chart.emptyMetric'],
  ['rssiDbm', 'device.rssi', 'chart.emptyMetric'],
  ['load1', 'device.load', 'chart.emptyMetric'],
  ['lufs', 'device.loudness', 'chart.emptyLufs'],
];

export const COMMANDS = ['test-tone', 'volume', 'relay-test', 'sync', 'reboot'] as const;
export type UiCommand = (typeof COMMANDS)[number];

/** Revoke (stolen, compromised) or decommission (leaves the network) a device, with a reason. */
function UndoSection(props: { ctx: UiCtx; d: DeviceVm['device'] }) {
  const { ctx, d } = props;
  const t = ctx.t;
  const name = d.name || d.id;
  return (
    <Section title={t('device.undo')} id="device-undo">
      <p class="muted">{t('device.undoHint')}</p>
      <form method="post" action={ui(`/devices/${encodeURIComponent(d.id)}/undo`)} class="stack">
        <Csrf ctx={ctx} />
        <label>
          {t('device.undoReason')}
          <input name="reason" maxlength={500} id="f-undo-reason" />
        </label>
        <div class="actions">
          {d.status !== 'revoked' ? (
            <button
              type="submit"
              name="action"
              value="revoke"
              class="danger"
              data-confirm={t('device.revokeConfirm', { name })}
            >
              {t('device.revoke')}
            </button>
          ) : null}
          <button
            type="submit"
            name="action"
            value="decommission"
            class="secondary"
            data-confirm={t('device.decommissionConfirm', { name })}
          >
            {t('device.decommission')}
          </button>
        </div>
      </form>
    </Section>
  );
}

function bool(ctx: UiCtx, v: boolean | null | undefined, on: MsgKey, off: MsgKey, badWhen?: boolean) {
  if (v === null || v === undefined) return <span class="muted">{ctx.t('common.unknown')}</span>;
  const tone = badWhen !== undefined && v === badWhen ? 'bad' : 'ok';
  return <Badge tone={tone}>{ctx.t(v ? on : off)}</Badge>;
}

export function proofKey(id: string): string {
  return `dev:${id}:proofs`;
}

function ProofTable(props: { ctx: UiCtx; rows: ProofRow[] }) {
  const { ctx } = props;
  const t = ctx.t;
  return (
    <div class="table-wrap">
      <table id="proofs">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>{t('common.time')}</th>
            <th>{t('device.item')}</th>
            <th>{t('device.outcome')}</th>
            <th class="hide-sm">{t('device.scheduled')}</th>
            <th class="hide-sm num">LUFS</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((p) => (
            <tr data-proof-item={p.itemId ?? ''}>
              <td class="num">{p.seq}</td>
              <td>{formatDateTime(p.startedAt ?? p.at, true)}</td>
              <td>
                {p.itemTitle ?? p.itemId ?? '—'}
                {p.priority === 'emergency' ? (
                  <>
                    {' '}
                    <Badge tone="bad">{t('priority.emergency')}</Badge>
                  </>
                ) : null}
                {p.bundleId && p.bundleTitle !== p.itemTitle ? (
                  <small class="muted" title={p.bundleId}>
                    {' '}
                    · {p.bundleTitle ?? p.bundleId}
                  </small>
                ) : null}
              </td>
              <td>
                <Badge tone={OUTCOME_TONE[p.outcome]} title={p.reason}>
                  {t(`outcome.${p.outcome}` as MsgKey)}
                </Badge>
                {p.endedAt && p.startedAt ? (
                  <small class="muted">
                    {' '}
                    {formatDuration(Date.parse(p.endedAt) - Date.parse(p.startedAt))}
                  </small>
                ) : null}
              </td>
              <td class="hide-sm">{p.scheduledAt ? formatDateTime(p.scheduledAt) : '—'}</td>
              <td class="hide-sm num">{p.loudnessLufs !== undefined ? p.loudnessLufs.toFixed(1) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DevicePage(props: {
  ctx: UiCtx;
  vm: DeviceVm;
  canCommand: boolean;
  canManage?: boolean;
  liveUrl: string;
  /** A noticeboard's screen section (device-screen.tsx). */
  screen?: Child;
  /** The edit form (for those who may manage devices). */
  edit?: Child;
}) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const d = vm.device;
  const h = vm.health;
  return (
    <Layout
      ctx={ctx}
      title={t('device.title', { id: d.name || d.id })}
      live={props.liveUrl}
      css={['/ui/vendor/uplot/uPlot.min.css', ...(props.edit ? ['/ui/vendor/leaflet/leaflet.css'] : [])]}
      vendorScripts={[
        '/ui/vendor/uplot/uPlot.iife.min.js',
        ...(props.edit ? ['/ui/vendor/leaflet/leaflet.js'] : []),
      ]}
      scripts={[ui('/assets/charts.js'), ...(props.edit ? [ui('/assets/device-edit.js')] : [])]}
    >
      <p>
        <StateBadge ctx={ctx} state={vm.state} k={`dev:${d.id}:state`} /> <span class="muted">{d.id}</span> ·{' '}
        {vm.unitName} · {t(d.kind === 'noticeboard' ? 'fleet.kind.noticeboard' : 'fleet.kind.station')} ·{' '}
        <a
          class="tl-device-link"
          href={`${ui('/timeline')}?unit=${encodeURIComponent(d.unit)}&station=${encodeURIComponent(d.id)}`}
        >
          {t('tl.deviceLink')}
        </a>
      </p>
      {vm.alerts.length > 0 ? (
        <p class="flash error">
          {vm.alerts.map((a) => (
            <>
              <Badge tone="bad">{alertLabel(ctx, a.rule)}</Badge>{' '}
            </>
          ))}
        </p>
      ) : null}
      <div class="grid">
        <Section title={t('device.health')}>
          {h ? (
            <dl class="kv" data-k={`dev:${d.id}:health`}>
              <dt>{t('fleet.lastSeen')}</dt>
              <dd>
                <Ago ctx={ctx} at={vm.healthAt} />
              </dd>
              <dt>{t('device.agent')}</dt>
              <dd>{h.agentVersion}</dd>
              <dt>{t('device.uptime')}</dt>
              <dd>{formatDuration(h.uptimeS * 1000)}</dd>
              <dt>{t('device.clock')}</dt>
              <dd>
                {h.clock.trusted ? (
                  <Badge tone="ok">{t('device.clockTrusted', { source: h.clock.source })}</Badge>
                ) : (
                  <Badge tone="bad">{t('device.clockUntrusted')}</Badge>
                )}
              </dd>
              <dt>{t('device.mains')}</dt>
              <dd>{bool(ctx, h.inputs.mains, 'device.on', 'device.off', false)}</dd>
              <dt>{t('device.door')}</dt>
              <dd>
                {h.inputs.door === null ? (
                  <span class="muted">{t('common.unknown')}</span>
                ) : (
                  <Badge tone={h.inputs.door === 'open' ? 'bad' : 'ok'}>
                    {t(h.inputs.door === 'open' ? 'device.open' : 'device.closed')}
                  </Badge>
                )}
              </dd>
              <dt>{t('device.amp')}</dt>
              <dd>
                <span data-amp={String(vm.amplifier ?? '')}>
                  {bool(ctx, vm.amplifier ?? h.relays.amplifier, 'device.on', 'device.off')}
                </span>{' '}
                {h.inputs.ampFault ? <Badge tone="bad">{t('device.fault')}</Badge> : null}
              </dd>
              <dt>{t('device.volume')}</dt>
              <dd>{h.volume ?? '—'}</dd>
              <dt>{t('device.signal')}</dt>
              <dd>
                {h.modem
                  ? `${h.modem.rssiDbm ?? '—'} dBm · ${h.modem.operator ?? ''} ${h.modem.tech ?? ''}`
                  : '—'}
              </dd>
              <dt>{t('device.disk')}</dt>
              <dd>{h.diskFreeMb !== undefined ? `${Math.round(h.diskFreeMb)} MB` : '—'}</dd>
              <dt>{t('fleet.onAir')}</dt>
              <dd data-on-air>
                {vm.onAirTitle === 'test-tone' ? t('device.onAirTone') : (vm.onAirTitle ?? '—')}
              </dd>
              {h.lastError ? (
                <>
                  <dt>{t('device.lastError')}</dt>
                  <dd>
                    <ErrorWords ctx={ctx} code={h.lastError.code} message={h.lastError.message} />
                  </dd>
                </>
              ) : null}
            </dl>
          ) : (
            <Empty>{t('device.noHealth')}</Empty>
          )}
        </Section>
        {props.canCommand ? (
          <Section title={t('device.commands')}>
            <form method="post" action={ui(`/devices/${encodeURIComponent(d.id)}/command`)} class="actions">
              <Csrf ctx={ctx} />
              {COMMANDS.map((cmd) =>
                cmd === 'volume' ? (
                  <span class="actions">
                    <input
                      name="volume"
                      type="number"
                      min="0"
                      max="100"
                      value={String(h?.volume ?? 70)}
                      style="width:6em"
                      aria-label={t('device.volume')}
                    />
                    <button
                      type="submit"
                      name="action"
                      value={cmd}
                      class="secondary"
                      data-confirm={t('device.cmd.confirm', {
                        action: t('device.cmd.volume'),
                        id: d.name || d.id,
                      })}
                    >
                      {t('device.cmd.volume')}
                    </button>
                  </span>
                ) : (
                  <button
                    type="submit"
                    name="action"
                    value={cmd}
                    class={cmd === 'reboot' ? 'danger' : 'secondary'}
                    data-confirm={t('device.cmd.confirm', {
                      action: t(`device.cmd.${cmd}` as MsgKey),
                      id: d.name || d.id,
                    })}
                  >
                    {t(`device.cmd.${cmd}` as MsgKey)}
                  </button>
                ),
              )}
            </form>
          </Section>
        ) : null}
        {props.canManage && d.status !== 'decommissioned' ? <UndoSection ctx={ctx} d={d} /> : null}
      </div>
      {props.screen ?? null}
      {props.edit ?? null}
      <Section title={t('device.charts')}>
        <div class="grid">
          {CHARTS.map(([metric, label, empty]) => (
            <div
              class="chart"
              data-chart={metric}
              data-label={t(label)}
              data-empty-none={t('chart.emptyNone')}
              data-empty-metric={t(empty)}
            />
          ))}
        </div>
        <span hidden data-health-src={ui(`/devices/${encodeURIComponent(d.id)}/health.json`)} />
      </Section>
      <Section title={t('device.proofs')} id="proofs-section">
        <div data-k={proofKey(d.id)} data-reload-on-change>
          {vm.proofs.length === 0 ? (
            <Empty>{t('device.noProofs')}</Empty>
          ) : (
            <ProofTable ctx={ctx} rows={vm.proofs} />
          )}
        </div>
      </Section>
      <Section title={t('device.bundles')}>
        {vm.rollouts.length === 0 ? (
          <Empty>{t('common.empty')}</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t('fleet.bundle')}</th>
                  <th>{t('prog.channel')}</th>
                  <th>{t('device.rollout')}</th>
                  <th>{t('common.time')}</th>
                </tr>
              </thead>
              <tbody>
                {vm.rollouts.map((r) => (
                  <tr>
                    <td title={r.bundleId} data-bundle={r.bundleId}>
                      {r.title}
                      {r.version !== undefined ? <small class="muted"> v{r.version}</small> : null}
                    </td>
                    <td title={r.channel}>{r.channelName}</td>
                    <td>
                      <Badge tone={ROLLOUT_TONE[r.state]} title={r.reason}>
                        {t(`rollout.${r.state}` as MsgKey)}
                      </Badge>
                      {r.reason ? (
                        <>
                          {' '}
                          <ErrorWords ctx={ctx} code={r.reason} message={r.reason} />
                        </>
                      ) : null}
                    </td>
                    <td>{formatDateTime(r.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </Layout>
  );
}
