/**
 * Web Push for emergencies: VAPID keys generated locally on first start (kept 0600 in the data
 * dir), one subscription per browser and unit, and on each emergency an encrypted notification
 * (RFC 8291 aes128gcm, VAPID RFC 8292: the `web-push` library builds the request) posted to every
 * subscription of the unit and of the units under it. A push service answering 404/410 ends the
 * subscription. Browsers without push keep the page's live banner.
 *
 * Endpoints must be https URLs on a named host (no IP literal, no localhost) so the server cannot
 * be aimed at its own network; `allowLoopbackHttp` lifts that for tests against a local endpoint.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LoaError, unitCovers } from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import webpush from 'web-push';
import { z } from 'zod';
import type { PushSubscriptionRecord } from '../../domain/model.js';
import type { Store } from '../../store/ports.js';

export const PushSubscriptionInputSchema = z.strictObject({
  endpoint: z.url().max(1000),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/),
    auth: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/),
  }),
});
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionInputSchema>;

export interface PushDeps {
  store: Store;
  /** File of the VAPID key pair. */
  keyFile: string;
  /** Contact of the operator of this server (VAPID `sub`). */
  subject: string;
  logger: Logger;
  now: () => number;
  allowLoopbackHttp?: boolean;
  fetch?: typeof fetch;
}

export class PushService {
  #keys: { publicKey: string; privateKey: string } | undefined;
  readonly #d: PushDeps;
  sent = 0;
  failed = 0;
  constructor(d: PushDeps) {
    this.#d = { ...d, logger: d.logger.child({ module: 'push' }) };
  }

  async start(): Promise<void> {
    try {
      const k = JSON.parse(await readFile(this.#d.keyFile, 'utf8')) as {
        publicKey: string;
        privateKey: string;
      };
      if (k.publicKey && k.privateKey) this.#keys = k;
    } catch {
      /* generated below */
    }
    if (!this.#keys) {
      this.#keys = webpush.generateVAPIDKeys();
      await writeJsonAtomic(this.#d.keyFile, this.#keys, { mode: 0o600 });
    }
  }

  get publicKey(): string {
    if (!this.#keys) throw new LoaError('PLUGIN_NOT_STARTED', 'push keys not loaded');
    return this.#keys.publicKey;
  }

  #checkEndpoint(raw: string): void {
    const u = new URL(raw);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (this.#d.allowLoopbackHttp && u.protocol === 'http:' && host === '127.0.0.1') return;
    const ipLiteral = /^[0-9.]+$/.test(host) || host.includes(':');
    if (u.protocol !== 'https:' || ipLiteral || host === 'localhost' || !host.includes('.'))
      throw new LoaError('PUSH_ENDPOINT', 'Địa chỉ nhận thông báo không hợp lệ');
  }

  async subscribe(unit: string, input: PushSubscriptionInput): Promise<PushSubscriptionRecord> {
    this.#checkEndpoint(input.endpoint);
    const id = createHash('sha256').update(`${unit}|${input.endpoint}`).digest('hex');
    const count = await this.#d.store.pushSubscriptions.count((s) => s.unit === unit);
    if (count >= 200_000) throw new LoaError('PUSH_FULL', 'Đơn vị đã có quá nhiều đăng ký nhận thông báo');
    return this.#d.store.pushSubscriptions.put({
      id,
      unit,
      endpoint: input.endpoint,
      keys: input.keys,
      createdAt: new Date(this.#d.now()).toISOString(),
    });
  }

  async unsubscribe(unit: string, endpoint: string): Promise<boolean> {
    return this.#d.store.pushSubscriptions.delete(
      createHash('sha256').update(`${unit}|${endpoint}`).digest('hex'),
    );
  }

  /** Sends `payload` to every subscription inside `unit`'s subtree; resolves with counts. */
  async notify(
    unit: string,
    payload: Record<string, unknown>,
  ): Promise<{ sent: number; failed: number; removed: number }> {
    if (!this.#keys) return { sent: 0, failed: 0, removed: 0 };
    const subs = await this.#d.store.pushSubscriptions.list((s) => unitCovers(unit, s.unit));
    const body = JSON.stringify(payload);
    const doFetch = this.#d.fetch ?? fetch;
    let sent = 0;
    let failed = 0;
    let removed = 0;
    const one = async (s: PushSubscriptionRecord) => {
      try {
        const req = webpush.generateRequestDetails({ endpoint: s.endpoint, keys: s.keys }, body, {
          TTL: 3600,
          urgency: 'high',
          vapidDetails: { subject: this.#d.subject, ...this.#keys! },
        });
        const res = await doFetch(req.endpoint, {
          method: req.method,
          headers: req.headers as Record<string, string>,
          body: req.body ? new Uint8Array(req.body) : null,
          signal: AbortSignal.timeout(10_000),
          redirect: 'error',
        });
        if (res.status === 404 || res.status === 410) {
          await this.#d.store.pushSubscriptions.delete(s.id);
          removed++;
        } else if (res.ok) sent++;
        else {
          failed++;
          await this.#d.store.pushSubscriptions.update(s.id, {
            failedAt: new Date(this.#d.now()).toISOString(),
          });
        }
        await res.body?.cancel().catch(() => undefined);
      } catch (err) {
        failed++;
        this.#d.logger.warn({ err, sub: s.id.slice(0, 12) }, 'push delivery failed');
      }
    };
    // a few at a time: a province-wide alert must not open thousands of sockets at once
    for (let i = 0; i < subs.length; i += 32) await Promise.all(subs.slice(i, i + 32).map(one));
    this.sent += sent;
    this.failed += failed;
    return { sent, failed, removed };
  }
}
