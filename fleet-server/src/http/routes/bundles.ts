/**
 * Bundles: compose drafts from the content library, read them, add signatures made offline
 * (`loa bundle sign`). The workflow transitions are in approvals.ts.
 */
import { LoaError, ManifestSchema } from '@loa/protocol';
import { z } from 'zod';
import { BundleDraftSchema } from '../../domain/bundle-compose.js';
import { type BundleRecord, BundleRecordSchema } from '../../domain/model.js';
import { inScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { RouteContext } from '../route-context.js';

const ListQuery = z.strictObject({
  state: z
    .enum(['draft', 'submitted', 'approved', 'published', 'rejected', 'withdrawn', 'recalled'])
    .optional(),
  channel: z.string().max(64).optional(),
  emergency: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

function visible(user: { scope: readonly string[] }, b: BundleRecord): boolean {
  return b.units.some((u) => inScope(user, u));
}

/** Out of scope answers as absent (same code as a bundle that does not exist). */
const bundleNotFound = (id: string) =>
  new LoaError('BUNDLE_NOT_FOUND', `Không tìm thấy gói tin "${id.slice(0, 128)}"`);

export function registerBundleRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'publisher' | 'recalls'>,
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
      if (!b.units.every((u) => inScope(user, u))) throw bundleNotFound(params.id);
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
      if (!b.units.every((u) => inScope(user, u))) throw bundleNotFound(params.id);
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

  api.add({
    method: 'post',
    path: '/bundles/:id/recall',
    summary: 'Withdraw a published bundle with a signed recall (for an emergency: cancel it)',
    description:
      'Needs the permission to publish that priority (emergency.send for an emergency, bundle.publish otherwise) ' +
      'and a server-held key delegated the roles the bundle needed. Where the policy wants two signatures, the ' +
      'recall stays `pending` until a second person asks too. Stations stop the bundle and sign a `withdrawn` proof.',
    tags: ['bundles'],
    permission: 'read',
    body: RecallBodySchema,
    response: RecallViewSchema,
    errors: [403, 409, 422],
    handler: async ({ params, body, user, ip }) => {
      const b = await services.publisher.get(params.id);
      if (!b.units.every((u) => inScope(user, u))) throw bundleNotFound(params.id);
      return services.recalls.recall(params.id, body.reason, { ...user, ip });
    },
  });

  api.add({
    method: 'delete',
    path: '/bundles/:id/recall',
    summary: 'Drop a pending recall (not yet signed by enough people)',
    description:
      'Allowed to a person who asked for the recall or who may approve that priority; audited ' +
      '(`bundle.recall.drop`). A recall already sent to the stations cannot be dropped (RECALL_CONFLICT).',
    tags: ['bundles'],
    permission: 'read',
    status: 204,
    errors: [403, 409],
    handler: async ({ params, user, ip }) => {
      const b = await services.publisher.get(params.id);
      if (!b.units.every((u) => inScope(user, u))) throw bundleNotFound(params.id);
      await services.recalls.drop(params.id, { ...user, ip });
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/bundles/:id/recall',
    summary: 'The recall of a bundle: signatures, stations targeted and stations that dropped it',
    tags: ['bundles'],
    permission: 'read',
    response: RecallViewSchema,
    errors: [404],
    handler: async ({ params, user }) => {
      const b = await services.publisher.get(params.id);
      if (!b.units.every((u) => inScope(user, u))) throw bundleNotFound(params.id);
      const v = await services.recalls.view(params.id);
      if (!v) throw new LoaError('RECALL_NOT_FOUND', `Gói tin "${params.id.slice(0, 128)}" chưa có lệnh gỡ`);
      return v;
    },
  });
}

const RecallBodySchema = z.strictObject({ reason: z.string().min(1).max(500) });
const RecallViewSchema = z.object({
  bundleId: z.string(),
  state: z.enum(['pending', 'published']),
  reason: z.string(),
  signatures: z.number().int(),
  needed: z.number().int(),
  targeted: z.number().int(),
  withdrawn: z.number().int(),
  publishedAt: z.string().optional(),
});
