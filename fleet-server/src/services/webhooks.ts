/**
 * Outgoing webhooks: JSON POSTs signed with HMAC-SHA256, retried with exponential backoff.
 *
 * Each delivery carries:
 *   X-Loa-Event: alert.opened | alert.resolved | alert.acknowledged | emergency.sent | emergency.unconfirmed |
 *                bundle.published
 *   X-Loa-Delivery: a UUID (the same on every retry, for the receiver's dedup)
 *   X-Loa-Timestamp: seconds since the epoch
 *   X-Loa-Signature: sha256=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 * Subscriptions are stored through the store's `webhooks` port (embedded: `<dataDir>/webhooks.json`,
 * written atomically and fsync'd; PostgreSQL: the `webhooks` table) and kept in memory.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { withDefaults } from '../defaults.js';
import type { WebhookRecord } from '../domain/model.js';
import { ALL_UNITS, inScope, scopeWithin } from '../domain/rbac.js';
import type { Repository } from '../store/ports.js';

export const WEBHOOK_EVENTS = [
  'alert.opened',
  'alert.resolved',
  'alert.acknowledged',
  'emergency.sent',
  'emergency.unconfirmed',
  'bundle.published',
  'feedback.answered',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WebhookInputSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
  description: z.string().trim().max(200).optional(),
});
export type WebhookInput = z.infer<typeof WebhookInputSchema>;

export const WebhookSchema = z.object({
  ...WebhookInputSchema.shape,
  id: z.string(),
  /** HMAC secret (shown once on creation). */
  secret: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  /**
   * Units whose events this hook receives (the creator's scope). Hooks stored before scopes
   * existed have none and count as province-wide (only a province-wide administrator sees them).
   */
  scope: z.array(z.string()).optional(),
});
export type Webhook = z.infer<typeof WebhookSchema>;
/** A subscription as listed (without its secret). */
export const PublicWebhookSchema = WebhookSchema.omit({ secret: true });

const hookScope = (h: Pick<Webhook, 'scope'>): readonly string[] => h.scope ?? [ALL_UNITS];

