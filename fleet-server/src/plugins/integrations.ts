/**
 * The integrations side of the server, as a plugin started after the content plugin: CAP 1.2
 * intake (`/api/v1/cap…`, on the existing emergency service) and one JSON event stream for flows
 * (`/api/v1/events`: presence, alerts, proofs, emergency progress, CAP intake), and text bulletins
 * spoken by the server (`/api/v1/content/speech`).
 */
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { Deps } from '../deps.js';
import { capRoutes } from '../http/routes/cap.js';
import { type EventSourceFn, eventRoutes } from '../http/routes/events.js';
import { speechRoutes } from '../http/routes/speech.js';
import type { ServerPlugin } from '../main.js';
import { CapService } from '../services/cap-service.js';
import type {} from '../services/index.js';
import { speakText } from '../services/speech-content.js';

declare module '../deps.js' {
  interface Services {
    cap?: CapService;
  }
}

/** Event sources of the stream, from the broker and the content services. */
export function streamSources(deps: Deps, cap: CapService): EventSourceFn[] {
  const content = deps.services.content;
  const out: EventSourceFn[] = [
    (emit) =>
      deps.broker.onPresence((p) =>
        emit({
          type: 'presence',
          deviceId: p.deviceId,
          online: p.connected && p.presence?.state !== 'offline',
          since: new Date(p.since).toISOString(),
        }),
      ),
    (emit) => cap.on((e) => emit({ ...e, unit: e.record.units[0] ?? '' })),
  ];
  if (content)
    out.push(
      (emit) =>
        content.alerts.on((e) =>
          emit({ type: `alert.${e.type}`, unit: e.alert.unit, deviceId: e.alert.deviceId, alert: e.alert }),
        ),
      (emit) =>
        content.ingest.on((e) => {
          if (e.type === 'proof') emit({ type: 'proof', deviceId: e.deviceId, proof: e.proof });
        }),
      (emit) =>
        content.emergency.on((e) =>
          e.type === 'emergency.sent'
            ? emit({ type: e.type, bundleId: e.bundleId, unit: e.unit, summary: e.summary })
            : emit({
                type: e.type,
                bundleId: e.bundleId,
                unit: e.device.unit,
                deviceId: e.device.deviceId,
                device: e.device,
                summary: e.summary,
              }),
        ),
    );
  return out;
}

export function integrationsPlugin(): ServerPlugin {
  return {
    name: 'integrations',
    async start(deps) {
      const content = deps.services.content;
      if (!content)
        throw new LoaError('SERVICE_UNAVAILABLE', 'integrations need the content plugin started before them');
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
      deps.services.cap = cap;
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
      return {
        routes: [
          capRoutes(() => cap),
          eventRoutes(streamSources(deps, cap), unitOf),
          speechRoutes((input, actor, ip) => speakText(content, input, actor, ip)),
        ],
        errorStatus: { CAP_AREA_UNKNOWN: 422, CAP_REFERENCE_UNKNOWN: 422, CAP_STATE_CONFLICT: 409 },
      };
    },
  };
}
