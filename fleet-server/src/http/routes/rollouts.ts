/** Rollout views: per bundle (each targeted device's progress) and per device. */

import { z } from 'zod';
import { RolloutRecordSchema } from '../../domain/model.js';
import { requireScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { RouteContext } from '../route-context.js';
import { RolloutSummarySchema } from '../schemas.js';

export function registerRolloutRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'publisher'>,
): void {
  api.add({
    method: 'get',
    path: '/bundles/:id/rollout',
    summary:
      'Per-device rollout of a published bundle (notified, downloading, verified, active, failed + reason)',
    description:
      'A version two or more behind its channel keeps only its final counts: `archived: true` and no devices.',
    tags: ['rollouts'],
    permission: 'read',
    response: z.object({
      bundleId: z.string(),
      channel: z.string(),
      version: z.number().int(),
      summary: RolloutSummarySchema,
      devices: z.array(RolloutRecordSchema),
      archived: z.literal(true).optional(),
    }),
    handler: async ({ params, user }) => {
      const r = await services.publisher.rollout(params.id);
      for (const u of r.bundle.units) requireScope(user, u);
      return {
        bundleId: r.bundle.id,
        channel: r.bundle.channel,
        version: r.bundle.version,
        summary: r.summary,
        devices: r.entries,
        ...(r.archived ? { archived: true as const } : {}),
      };
    },
  });

  api.add({
    method: 'get',
    path: '/rollouts/devices/:id',
    summary: 'Rollout entries of one device (every bundle it was sent)',
    tags: ['rollouts'],
    permission: 'read',
    response: z.array(RolloutRecordSchema),
    handler: async ({ params, user }) => {
      const d = await deps.store.devices.get(params.id);
      if (!d) return [];
      requireScope(user, d.unit);
      return (await deps.store.rollouts.forDevice(d.id)).sort((a, b) =>
        b.updatedAt.localeCompare(a.updatedAt),
      );
    },
  });
}
