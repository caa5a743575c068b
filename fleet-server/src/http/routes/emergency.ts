/**
 * Emergency broadcasts: the alert's audio (uploaded or recorded in the browser) stored by the one
 * who sends it; one request publishes a signed emergency bundle to a unit subtree; per-device
 * tracking as JSON and as a server-sent event stream.
 */
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { EmergencyRepeatSchema, EmergencyRequestSchema } from '../../domain/emergency.js';
import { BundleRecordSchema, ContentRecordSchema } from '../../domain/model.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import { UploadMetaSchema } from '../../services/content-service.js';
import type { ContentServices } from '../../services/content-services.js';
import type { EmergencyEvent } from '../../services/emergency-service.js';
import type { RouteContext } from '../route-context.js';
import { EmergencyViewSchema } from '../schemas.js';
import { storeUploadedBody, uploadBodyCap } from './content-upload.js';

/**
 * The data of the tracking stream's events: "snapshot" first ({summary, devices}), then one
 * "device" event per change ({device, summary}).
 */
const EmergencyEventSchema = z.union([
  EmergencyViewSchema.pick({ summary: true, devices: true }),
  z.object({ device: EmergencyViewSchema.shape.devices.element, summary: EmergencyViewSchema.shape.summary }),
]);

export function registerEmergencyRoutes(
  { api }: RouteContext,
  services: Pick<ContentServices, 'emergency' | 'content'>,
): void {
  api.add({
    method: 'post',
    path: '/emergency/audio',
    summary: "Store an emergency's audio (an uploaded file or a browser recording) as the raw request body",
    description:
      'For those who may send emergencies (operators, approvers) and may not write content: the audio is ' +
      'stored as an audio item of category "emergency", to be sent with POST /emergency {content}. Like ' +
      '/content/upload: `source=recording` is held to the recording limits (too short, too long, silent) and ' +
      'loses its silent head and tail; `profile=speech` encodes it at the speech bitrate, so a short alert ' +
      'travels inside the emergency message instead of being downloaded.',
    tags: ['emergency'],
    permission: 'emergency.send',
    query: UploadMetaSchema.pick({
      title: true,
      unit: true,
      lang: true,
      name: true,
      source: true,
      profile: true,
    }),
    status: 201,
    maxBodyBytes: uploadBodyCap(services.content),
    response: ContentRecordSchema,
    responseType: 'application/json',
    errors: [413, 415, 422],
    handler: async ({ c, query, user, ip }) => {
      requireScope(user, query.unit);
      const meta = { ...query, kind: 'audio' as const, category: 'emergency' as const };
      return c.json(await storeUploadedBody(c, services.content, meta, user, ip), 201);
    },
  });

  api.add({
    method: 'post',
    path: '/emergency',
    summary: 'Broadcast an emergency to a unit subtree now',
    description:
      'Text is spoken with espeak-ng (Vietnamese voice) and transcoded to the station format, or an uploaded ' +
      'audio item is used. The bundle is signed with my server-held key (delegated the "emergency" role) and ' +
      'published inline on the unit emergency topic; stations play it immediately, `repeat` times.',
    tags: ['emergency'],
    permission: 'emergency.send',
    body: EmergencyRequestSchema,
    status: 201,
    response: EmergencyViewSchema,
    errors: [422],
    handler: ({ body, user, ip }) => services.emergency.send(body, { ...user, ip }),
  });

  api.add({
    method: 'post',
    path: '/emergency/:id/repeat',
    summary: 'Repeat (send again) or extend (more repeats, longer validity) an emergency in progress',
    description:
      "A new emergency bundle from the original request with the changes, playing the original's audio, signed " +
      'with my key like the original. A cancelled emergency cannot be repeated (EMERGENCY_CANCELLED).',
    tags: ['emergency'],
    permission: 'emergency.send',
    body: EmergencyRepeatSchema,
    status: 201,
    response: EmergencyViewSchema,
    errors: [404, 409, 422],
    handler: ({ params, body, user, ip }) => services.emergency.repeat(params.id, body, { ...user, ip }),
  });

  api.add({
    method: 'get',
    path: '/emergency',
    summary: 'Recent emergencies in my scope',
    tags: ['emergency'],
    permission: 'read',
    response: z.array(BundleRecordSchema),
    handler: async ({ user }) =>
      (await services.emergency.list(50)).filter((b) => b.units.some((u) => inScope(user, u))),
  });

  api.add({
    method: 'get',
    path: '/emergency/:id',
    summary: 'Live tracking of an emergency: each device sent → received → playing → completed (or failed)',
    tags: ['emergency'],
    permission: 'read',
    response: EmergencyViewSchema,
    handler: async ({ params, user }) => {
      const v = await services.emergency.view(params.id);
      for (const u of v.bundle.units) requireScope(user, u);
      return v;
    },
  });

  api.add({
    method: 'get',
    path: '/emergency/:id/events',
    summary: 'Server-sent events of an emergency\'s tracking (event "snapshot" first, then "device")',
    tags: ['emergency'],
    permission: 'read',
    response: EmergencyEventSchema,
    responseType: 'text/event-stream',
    handler: async ({ c, params, user }) => {
      const svc = services.emergency;
      const id = params.id;
      const first = await svc.view(id);
      for (const u of first.bundle.units) requireScope(user, u);
      return streamSSE(c, async (stream) => {
        const queue: EmergencyEvent[] = [];
        let wake: (() => void) | undefined;
        const off = svc.on((e) => {
          if (e.bundleId !== id) return;
          queue.push(e);
          wake?.();
        });
        stream.onAbort(() => {
          off();
          wake?.();
        });
        await stream.writeSSE({
          event: 'snapshot',
          data: JSON.stringify({ summary: first.summary, devices: first.devices }),
        });
        while (!stream.aborted && !stream.closed) {
          const e = queue.shift();
          if (!e) {
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 15_000).unref();
            });
            wake = undefined;
            if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
            continue;
          }
          if (e.type === 'emergency.device')
            await stream.writeSSE({
              event: 'device',
              data: JSON.stringify({ device: e.device, summary: e.summary }),
            });
        }
        off();
      });
    },
  });
}
