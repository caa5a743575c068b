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

const TimelineRowSchema = z.object({
  start: z.number(),
  end: z.number(),
  bundleId: z.string(),
  channel: z.string(),
  programme: z.string(),
  entryId: z.string(),
  itemId: z.string(),
  title: z.string(),
  kind: z.string(),
  output: z.enum(['audio', 'display']),
  lengthKnown: z.boolean(),
  startEstimated: z.boolean(),
  priority: z.enum(['normal', 'priority', 'emergency']),
  source: z.enum(['upper', 'own']),
  from: z.string(),
  state: z.enum(['plays', 'opted-out', 'quiet']),
  optedOutBy: z.object({ unit: z.string(), version: z.number() }).optional(),
});
export const TimelineSchema = z.object({
  unit: z.string(),
  day: z.string(),
  dayStart: z.number(),
  dayEnd: z.number(),
  rows: z.array(TimelineRowSchema),
  station: z
    .object({ id: z.string(), kind: z.enum(['station', 'noticeboard']), groups: z.array(z.string()) })
    .optional(),
  quiet: z.array(z.object({ start: z.string(), end: z.string(), unit: z.string() })),
});

const WeekOutputDaySchema = z.object({
  plays: z.number(),
  heldTotal: z.number(),
  held: z.object({
    quiet: z.number(),
    optedOut: z.array(z.object({ unit: z.string(), n: z.number() })),
  }),
  first: z.number().optional(),
  last: z.number().optional(),
  airtimeMs: z.number(),
  airtimeEstimated: z.boolean(),
});
export const WeekSchema = z.object({
  unit: z.string(),
  week: z.string(),
  days: z.array(
    z.object({
      day: z.string(),
      outputs: z.object({ audio: WeekOutputDaySchema, display: WeekOutputDaySchema }),
    }),
  ),
  station: TimelineSchema.shape.station,
  quiet: TimelineSchema.shape.quiet,
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
    method: 'get',
    path: `/units/${UNIT_PARAM}/timeline`,
    summary:
      "What a unit's stations will play on a day (?day=YYYY-MM-DD) or a week (?week=YYYY-MM-DD), Vietnam time",
    description:
      'Upper-level items it carries, its own items, items its choices opt out of (with the choice), and items ' +
      'held by its quiet hours, each with its output: the loudspeakers (audio, stream, FM) or the noticeboards ' +
      "(text, image, video). With ?station=<device id> (a device of the unit): that station's day alone, the " +
      'bundles that target it on the output it has. With ?week=<any day of the week> (or ?view=week, with or ' +
      'without ?day): the week from Monday to Sunday (Vietnam calendar) holding it, absent: this week; each day ' +
      'counted per output from the same day plan: items that will play, items held (quiet hours, opted out by ' +
      'which unit), the first start and the last end, and the total air time.',
    tags: ['units'],
    permission: 'read',
    query: z.object({
      day: z.string().max(20).optional(),
      week: z.string().max(20).optional(),
      view: z.enum(['day', 'week']).optional(),
      station: z.string().min(1).max(128).optional(),
    }),
    response: z.union([TimelineSchema, WeekSchema]),
    errors: [404],
    handler: ({ params, query, user }) =>
      query.week !== undefined || query.view === 'week'
        ? s.choices.week(params.path, query.week ?? query.day, user, query.station)
        : s.choices.timeline(params.path, query.day ?? '', user, query.station),
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
    // bundle.publish, or bundle.compose/approve to co-sign pending choices (checked by the service)
    permission: 'read',
    body: ChoicesInputSchema,
    response: ChoicesViewSchema,
    errors: [404, 422],
    handler: ({ params, body, user, ip }) => s.choices.set(params.path, body, { ...user, ip }),
  });
}
