/**
 * One server-sent event stream for integrations (Node-RED, scripts): device presence, alerts,
 * proofs of playback, emergency progress and CAP intake, as JSON, filtered to the caller's units.
 *   GET /api/v1/events?types=presence,alert,proof,emergency,cap
 * Each event: `event: <type>` (e.g. alert.opened), `id: <seq>`, `data: {type, at, unit?, deviceId?, …}`.
 * A slow reader loses the oldest events beyond 1,000 queued and receives an `overflow` event.
 */
import { LoaError } from '@loa/protocol';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { inScope } from '../../domain/rbac.js';
import type { RouteContext } from '../route-context.js';

/** One event of the stream (its other fields depend on the type). */
export const StreamEventSchema = z.looseObject({
  type: z.string(),
  at: z.string().optional(),
  unit: z.string().optional(),
  deviceId: z.string().optional(),
});
export interface StreamEvent {
  type: string;
  unit?: string;
  deviceId?: string;
  [k: string]: unknown;
}

/** What the stream listens to; each returns an unsubscribe function. */
export type EventSourceFn = (emit: (e: StreamEvent) => void) => () => void;

export const EVENT_KINDS = ['presence', 'alert', 'proof', 'emergency', 'cap'] as const;

const Query = z.strictObject({
  types: z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => {
      const list = s
        ? s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : [...EVENT_KINDS];
      for (const t of list)
        if (!(EVENT_KINDS as readonly string[]).includes(t)) {
          ctx.addIssue({
            code: 'custom',
            message: `loại sự kiện "${t}" không có (${EVENT_KINDS.join(', ')})`,
          });
          return z.NEVER;
        }
      return list;
    }),
});

const MAX_QUEUE = 1000;

export function eventRoutes(
  sources: EventSourceFn[],
  unitOf: (deviceId: string) => Promise<string | undefined>,
) {
  return ({ api, deps }: RouteContext): void => {
    api.add({
      method: 'get',
      path: '/events',
      summary: 'Server-sent events: presence, alerts, proofs, emergency progress, CAP intake (my units only)',
      tags: ['events'],
      permission: 'read',
      query: Query,
      response: StreamEventSchema,
      responseType: 'text/event-stream',
      handler: ({ c, user, query }) => {
        const kinds = new Set(query.types);
        if (kinds.size === 0) throw new LoaError('VALIDATION_FAILED', 'cần ít nhất một loại sự kiện');
        return streamSSE(c, async (stream) => {
          const queue: StreamEvent[] = [];
          let dropped = 0;
          let wake: (() => void) | undefined;
          let seq = 0;
          const push = (e: StreamEvent) => {
            if (!kinds.has(e.type.split('.')[0] as string)) return;
            void (async () => {
              const unit = e.unit ?? (e.deviceId ? await unitOf(e.deviceId) : undefined);
              if (!unit || !inScope(user, unit)) return;
              queue.push({ ...e, unit, at: new Date(deps.clock.now()).toISOString() });
              if (queue.length > MAX_QUEUE) {
                queue.shift();
                dropped++;
              }
              wake?.();
            })().catch(() => undefined);
          };
          const offs = sources.map((s) => s(push));
          stream.onAbort(() => wake?.());
          try {
            await stream.writeSSE({
              event: 'hello',
              data: JSON.stringify({ types: [...kinds] }),
              retry: 3000,
            });
            while (!stream.aborted && !stream.closed) {
              if (dropped) {
                await stream.writeSSE({ event: 'overflow', data: JSON.stringify({ dropped }) });
                dropped = 0;
              }
              const e = queue.shift();
              if (!e) {
                await new Promise<void>((r) => {
                  wake = r;
                  setTimeout(r, 15_000).unref();
                });
                wake = undefined;
                if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
                continue;
              }
              await stream.writeSSE({ event: e.type, id: String(++seq), data: JSON.stringify(e) });
            }
          } finally {
            for (const off of offs) off();
          }
        });
      },
    });
  };
}
