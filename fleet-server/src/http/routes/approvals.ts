/**
 * The approval workflow: submit (editor) → approve (approver; not the editor when the policy
 * needs two people) → publish; or reject with a reason. `sign: true` signs with the caller's
 * server-held key (which the province must have delegated in the trust policy).
 */
import { z } from 'zod';
import { BundleRecordSchema } from '../../domain/model.js';
import { inScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { RouteContext } from '../route-context.js';

const SignBody = z.strictObject({ sign: z.boolean().default(false) });
const RejectBody = z.strictObject({ reason: z.string().trim().min(1, 'cần ghi lý do').max(1000) });

export function registerApprovalRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'publisher'>,
): void {
  api.add({
    method: 'get',
    path: '/approvals',
    summary: 'Bundles waiting for approval in my scope',
    tags: ['approvals'],
    permission: 'bundle.approve',
    response: z.array(BundleRecordSchema),
    handler: async ({ user }) =>
      (
        await deps.store.bundles.list(
          (b) => b.state === 'submitted' && b.units.every((u) => inScope(user, u)),
        )
      ).sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? '')),
  });

  api.add({
    method: 'post',
    path: '/bundles/:id/submit',
    summary: 'Submit a draft for approval (optionally signing it with my server-held key)',
    tags: ['approvals'],
    permission: 'bundle.compose',
    body: SignBody,
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: async ({ params, body, user, ip }) =>
      services.publisher.submit(params.id, { ...user, ip }, { sign: body.sign }),
  });

  api.add({
    method: 'post',
    path: '/bundles/:id/approve',
    summary: 'Approve a submitted bundle (optionally signing it with my server-held key)',
    description:
      'Refused with SELF_APPROVAL_FORBIDDEN when the trust policy needs two content signatures and I composed or submitted it.',
    tags: ['approvals'],
    permission: 'bundle.approve',
    body: SignBody,
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: async ({ params, body, user, ip }) =>
      services.publisher.approve(params.id, { ...user, ip }, { sign: body.sign }),
  });

  api.add({
    method: 'post',
    path: '/bundles/:id/reject',
    summary: 'Reject a submitted or approved bundle with a reason (back to the editor)',
    tags: ['approvals'],
    permission: 'bundle.approve',
    body: RejectBody,
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: async ({ params, body, user, ip }) =>
      services.publisher.reject(params.id, { ...user, ip }, body.reason),
  });

  api.add({
    method: 'post',
    path: '/bundles/:id/publish',
    summary: 'Publish an approved bundle: verify its signatures, notify the targeted devices',
    tags: ['approvals'],
    permission: 'bundle.publish',
    response: BundleRecordSchema,
    errors: [409, 422],
    handler: async ({ params, user, ip }) => services.publisher.publish(params.id, { ...user, ip }),
  });
}
