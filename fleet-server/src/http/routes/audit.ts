/** The audit log, newest first, limited to the caller's unit scope. */
import { z } from 'zod';
import { AuditEntrySchema } from '../../domain/model.js';
import { ALL_UNITS } from '../../domain/rbac.js';
import type { RouteContext } from '../route-context.js';

const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  action: z.string().max(64).optional(),
  actorId: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

export function registerAuditRoutes({ api, deps }: RouteContext): void {
  api.add({
    method: 'get',
    path: '/audit',
    summary: 'Audit entries (who, what, when, from where), newest first',
    description: 'Users scoped to units see the entries about those units; a "*" scope sees all.',
    tags: ['audit'],
    permission: 'audit.read',
    query: AuditQuery,
    response: z.array(AuditEntrySchema),
    handler: async ({ query, user }) =>
      deps.store.audit.query({
        limit: query.limit,
        ...(query.beforeSeq ? { beforeSeq: query.beforeSeq } : {}),
        ...(query.action ? { action: query.action } : {}),
        ...(query.actorId ? { actorId: query.actorId } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(user.scope.includes(ALL_UNITS) ? {} : { units: user.scope }),
      }),
  });
}
