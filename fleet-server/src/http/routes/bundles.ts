/**
 * Bundles: compose drafts from the content library, read them, add signatures made offline
 * (`loa bundle sign`). The workflow transitions are in approvals.ts.
 */

import { ManifestSchema } from '@loa/protocol';
import { z } from 'zod';
import { BundleDraftSchema } from '../../domain/bundle-compose.js';
import { type BundleRecord, BundleRecordSchema } from '../../domain/model.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { RouteContext } from '../route-context.js';

const ListQuery = z.strictObject({
  state: z.enum(['draft', 'submitted', 'approved', 'published', 'rejected', 'withdrawn']).optional(),
  channel: z.string().max(64).optional(),
  emergency: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

function visible(user: { scope: readonly string[] }, b: BundleRecord): boolean {
  return b.units.some((u) => inScope(user, u));
}

export function registerBundleRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'publisher'>,
): void {
  api.add({
    method: 'get',
    path: '/bundles',
    summary: 'Bundles targeting units in my scope, newest first',
    tags: ['bundles'],
    permission: 'read',
    query: ListQuery,
    response: z.array(BundleRecordSchema),
    handler: async ({ query, user }) => {
      const list = await deps.store.bundles.list(
        (b) =>
          visible(user, b) &&
          (!query.state || b.state === query.state) &&
          (!query.channel || b.channel === query.channel) &&
          (!query.emergency || (b.emergency === true) === (query.emergency === 'true')),
      );
      return list.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, query.limit);
    },
  });

  api.add({
    method: 'get',
    path: '/bundles/:id',
    summary: 'One bundle with its manifest and workflow state',
    tags: ['bundles'],
    permission: 'read',
    response: BundleRecordSchema,
    handler: async ({ params, user }) => {
      const b = await services.publisher.get(params.id);
      for (const u of b.units) requireScope(user, u);
      return b;
    },
  });

  api.add({
    method: 'get',
    path: '/bundles/:id/manifest',
    summary: 'The manifest as it stands (to sign offline with `loa bundle sign`)',
    tags: ['bundles'],
    permission: 'read',
    response: ManifestSchema,
    handler: async ({ params, user }) => {
      const b = await services.publisher.get(params.id);
      for (const u of b.units) requireScope(user, u);
      return b.manifest;
    },
  });

  api.add({
    method: 'post',
    path: '/bundles',
    summary: 'Compose a draft bundle (items from the content library, schedule, quiet hours, targets)',
    description:
      'The next version of the channel is reserved for the draft. Every target unit must be in my scope.',
    tags: ['bundles'],
    permission: 'bundle.compose',
    body: BundleDraftSchema,
    status: 201,
    response: BundleRecordSchema,
    errors: [422],
    handler: ({ body, user, ip }) => services.publisher.createDraft(body, { ...user, ip }),
  });

  api.add({
    method: 'put',
    path: '/bundles/:id',
    summary: 'Replace a draft (or rejected) bundle; its signatures are dropped',
    tags: ['bundles'],
    permission: 'bundle.compose',
    body: BundleDraftSchema,
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: ({ params, body, user, ip }) => services.publisher.updateDraft(params.id, body, { ...user, ip }),
  });

  api.add({
    method: 'post',
    path: '/bundles/:id/signatures',
    summary: 'Add signatures made offline: {signatures:[{keyid,sig}]} or the whole signed manifest',
    description:
      'Each signature must verify over this bundle with a key of the installed trust policy whose role and scope fit.',
    tags: ['bundles'],
    roles: ['editor', 'approver', 'administrator'],
    body: z.record(z.string(), z.unknown()),
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: ({ params, body, user, ip }) =>
      services.publisher.addSignatures(params.id, body, { ...user, ip }),
  });
}