export const DeliveryRecordSchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  event: z.string(),
  attempts: z.number().int(),
  status: z.enum(['pending', 'delivered', 'failed']),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
  at: z.string(),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecordSchema>;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
  /** Where subscriptions are stored (the store's `webhooks` port). */
  repo: Repository<WebhookRecord>;
  logger: Logger;
  now: () => number;
  /** Attempts per delivery (default 6). */
  attempts?: number;
  /** First retry delay (default 2 s), doubled each time, capped at maxDelayMs (default 5 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

export const WEBHOOK_DEFAULTS = {
  attempts: 6,
  baseDelayMs: 2000,
  maxDelayMs: 300_000,
  timeoutMs: 10_000,
};

export class WebhookService {
  readonly #o: Required<Omit<WebhookOptions, 'logger'>> & { logger: Logger };
  #hooks: Webhook[] = [];
  readonly #deliveries: DeliveryRecord[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inflight = new Set<Promise<void>>();
  #stopped = false;

  constructor(o: WebhookOptions) {
    this.#o = {
      ...o,
      ...withDefaults(WEBHOOK_DEFAULTS, o),
      logger: o.logger.child({ module: 'webhooks' }),
    };
  }

  async start(): Promise<void> {
    this.#hooks = (await this.#o.repo.list()) as Webhook[];
    this.#stopped = false;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  /** Hooks a viewer with `viewerScope` may see: those whose scope lies inside it (default: all). */
  list(viewerScope: readonly string[] = [ALL_UNITS]): Omit<Webhook, 'secret'>[] {
    return this.#hooks.filter((h) => scopeWithin(viewerScope, hookScope(h))).map(({ secret: _s, ...h }) => h);
  }

  deliveries(limit = 100, viewerScope: readonly string[] = [ALL_UNITS]): DeliveryRecord[] {
    const visible = new Set(this.list(viewerScope).map((h) => h.id));
    return this.#deliveries
      .filter((d) => visible.has(d.webhookId))
      .slice(-limit)
      .reverse();
  }

  async add(input: WebhookInput, by: string, scope: readonly string[] = [ALL_UNITS]): Promise<Webhook> {
    const hook: Webhook = {
      ...input,
      scope: [...scope],
      id: `wh-${randomBytes(6).toString('hex')}`,
      secret: randomBytes(32).toString('base64url'),
      createdAt: new Date(this.#o.now()).toISOString(),
      createdBy: by,
    };
    await this.#o.repo.insert(hook);
    this.#hooks = [...this.#hooks, hook];
    return hook;
  }

  /** Removes a hook the viewer may see; false when absent or out of scope (same answer). */
  async remove(id: string, viewerScope: readonly string[] = [ALL_UNITS]): Promise<boolean> {
    const hook = this.#hooks.find((h) => h.id === id && scopeWithin(viewerScope, hookScope(h)));
    if (!hook) return false;
    await this.#o.repo.delete(id);
    this.#hooks = this.#hooks.filter((h) => h.id !== id);
    return true;
  }

  /** How many webhooks would receive `event` for these units (0: nobody relays it). */
  subscribed(event: WebhookEvent, units: readonly string[]): number {
    let n = 0;
    for (const h of this.#hooks) {
      if (!h.events.includes(event)) continue;
      const scope = { scope: [...hookScope(h)] };
      if (units.some((u) => inScope(scope, u))) n++;
    }
    return n;
  }

  /**
   * Queues a delivery of `data` to every webhook subscribed to `event` whose scope covers one of
   * the `units` the event concerns (a commune's hook hears nothing of another commune).
   */
  emit(event: WebhookEvent, data: unknown, units: readonly string[]): void {
    if (this.#stopped) return;
    for (const h of this.#hooks) {
      if (!h.events.includes(event)) continue;
      const scope = { scope: [...hookScope(h)] };
      if (!units.some((u) => inScope(scope, u)) && !(units.length === 0 && scope.scope.includes(ALL_UNITS)))
        continue;
      const rec: DeliveryRecord = {
        id: randomUUID(),
        webhookId: h.id,
        event,
        attempts: 0,
        status: 'pending',
        at: new Date(this.#o.now()).toISOString(),
      };
      this.#deliveries.push(rec);
      if (this.#deliveries.length > 1000) this.#deliveries.splice(0, this.#deliveries.length - 1000);
      const body = JSON.stringify({ id: rec.id, event, at: rec.at, data });
      this.#attempt(h, rec, body);
    }
  }

  #attempt(h: Webhook, rec: DeliveryRecord, body: string): void {
    const p = this.#post(h, rec, body).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  async #post(h: Webhook, rec: DeliveryRecord, body: string): Promise<void> {
    rec.attempts++;
    const ts = Math.floor(this.#o.now() / 1000);
    try {
      const res = await fetch(h.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'loa-fleet-server',
          'x-loa-event': rec.event,
          'x-loa-delivery': rec.id,
          'x-loa-timestamp': String(ts),
          'x-loa-signature': signWebhook(h.secret, ts, body),
        },
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        redirect: 'manual',
      });
      rec.lastStatus = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        rec.status = 'delivered';
        return;
      }
      rec.lastError = `HTTP ${res.status}`;
    } catch (e) {
      rec.lastError = (e as Error).message.slice(0, 200);
    }
    if (rec.attempts >= this.#o.attempts || this.#stopped) {
      rec.status = 'failed';
      this.#o.logger.warn(
        { webhook: h.id, event: rec.event, attempts: rec.attempts, error: rec.lastError },
        'webhook gave up',
      );
      return;
    }
    const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (rec.attempts - 1));
    const jitter = Math.floor(delay * 0.2 * Math.random());
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopped) this.#attempt(h, rec, body);
    }, delay + jitter);
    t.unref();
    this.#timers.add(t);
  }
}
