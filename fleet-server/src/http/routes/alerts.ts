/** Alerts (open → acknowledged → resolved) and outgoing webhook subscriptions. */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { AlertRecordSchema } from '../../domain/model.js';
import { inScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import {
  DeliveryRecordSchema,
  PublicWebhookSchema,
  WebhookInputSchema,
  WebhookSchema,
} from '../../services/webhooks.js';
import type { RouteContext } from '../route-context.js';
import { OkSchema } from '../schemas.js';

const ListQuery = z.strictObject({
  state: z.enum(['open', 'acknowledged', 'resolved', 'active']).default('active'),
  deviceId: z.string().max(128).optional(),
  rule: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

export function registerAlertRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'alerts' | 'webhooks'>,
): void {
  api.add({
    method: 'get',
    path: '/alerts',
    summary: 'Alerts in my scope (default: active = open or acknowledged), newest first',
    tags: ['alerts'],
    permission: 'read',
    query: ListQuery,
    response: z.array(AlertRecordSchema),
    handler: async ({ query, user }) => {
      const list = await deps.store.alerts.list(
        (a) =>
          inScope(user, a.unit) &&
          (query.state === 'active' ? a.state !== 'resolved' : a.state === query.state) &&
          (!query.deviceId || a.deviceId === query.deviceId) &&
          (!query.rule || a.rule === query.rule),
      );
      return list.sort((a, b) => b.openedAt.localeCompare(a.openedAt)).slice(0, query.limit);
    },
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/ack',
    summary: 'Acknowledge an alert (it resolves by itself when its condition clears)',
    tags: ['alerts'],
    permission: 'alert.manage',
    response: AlertRecordSchema,
    handler: async ({ params, user, audit }) => {
      const a = await services.alerts.acknowledge(params.id, user);
      await audit(
        'alert.acknowledge',
        { type: 'alert', id: a.id },
        { rule: a.rule, deviceId: a.deviceId },
        a.unit,
      );
      return a;
    },
  });

  api.add({
    method: 'get',
    path: '/webhooks',
    summary: 'Outgoing webhook subscriptions (secrets are not shown)',
    tags: ['webhooks'],
    roles: ['administrator'],
    response: z.array(PublicWebhookSchema),
    handler: () => services.webhooks.list(),
  });

  api.add({
    method: 'get',
    path: '/webhooks/deliveries',
    summary: 'Recent webhook deliveries and their outcome',
    tags: ['webhooks'],
    roles: ['administrator'],
    response: z.array(DeliveryRecordSchema),
    handler: () => services.webhooks.deliveries(),
  });

  api.add({
    method: 'post',
    path: '/webhooks',
    summary: 'Subscribe a URL to events; the HMAC secret is shown once',
    description:
      'Deliveries are JSON POSTs with X-Loa-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body), ' +
      'retried with exponential backoff on failure.',
    tags: ['webhooks'],
    roles: ['administrator'],
    body: WebhookInputSchema,
    status: 201,
    response: WebhookSchema,
    handler: async ({ body, user, audit }) => {
      const h = await services.webhooks.add(body, user.id);
      await audit('webhook.create', { type: 'webhook', id: h.id }, { url: h.url, events: h.events });
      return h;
    },
  });

  api.add({
    method: 'delete',
    path: '/webhooks/:id',
    summary: 'Remove a webhook subscription',
    tags: ['webhooks'],
    roles: ['administrator'],
    response: OkSchema,
    handler: async ({ params, audit }) => {
      const ok = await services.webhooks.remove(params.id);
      if (!ok) throw new LoaError('WEBHOOK_NOT_FOUND', 'Không tìm thấy webhook');
      await audit('webhook.delete', { type: 'webhook', id: params.id });
      return { ok: true };
    },
  });
}
