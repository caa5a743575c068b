/**
 * The trust policy (signed OFFLINE by the province with `loa trust`, verified here against the
 * pinned root public keys) and each user's server-held signing key.
 */
import { z } from 'zod';
import { TrustPolicyRecordSchema } from '../../domain/model.js';
import type { ContentServices } from '../../services/content-services.js';
import { PublicKeyInfoSchema } from '../../services/signer.js';
import type { RouteContext } from '../route-context.js';

/** My signing key (public part) and its delegation in the installed trust policy, or nulls. */
const SigningKeyAnswerSchema = z.object({
  key: PublicKeyInfoSchema.nullable(),
  delegation: z
    .object({ roles: z.array(z.string()), scope: z.array(z.string()), name: z.string().optional() })
    .nullable()
    .optional(),
});

export function registerTrustRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'signer' | 'trust'>,
): void {
  api.add({
    method: 'get',
    path: '/trust',
    summary: 'The installed trust policy (null when none)',
    tags: ['trust'],
    permission: 'read',
    response: z.union([TrustPolicyRecordSchema, z.object({ policy: z.null() })]),
    handler: () => {
      const rec = services.trust.record();
      return rec ?? { policy: null };
    },
  });

  api.add({
    method: 'get',
    path: '/trust/history',
    summary: 'Every trust policy installed, oldest first',
    tags: ['trust'],
    permission: 'trust.manage',
    response: z.array(TrustPolicyRecordSchema),
    handler: () => deps.store.trust.history(),
  });

  api.add({
    method: 'put',
    path: '/trust',
    summary: 'Upload a trust policy signed offline (`loa trust`)',
    description:
      'Verified against the root public keys the server is configured with (TRUST_ROOTS), or against the ' +
      "installed policy's root (key rotation). Older versions are refused (TRUST_ROLLBACK).",
    tags: ['trust'],
    permission: 'trust.manage',
    body: z.record(z.string(), z.unknown()),
    maxBodyBytes: 8 * 1024 * 1024,
    response: TrustPolicyRecordSchema,
    errors: [409, 422],
    handler: async ({ body, user, audit }) => {
      const rec = await services.trust.upload(body, user.id);
      await audit(
        'trust.upload',
        { type: 'trust', id: String(rec.version) },
        { keys: rec.policy.keys.length },
      );
      return rec;
    },
  });

  api.add({
    method: 'get',
    path: '/signing-keys/me',
    summary: 'My server-held signing key (public part) and how the trust policy delegates it',
    tags: ['trust'],
    roles: ['editor', 'approver', 'operator', 'administrator'],
    response: SigningKeyAnswerSchema,
    handler: async ({ user }) => {
      const svc = services;
      const k = await svc.signer.active(user.id);
      if (!k) return { key: null };
      const d = svc.trust.delegation(k.keyid);
      return {
        key: { keyid: k.keyid, publicKey: k.publicKey, createdAt: k.createdAt },
        delegation: d ? { roles: d.roles, scope: d.scope, name: d.name } : null,
      };
    },
  });

  api.add({
    method: 'post',
    path: '/signing-keys/me',
    summary: 'Generate my server-held signing key (replaces the previous one)',
    description:
      'Gives the public key to put into the next trust policy (`loa trust add`). The private key stays ' +
      'on the server, encrypted at rest.',
    tags: ['trust'],
    roles: ['editor', 'approver', 'operator', 'administrator'],
    status: 201,
    response: PublicKeyInfoSchema,
    handler: async ({ user, audit }) => {
      const info = await services.signer.generate(user.id);
      await audit('signing-key.create', { type: 'signing-key', id: info.keyid });
      return info;
    },
  });
}
