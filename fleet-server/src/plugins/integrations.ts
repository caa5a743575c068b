/**
 * The integrations side of the server as a plugin, composed after the content plugin whose
 * services it uses: CAP 1.2 intake (`/api/v1/cap…`, acting through the existing emergency
 * service), one JSON event stream for flows (`/api/v1/events`: presence, alerts, proofs,
 * emergency progress, CAP intake). Once started, the plugin holds its CAP service (`plugin.cap`) for
 * in-process callers (tests).
 */
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { Deps } from '../deps.js';
import { capRoutes } from '../http/routes/cap.js';
import { type EventSourceFn, eventRoutes, type StreamEvent } from '../http/routes/events.js';
import type { ServerPlugin } from '../server-plugin.js';
import { CapService } from '../services/cap-service.js';
import type { ContentServices } from '../services/content-services.js';
import type { ContentPlugin } from './content.js';

/**
 * Event sources of the stream, from the broker, the content services and the CAP service.
 * Clustered: presence and emergency progress already reach every node (the broker and the
 * emergency service share them); the events only one node sees (CAP intake, alerts, proofs of
 * its devices) travel to the other nodes over the cluster bus, so any node's stream is whole.
 */
export function streamSources(
  deps: Deps,
  content: ContentServices,
  cap: CapService,
): { sources: EventSourceFn[]; stop(): void } {
  const everywhere: EventSourceFn[] = [
    (emit) =>
      deps.broker.onPresence((p) =>
        emit({
          type: 'presence',
          deviceId: p.deviceId,
          online: p.connected && p.presence?.state !== 'offline',
          since: new Date(p.since).toISOString(),
        }),
      ),
    (emit) =>
      content.emergency.on((e) =>
        e.type === 'emergency.sent'
          ? emit({ type: e.type, bundleId: e.bundleId, unit: e.unit, summary: e.summary })
          : e.type === 'emergency.unconfirmed'
            ? emit({ type: e.type, bundleId: e.bundleId, unit: e.unit, title: e.title, devices: e.devices })
            : emit({
                type: e.type,
                bundleId: e.bundleId,
                unit: e.device.unit,
                deviceId: e.device.deviceId,
                device: e.device,
                summary: e.summary,
              }),
      ),
  ];
  const local: EventSourceFn[] = [
    (emit) => cap.on((e) => emit({ ...e, unit: e.record.units[0] ?? '' })),
    (emit) =>
      content.alerts.on((e) =>
        emit({ type: `alert.${e.type}`, unit: e.alert.unit, deviceId: e.alert.deviceId, alert: e.alert }),
      ),
    (emit) =>
      content.ingest.on((e) => {
        if (e.type === 'proof') emit({ type: 'proof', deviceId: e.deviceId, proof: e.proof });
      }),
  ];
  const bus = deps.cluster;
  if (!bus) return { sources: [...everywhere, ...local], stop: () => undefined };
  // one relay per node (not per reader): every local event goes to the other nodes once
  const offs = local.map((src) => src((e) => bus.publish('events', e)));
  const remote: EventSourceFn = (emit) =>
    bus.on('events', (data) => {
      const e = data as StreamEvent;
      if (typeof e?.type === 'string') emit(e);
    });
  return {
    sources: [...everywhere, ...local, remote],
    stop: () => {
      for (const off of offs) off();
    },
  };
}

export interface IntegrationsPlugin extends ServerPlugin {
  /** The started CAP service; throws PLUGIN_NOT_STARTED before start(). */
  readonly cap: CapService;
}

export interface IntegrationsPluginOptions {
  /** The content plugin, started before this one. */
  content: ContentPlugin;
}

export function integrationsPlugin(options: IntegrationsPluginOptions): IntegrationsPlugin {
  let started: CapService | undefined;
  return {
    name: 'integrations',
    get cap(): CapService {
      if (!started)
        throw new LoaError(
          'PLUGIN_NOT_STARTED',
          'the integrations plugin must start before its services are used',
        );
      return started;
    },
    async start(deps) {
      const content = options.content.services;
      const cap = new CapService({
        dir: join(deps.config.dataDir, 'cap'),
        units: async () =>
          (await deps.store.units.list()).map((u) => ({ path: u.path, code: u.code, name: u.name })),
        emergency: content.emergency,
        audit: (e) => deps.store.audit.append(e),
        logger: deps.logger,
        now: () => deps.clock.now(),
      });
      await cap.start();
      started = cap;
      const units = new Map<string, string>();
      const unitOf = async (deviceId: string) => {
        const hit = units.get(deviceId);
        if (hit) return hit;
        const d = await deps.store.devices.get(deviceId);
        if (d) {
          if (units.size > 50_000) units.clear();
          units.set(deviceId, d.unit);
        }
        return d?.unit;
      };
      const stream = streamSources(deps, content, cap);
      return {
        stop: async () => stream.stop(),
        routes: [capRoutes(cap), eventRoutes(stream.sources, unitOf)],
      };
    },
  };
}
