/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Fleet routes: list with filters, map data, live row updates. */
import { UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import { BoundariesFile } from '../../../services/boundaries-file.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import type { UiCtx } from '../context.js';
import { fleetInputs, scopedDevices } from '../data.js';
import { formatNumber } from '../i18n/index.js';
import type { LiveView, UpdateSet } from '../live.js';
import { guard, type UiServer } from '../shared.js';
import {
  buildFleet,
  type DeviceState,
  deviceState,
  FLEET_PAGE_SIZE,
  type FleetFilter,
  type FleetInputs,
  fleetRow,
  mapData,
} from '../view-models/fleet.js';
import { FleetPage, rowUpdates } from './fleet-view.js';

const STATES = new Set<string>(['online', 'offline', 'never', 'pending', 'revoked', 'decommissioned', 'all']);

export function parsePaging(q: Record<string, string | undefined>): { page: number; size: number } {
  const page = Math.max(1, Math.floor(Number(q.page ?? 1)) || 1);
  const size = Math.min(
    10_000,
    Math.max(10, Math.floor(Number(q.size ?? FLEET_PAGE_SIZE)) || FLEET_PAGE_SIZE),
  );
  return { page, size };
}

export function parseFleetFilter(q: Record<string, string | undefined>): FleetFilter {
  const unit = q.unit && UnitPathSchema.safeParse(q.unit).success ? q.unit : undefined;
  const state = q.state && STATES.has(q.state) ? (q.state as DeviceState | 'all') : undefined;
  const alert = q.alert === 'with' || q.alert === 'without' ? q.alert : undefined;
  const text = q.q?.trim().slice(0, 100);
  return { unit, state, alert, q: text || undefined };
}

/** Live view of the fleet page: the rows it shows plus the state counters. */
/** Registry inputs (devices, units, alerts, titles) are reused for this long between batches. */
const INPUTS_TTL_MS = 5000;

export function fleetLiveView(s: UiServer, user: AuthUser, ctx: UiCtx, shown: ReadonlySet<string>): LiveView {
  // Presence and health are read live through the inputs' lookups; the registry lists are cached
  // briefly so a busy fleet costs one pass over the devices per batch, not a registry copy.
  let cached: { at: number; inp: FleetInputs } | undefined;
  return {
    wantsDevice: () => true,
    wantsTopic: (t) => t === 'alerts' || t === 'devices',
    initial: { topics: ['devices'] },
    render: async (dirty) => {
      const nowMs = s.deps.clock.now();
      if (!cached || dirty.topics.size > 0 || nowMs - cached.at > INPUTS_TTL_MS)
        cached = { at: nowMs, inp: await fleetInputs(s, user) };
      const inp = cached.inp;
      const now = { ...ctx, now: nowMs };
      const set: UpdateSet = {};
      const counts: Record<DeviceState, number> = {
        online: 0,
        offline: 0,
        never: 0,
        pending: 0,
        revoked: 0,
        decommissioned: 0,
      };
      const all = dirty.topics.size > 0;
      for (const d of inp.devices) {
        counts[deviceState(d, inp.presence(d.id))]++;
        if (shown.has(d.id) && (all || dirty.devices.has(d.id)))
          Object.assign(set, rowUpdates(now, fleetRow(d, inp)));
      }
      for (const [st, n] of Object.entries(counts)) set[`cnt:${st}`] = { t: formatNumber(ctx.lang, n) };
      return set;
    },
  };
}

export function registerFleetPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/fleet', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const filter = parseFleetFilter(c.req.query());
    const vm = buildFleet(await fleetInputs(s, g.user), filter, parsePaging(c.req.query()));
    const qs = new URL(c.req.url).search;
    return c.html(<FleetPage ctx={g.ctx} vm={vm} tileUrl={s.tileUrl} liveUrl={`/ui/live/fleet${qs}`} />);
  });

  // The communes' boundaries (a file the province puts in the data directory), drawn under the
  // markers; 404 when there is none. Served from here: the map makes no third-party request.
  const boundaries = new BoundariesFile(s.deps.config.dataDir, s.deps.logger.child({ module: 'map' }));
  app.get('/ui/fleet/boundaries.geojson', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const b = await boundaries.get();
    if (!b) return c.json({ error: { code: 'BOUNDARIES_NOT_FOUND', message: 'no boundaries file' } }, 404);
    // revalidated each time: a newly uploaded file shows on the next map load
    c.header('cache-control', 'private, no-cache');
    return c.body(JSON.stringify(b), 200, { 'content-type': 'application/geo+json; charset=utf-8' });
  });

  app.get('/ui/fleet/map.json', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    const vm = buildFleet(await fleetInputs(s, g.user), parseFleetFilter(c.req.query()));
    return c.json(mapData(vm.rows));
  });
}

/** The ids a fleet page with this filter shows (for its live view). */
export async function fleetShown(
  s: UiServer,
  user: AuthUser,
  filter: FleetFilter,
  paging: { page: number; size: number },
): Promise<Set<string>> {
  const inp = await fleetInputs(s, user, await scopedDevices(s, user));
  return new Set(buildFleet(inp, filter, paging).rows.map((r) => r.id));
}
