/**
 * A unit's programme choices: which upper-level normal content its stations do not carry, and
 * its quiet hours, signed and sent to its stations (services/choices-service.ts).
 */
import { z } from 'zod';
import { ChoicesInputSchema } from '../../domain/choices.js';
import type { ChoicesService } from '../../services/choices-service.js';
import type { RouteContext } from '../route-context.js';
import { UNIT_PARAM } from './units.js';

const OptOutView = z.object({
  channel: z.string().optional(),
  entries: z.array(z.string()).optional(),
  categories: z.array(z.string()).optional(),
});
const QuietView = z.object({ start: z.string(), end: z.string() });
export const ChoicesViewSchema = z.object({
  unit: z.string(),
  current: z
    .object({
      version: z.number().int(),
      optOut: z.array(OptOutView),
      quietHours: z.array(QuietView),
      issued: z.string(),
      publishedBy: z.array(z.string()),
    })
    .optional(),
  pending: z
    .object({
      version: z.number().int(),
      optOut: z.array(OptOutView),
      quietHours: z.array(QuietView),
      signatures: z.number().int(),
      needed: z.number().int(),
      requestedBy: z.array(z.string()),
    })
    .optional(),
});

export function registerChoicesRoutes({ api }: RouteContext, s: { choices: ChoicesService }): void {
  api.add({
    method: 'get',
    path: `/units/${UNIT_PARAM}/choices`,
    summary: "A unit's programme choices (opt-outs of upper-level normal content, quiet hours)",
    tags: ['units'],
    permission: 'read',
    response: ChoicesViewSchema,
    handler: ({ params, user }) => s.choices.view(params.path, user),
  });

  api.add({
    method: 'put',
    path: `/units/${UNIT_PARAM}/choices`,
    summary: "Sets (or co-signs) a unit's programme choices",
    description:
      'Signed with my server-held key (role content, scope over the unit). Where the trust policy wants more ' +
      'content signatures, the choices wait until another person sets the same; then they are sent to the ' +
      "unit's stations. Only normal items of upper-level bundles can be opted out of; quiet hours never hold " +
      'an emergency.',
    tags: ['units'],
    permission: 'bundle.publish',
    body: ChoicesInputSchema,
    response: ChoicesViewSchema,
    errors: [404, 422],
    handler: ({ params, body, user, ip }) => s.choices.set(params.path, body, { ...user, ip }),
  });
}
