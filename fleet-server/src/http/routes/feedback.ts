/**
 * JSON API of the citizens' side for staff and integrations (reports, flows):
 *   GET  /api/v1/feedback            feedback in my scope (filters), newest first
 *   GET  /api/v1/feedback/stats      counts by topic, status, unit, overdue, time to answer
 *   GET  /api/v1/feedback/export.csv the same list as CSV (formula cells neutralised)
 *   PUT  /api/v1/content/:id/public  show a bulletin on its unit's public page (or not), with an optional survey
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { feedbackCsv } from '../../domain/citizens/feedback.js';
import {
  ContentRecordSchema,
  FEEDBACK_STATUSES,
  FeedbackRecordSchema,
  FeedbackTopicSchema,
} from '../../domain/model.js';
import { inScope, requirePermission, requireScope } from '../../domain/rbac.js';
import type { FeedbackService } from '../../services/citizens/feedback-service.js';
import type { RouteContext } from '../route-context.js';

const ListQuery = z.strictObject({
  unit: z
    .string()
    .regex(/^[0-9/]{2,40}$/)
    .optional(),
  status: z.enum(FEEDBACK_STATUSES).optional(),
  topic: FeedbackTopicSchema.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

const StatsQuery = z.strictObject({
  unit: z
    .string()
    .regex(/^[0-9/]{2,40}$/)
    .optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

const PublicBody = z.strictObject({
  public: z.boolean(),
  survey: z
    .strictObject({
      question: z.string().trim().min(3).max(300),
      options: z.array(z.string().trim().min(1).max(100)).min(2).max(6),
    })
    .nullable()
    .optional(),
});

export function registerFeedbackRoutes({ api, app, deps }: RouteContext, feedback: FeedbackService): void {
  api.add({
    method: 'get',
    path: '/feedback',
    summary: "Citizens' feedback in my unit scope, newest first",
    tags: ['citizens'],
    permission: 'feedback.manage',
    query: ListQuery,
    response: z.array(FeedbackRecordSchema),
    handler: async ({ query, user }) =>
      (
        await feedback.list(user, {
          ...(query.unit ? { unit: query.unit } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.topic ? { topic: query.topic } : {}),
        })
      ).slice(0, query.limit),
  });

  api.add({
    method: 'get',
    path: '/feedback/stats',
    summary: 'Feedback counts by topic, status and unit, overdue, and time to answer (hours)',
    tags: ['citizens'],
    permission: 'read',
    query: StatsQuery,
    response: z.object({
      total: z.number(),
      byTopic: z.record(z.string(), z.number()),
      byStatus: z.record(z.string(), z.number()),
      byUnit: z.record(z.string(), z.number()),
      overdue: z.number(),
      answered: z.number(),
      answerHours: z.object({
        median: z.number().nullable(),
        p90: z.number().nullable(),
        max: z.number().nullable(),
      }),
    }),
    handler: async ({ query, user }) => {
      if (query.unit) requireScope(user, query.unit);
      const units = query.unit ? [query.unit] : user.scope.includes('*') ? [''] : user.scope;
      return feedback.counts(units, query.since);
    },
  });

  app.get('/api/v1/feedback/export.csv', async (c) => {
    const user = c.get('user');
    if (!user) throw new LoaError('AUTH_REQUIRED', 'cần đăng nhập');
    requirePermission(user, 'feedback.manage');
    const q = ListQuery.parse(c.req.query());
    const list = await feedback.list(user, {
      ...(q.unit ? { unit: q.unit } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.topic ? { topic: q.topic } : {}),
    });
    return c.body(feedbackCsv(list), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="phan-anh.csv"',
      'cache-control': 'no-store',
    });
  });
  api.describe({
    method: 'get',
    path: '/api/v1/feedback/export.csv',
    summary: 'Feedback in my scope as CSV (cells starting with = + - @ are neutralised)',
    tags: ['citizens'],
    auth: 'user',
    responses: { 200: { description: 'CSV (UTF-8 with BOM)', type: 'text/csv', schema: { type: 'string' } } },
    errors: [401, 403],
  });

  api.add({
    method: 'put',
    path: '/content/:id/public',
    summary:
      "Shows a bulletin on its unit's public page once published (or hides it), with an optional survey",
    tags: ['citizens'],
    permission: 'content.write',
    body: PublicBody,
    response: ContentRecordSchema,
    handler: async ({ params, body, user, audit }) => {
      const rec = await deps.store.content.get(params.id);
      if (!rec || !inScope(user, rec.unit))
        throw new LoaError('CONTENT_NOT_FOUND', 'Không tìm thấy nội dung');
      const patch: Partial<typeof rec> = { public: body.public };
      if (body.survey === null) patch.survey = undefined;
      else if (body.survey) patch.survey = body.survey;
      const next = await deps.store.content.update(rec.id, patch);
      await audit('content.public', { type: 'content', id: rec.id }, { public: body.public }, rec.unit);
      return next;
    },
  });
}
