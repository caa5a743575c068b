/**
 * CAP 1.2 alerts pushed by warning systems: `POST /api/v1/cap` with the CAP XML as the body (size
 * capped; a DTD, hence any entity expansion, is refused), an API token whose role may send
 * emergencies. The answer says what became of it: a draft waiting for a person, a sent emergency
 * (where the province's policy allows it), a cancellation (the emergency is recalled), a duplicate
 * or an ignored test. Drafts are sent or discarded by a person; the province edits its table at
 * /cap/config. Mounted by the integrations plugin; the routes receive the CAP service.
 */
import { LoaError } from '@loa/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import { CapRecordSchema, CapResultSchema } from '../../domain/cap/intake.js';
import { CapConfigSchema } from '../../domain/cap/mapping.js';
import { CAP_MAX_BYTES } from '../../domain/cap/parse.js';
import { inScope } from '../../domain/rbac.js';
import type { CapService } from '../../services/cap-service.js';
import type { AppEnv } from '../auth.js';
import type { RouteContext } from '../route-context.js';

const XML_TYPES = ['application/xml', 'text/xml', 'application/cap+xml'];

/** Reads the body as UTF-8 text, refusing more than `max` bytes before holding them. */
export async function readXmlBody(c: Context<AppEnv>, max = CAP_MAX_BYTES): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!XML_TYPES.includes(type))
    throw new LoaError(
      'UNSUPPORTED_MEDIA_TYPE',
      `nội dung phải là XML CAP (Content-Type: ${XML_TYPES.join(', ')})`,
    );
  const tooLarge = () => new LoaError('PAYLOAD_TOO_LARGE', `tài liệu CAP quá lớn (tối đa ${max} byte)`);
  if (Number(c.req.header('content-length') ?? '0') > max) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (cause) {
    throw new LoaError('CAP_MALFORMED', 'CAP: nội dung không phải UTF-8 hợp lệ', { cause });
  }
}

const ListQuery = z.strictObject({
  state: z.enum(['draft', 'sent', 'cancelled', 'superseded', 'ignored']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/** The CAP routes, handed the CAP service (mounted by the integrations plugin). */
export function capRoutes(cap: CapService) {
  return ({ api, app }: RouteContext): void => {
    api.add({
      method: 'post',
      path: '/cap',
      summary: 'Receive a CAP 1.2 alert (XML body): emergency draft, automatic send, update or cancel',
      description:
        'Body: one CAP 1.2 <alert> (Content-Type application/xml, at most 256 KiB; a DOCTYPE is refused). ' +
        'Areas map to units by the province table (geocodes, unit centroids, names). An alert whose priority ' +
        'is emergency and whose sender and severity the auto-send policy lists is broadcast at once; any ' +
        'other becomes a draft for a person. Update replaces the referenced alerts; Cancel recalls the ' +
        'emergencies they sent (a signed recall, as the caller: stations stop them and drop them, also when offline now). Same sender+identifier twice: `duplicate`.',
      tags: ['cap'],
      permission: 'emergency.send',
      response: CapResultSchema,
      errors: [409, 413, 415, 422],
      handler: async ({ c, user, ip }) => {
        const xml = await readXmlBody(c);
        const forward: Record<string, string> = { 'content-type': 'application/json' };
        for (const h of ['authorization', 'cookie', 'x-csrf-token']) {
          const v = c.req.header(h);
          if (v) forward[h] = v;
        }
        // the stop goes through the command API as the caller: same roles, keys, scope and audit
        const stopUnit = async (unit: string) => {
          const res = await app.request(`/api/v1/units/${unit}/commands`, {
            method: 'POST',
            headers: forward,
            body: JSON.stringify({ action: 'stop' }),
          });
          if (res.ok) return;
          const body = (await res.json().catch(() => ({}))) as {
            error?: { code?: string; message?: string };
          };
          throw new LoaError(
            body.error?.code ?? 'CAP_STOP_FAILED',
            `không dừng được phát khẩn cấp ở đơn vị ${unit}: ${body.error?.message ?? res.status}`,
            { details: { unit } },
          );
        };
        // a Cancel recalls the emergencies it cancels, through the recall API as the caller
        const recall = async (bundleId: string, reason: string) => {
          const res = await app.request(`/api/v1/bundles/${encodeURIComponent(bundleId)}/recall`, {
            method: 'POST',
            headers: forward,
            body: JSON.stringify({ reason }),
          });
          if (res.ok) return;
          const body = (await res.json().catch(() => ({}))) as {
            error?: { code?: string; message?: string };
          };
          throw new LoaError(
            body.error?.code ?? 'CAP_RECALL_FAILED',
            `không gỡ được cảnh báo khẩn cấp ${bundleId}: ${body.error?.message ?? res.status}`,
            { details: { bundleId } },
          );
        };
        const r = await cap.intake(xml, { ...user, ip }, stopUnit, recall);
        return c.json(r, r.outcome === 'duplicate' || r.outcome === 'ignored' ? 200 : 201);
      },
    });

    api.add({
      method: 'get',
      path: '/cap/alerts',
      summary: 'CAP alerts received (newest first) touching my scope',
      tags: ['cap'],
      permission: 'read',
      query: ListQuery,
      response: z.array(CapRecordSchema),
      handler: ({ query, user }) =>
        cap
          .list(5000)
          .filter(
            (r) =>
              (!query.state || r.state === query.state) &&
              (r.units.length === 0 || r.units.some((u) => inScope(user, u))),
          )
          .slice(0, query.limit),
    });

    api.add({
      method: 'get',
      path: '/cap/alerts/:id',
      summary: 'One received CAP alert and what became of it',
      tags: ['cap'],
      permission: 'read',
      response: CapRecordSchema,
      handler: ({ params, user }) => {
        const r = cap.get(params.id as string);
        if (r.units.length && !r.units.some((u) => inScope(user, u)))
          throw new LoaError('CAP_ALERT_NOT_FOUND', `Không tìm thấy cảnh báo CAP "${params.id}"`);
        return r;
      },
    });

    api.add({
      method: 'post',
      path: '/cap/alerts/:id/send',
      summary: 'Send a CAP draft as an emergency (with my server-held key)',
      tags: ['cap'],
      permission: 'emergency.send',
      response: CapRecordSchema,
      errors: [409, 422],
      handler: ({ params, user, ip }) => cap.send(params.id as string, { ...user, ip }),
    });

    api.add({
      method: 'post',
      path: '/cap/alerts/:id/discard',
      summary: 'Discard a CAP draft (nothing is sent)',
      tags: ['cap'],
      permission: 'emergency.send',
      response: CapRecordSchema,
      errors: [409],
      handler: ({ params, user, ip }) => cap.discard(params.id as string, { ...user, ip }),
    });

    api.add({
      method: 'get',
      path: '/cap/config',
      summary: "The province's CAP table: geocodes, centroids, priority rules, auto-send policy",
      tags: ['cap'],
      permission: 'read',
      response: CapConfigSchema,
      handler: () => cap.config(),
    });

    api.add({
      method: 'put',
      path: '/cap/config',
      summary: "Replace the province's CAP table",
      tags: ['cap'],
      roles: ['administrator'],
      body: z.record(z.string(), z.unknown()),
      response: CapConfigSchema,
      handler: ({ body, user, ip }) => cap.setConfig(body, { ...user, ip }),
    });
  };
}
