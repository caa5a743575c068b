/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Device routes: page, health series, command form, live view. */
import { unitCovers } from '@loa/protocol';
import type { Hono } from 'hono';
import type { BundleRecord } from '../../../domain/model.js';
import { can, inScope } from '../../../domain/rbac.js';
import type { ScreenshotMeta } from '../../../services/screenshot-store.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { callApi } from '../api-client.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import type { LiveView, UpdateSet } from '../live.js';
import { notFoundPage } from '../refusal.js';
import { checkFormCsrf, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { buildDevice, type DeviceVm, healthSeries } from '../view-models/device.js';
import { deviceState } from '../view-models/fleet.js';
import { DeviceEditSection, type DeviceEditValues, editValues, parseDeviceEdit } from './device-edit.js';
import { ScreenSection, screenKey } from './device-screen.js';
import { COMMANDS, DevicePage, proofKey, type UiCommand } from './device-view.js';
import { STATE_TONE, stateLabel } from './fleet-view.js';

async function loadDevice(s: UiServer, user: AuthUser, id: string): Promise<DeviceVm | undefined> {
  const { store, broker } = s.deps;
  const device = await store.devices.get(id);
  if (!device || !inScope(user, device.unit)) return undefined;
  const [unit, proofs, rollouts, alerts] = await Promise.all([
    store.units.get(device.unit),
    store.proofs.query({ deviceId: id }),
    store.rollouts.forDevice(id),
    store.alerts.list((a) => a.deviceId === id && a.state !== 'resolved'),
  ]);
  const bundleIds = new Set<string>([
    ...rollouts.map((r) => r.bundleId),
    ...proofs.map((p) => p.proof.bundleId).filter((b): b is string => typeof b === 'string'),
    ...[store.health.latest(id)?.health.onAir?.bundleId].filter((b): b is string => typeof b === 'string'),
  ]);
  const bundles = new Map<string, BundleRecord>();
  for (const b of await Promise.all([...bundleIds].map((b) => store.bundles.get(b))))
    if (b) bundles.set(b.id, b);
  return buildDevice({
    device,
    unit,
    presence: broker.presence(id),
    latest: store.health.latest(id),
    proofs,
    rollouts,
    bundles,
    alerts,
    nowMs: s.deps.clock.now(),
  });
}

export function deviceLiveView(
  s: UiServer,
  ctx: UiCtx,
  id: string,
  shown: { proofSeq: number; healthAt: string | undefined; shotId?: string | undefined },
): LiveView {
  let lastProof = shown.proofSeq;
  let lastHealth = shown.healthAt;
  let lastShot = shown.shotId;
  return {
    wantsDevice: (d) => d === id,
    wantsTopic: () => false,
    initial: { devices: [id] },
    render: async () => {
      const set: UpdateSet = {};
      const device = await s.deps.store.devices.get(id);
      if (!device) return set;
      const st = deviceState(device, s.deps.broker.presence(id));
      set[`dev:${id}:state`] = { t: stateLabel(ctx, st), c: `badge ${STATE_TONE[st]}`, v: st };
      const seq = s.deps.store.proofs.last(id)?.seq ?? 0;
      if (seq !== lastProof) {
        lastProof = seq;
        set[proofKey(id)] = { r: true };
        // a play or a tone started or ended: on air and the amplifier come from the proof
        set[`dev:${id}:health`] = { r: true };
      }
      if (device.kind === 'noticeboard' && s.content) {
        const shot = (await s.content.screenshots.latest(id))?.id;
        if (shot !== lastShot) set[screenKey(id)] = { r: true };
        lastShot = shot;
      }
      const h = s.deps.store.health.latest(id)?.receivedAt;
      if (h !== lastHealth) {
        lastHealth = h;
        set[`dev:${id}:health`] = { r: true };
      }
      return set;
    },
  };
}

/** The command buttons, and the noticeboard's screenshot button of its screen section. */
const ALL_COMMANDS = [...COMMANDS, 'screenshot'] as const;

/** Groups a device may join: those of its unit or of a unit above it. */
async function groupsFor(s: UiServer, unit: string) {
  return (await s.deps.store.groups.list((g) => unitCovers(g.unit, unit))).sort((a, b) =>
    a.name.localeCompare(b.name, 'vi'),
  );
}

export function registerDevicePages(app: Hono<AppEnv>, s: UiServer): void {
  /** The device page, optionally with an error message at the top (a refused command). */
  const page = async (
    c: UiContext,
    g: { user: AuthUser; ctx: UiCtx },
    id: string,
    error?: string,
    status = 200,
    edit?: { values: DeviceEditValues; errors: FieldErrors },
  ) => {
    const vm = await loadDevice(s, g.user, id);
    if (!vm) return notFoundPage(c, g.ctx);
    const canManage = can(g.user.role, 'device.manage');
    const groups = canManage ? await groupsFor(s, vm.device.unit) : [];
    let ctx: UiCtx = error ? { ...g.ctx, flash: { kind: 'error', text: error } } : g.ctx;
    const sent = c.req.query('ok') === 'device.cmd.sent' ? c.req.query('id') : undefined;
    const undone = c.req.query('ok');
    if (
      !error &&
      (undone === 'device.revoked' || undone === 'device.decommissioned' || undone === 'dev.saved')
    )
      ctx = { ...ctx, flash: { kind: 'ok', text: ctx.t(undone) } };
    if (!error && sent && (ALL_COMMANDS as readonly string[]).includes(sent))
      ctx = {
        ...ctx,
        flash: {
          kind: 'ok',
          text: ctx.t('device.cmd.sentTo', {
            action: ctx.t(`device.cmd.${sent}` as MsgKey),
            name: vm.device.name || vm.device.id,
          }),
        },
      };
    const canCommand = can(g.user.role, 'device.command');
    // through the API, so the page shows pictures whenever the server keeps them
    const shots =
      vm.device.kind === 'noticeboard'
        ? await callApi<{ screenshots: ScreenshotMeta[] }>(
            s.api,
            c,
            'GET',
            `/devices/${encodeURIComponent(vm.device.id)}/screenshots`,
          )
        : undefined;
    const latestShot = shots?.ok ? shots.data.screenshots[0] : undefined;
    const screen = shots?.ok ? (
      <ScreenSection
        ctx={ctx}
        deviceId={vm.device.id}
        name={vm.device.name || vm.device.id}
        latest={latestShot}
        canCommand={canCommand}
      />
    ) : undefined;
    return c.html(
      <DevicePage
        ctx={ctx}
        vm={vm}
        screen={screen}
        canCommand={canCommand}
        canManage={canManage}
        edit={
          canManage ? (
            <DeviceEditSection
              ctx={ctx}
              d={vm.device}
              groups={groups}
              values={edit?.values ?? editValues(vm.device, Object.keys(vm.health?.relays.zones ?? {}))}
              errors={edit?.errors}
              tileUrl={s.tileUrl}
            />
          ) : undefined
        }
        liveUrl={ui(
          `/live/device/${encodeURIComponent(vm.device.id)}?seq=${vm.proofs[0]?.seq ?? 0}&h=${encodeURIComponent(vm.healthAt ?? '')}${latestShot ? `&shot=${latestShot.id}` : ''}`,
        )}
      />,
      status as 200,
    );
  };

  app.get('/ui/devices/:id', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return page(c, g, c.req.param('id'));
  });

  app.get('/ui/devices/:id/health.json', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const id = c.req.param('id');
    const device = await s.deps.store.devices.get(id);
    if (!device || !inScope(g.user, device.unit)) return c.json({ error: { code: 'DEVICE_NOT_FOUND' } }, 404);
    const hours = Math.min(24 * 14, Math.max(1, Number(c.req.query('hours') ?? 24) || 24));
    const from = new Date(s.deps.clock.now() - hours * 3600_000).toISOString();
    return c.json(healthSeries(await s.deps.store.health.query({ deviceId: id, from, limit: 5000 })));
  });

  app.post('/ui/devices/:id/command', async (c) => {
    const g = await guard(c, s, 'device.command');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const action = str(f, 'action') as UiCommand | 'screenshot';
    const back = ui(`/devices/${encodeURIComponent(id)}`);
    if (!(ALL_COMMANDS as readonly string[]).includes(action))
      return page(c, g, id, g.ctx.t('err.invalid'), 400);
    const params: Record<string, number> = {};
    if (action === 'volume') {
      const v = Number(str(f, 'volume'));
      if (!Number.isInteger(v) || v < 0 || v > 100)
        return page(
          c,
          g,
          id,
          `${g.ctx.t('device.volume')}: ${g.ctx.t('err.number', { min: 0, max: 100 })}`,
          400,
        );
      params.volume = v;
    }
    if (action === 'test-tone' || action === 'relay-test') params.seconds = 5;
    const r = await callApi(s.api, c, 'POST', `/devices/${encodeURIComponent(id)}/commands`, {
      action,
      ...(Object.keys(params).length ? { params } : {}),
    });
    if (r.ok) return c.redirect(`${back}?ok=device.cmd.sent&id=${encodeURIComponent(action)}`, 303);
    const text =
      r.status === 404 && r.code === 'NOT_FOUND'
        ? g.ctx.t('common.notAvailable')
        : `${r.message} (${r.code})`;
    return page(c, g, id, text, r.status);
  });

  // Revoke or decommission, through the API (scope, audit, disconnecting the device live there).
  app.post('/ui/devices/:id/undo', async (c) => {
    const g = await guard(c, s, 'device.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const action = str(f, 'action');
    if (action !== 'revoke' && action !== 'decommission') return page(c, g, id, g.ctx.t('err.invalid'), 400);
    const reason = str(f, 'reason').slice(0, 500);
    const r = await callApi(s.api, c, 'POST', `/devices/${encodeURIComponent(id)}/${action}`, {
      ...(reason ? { reason } : {}),
    });
    const back = ui(`/devices/${encodeURIComponent(id)}`);
    if (r.ok)
      return c.redirect(`${back}?ok=device.${action === 'revoke' ? 'revoked' : 'decommissioned'}`, 303);
    return page(c, g, id, r.message, r.status);
  });

  app.post('/ui/devices/:id/edit', async (c) => {
    const g = await guard(c, s, 'device.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const d = await s.deps.store.devices.get(id);
    if (!d || !inScope(g.user, d.unit)) return notFoundPage(c, g.ctx);
    const known = new Set((await groupsFor(s, d.unit)).map((x) => x.id));
    const r = parseDeviceEdit(f, known, d.kind === 'station');
    if (!r.body) return page(c, g, id, undefined, 400, { values: r.values, errors: r.errors });
    const saved = await callApi(s.api, c, 'PATCH', `/devices/${encodeURIComponent(id)}`, r.body);
    if (!saved.ok)
      return page(c, g, id, saved.message, saved.status, {
        values: r.values,
        errors: { _form: saved.message },
      });
    return c.redirect(`${ui(`/devices/${encodeURIComponent(id)}`)}?ok=dev.saved#device-edit`, 303);
  });
}
