/**
 * Ingest over HTTP (a fallback for devices whose MQTT link is blocked; the same checks as MQTT)
 * and the live per-device state operators look at.
 *   POST /api/v1/ingest/proofs   Basic deviceId:mqttPassword, {proofs: Proof[]} → {results, ackUpToSeq}
 *   POST /api/v1/ingest/health   Basic deviceId:mqttPassword, a HealthSchema report
 */
import { HealthSchema, LoaError, ProofSchema } from '@loa/protocol';
import { z } from 'zod';
import { ProofEntrySchema } from '../../domain/model.js';
import { inScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { ProofResult } from '../../services/ingest-service.js';
import { authenticateDevice } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import { DeviceLiveStateSchema, OkSchema } from '../schemas.js';

const ProofUploadSchema = z.strictObject({ proofs: z.array(ProofSchema).min(1).max(500) });
/** Per proof: accepted, duplicate, gap…, and the seq acknowledged (the device drops up to it). */
const ProofBatchResultSchema = z.object({
  results: z.array(
    z.object({ verdict: z.string(), code: z.string().optional(), ackUpToSeq: z.number().int().optional() }),
  ),
  ackUpToSeq: z.number().int(),
});
const LiveQuery = z.strictObject({
  unit: z.string().max(40).optional(),
  online: z.enum(['true', 'false']).optional(),
});
const ProofQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

export function registerIngestRoutes(
  { api, deps }: RouteContext,
  services: Pick<ContentServices, 'ingest'>,
): void {
  const device = async (c: Parameters<typeof authenticateDevice>[0]) => {
    const d = await authenticateDevice(c, deps.deviceAuth);
    if (!d) throw new LoaError('AUTH_REQUIRED', 'thiết bị cần xác thực (Basic deviceId:mật khẩu MQTT)');
    return d;
  };

  api.add({
    method: 'post',
    path: '/ingest/proofs',
    summary: 'Device: upload signed proofs over HTTP (same verification, chain and dedup as MQTT)',
    tags: ['ingest'],
    auth: 'public',
    body: ProofUploadSchema,
    maxBodyBytes: 4 * 1024 * 1024,
    response: ProofBatchResultSchema,
    handler: async ({ c, body }) => {
      const d = await device(c);
      const ingest = services.ingest;
      const results: ProofResult[] = await ingest.ingestProofs(d.id, body.proofs);
      const acked = results.map((r) => r.ackUpToSeq ?? 0);
      return { results, ackUpToSeq: Math.max(0, ...acked) };
    },
  });

  api.add({
    method: 'post',
    path: '/ingest/health',
    summary: 'Device: upload a health report over HTTP',
    tags: ['ingest'],
    auth: 'public',
    body: HealthSchema,
    response: OkSchema,
    handler: async ({ c, body }) => {
      const d = await device(c);
      await services.ingest.ingestHealth(d.id, body);
      return { ok: true };
    },
  });

  api.add({
    method: 'get',
    path: '/live',
    summary: 'Latest state per device in my scope (online, last health, last proof, gaps, rejections)',
    tags: ['ingest'],
    permission: 'read',
    query: LiveQuery,
    response: z.array(DeviceLiveStateSchema),
    handler: ({ query, user }) => {
      const out = [];
      for (const s of services.ingest.liveAll().values()) {
        if (!inScope(user, s.unit)) continue;
        if (query.unit && !(s.unit === query.unit || s.unit.startsWith(`${query.unit}/`))) continue;
        if (query.online && s.online !== (query.online === 'true')) continue;
        out.push(s);
      }
      return out;
    },
  });

  api.add({
    method: 'get',
    path: '/devices/:id/proofs',
    summary: 'Stored proofs of a device (newest window first by receivedAt)',
    tags: ['ingest'],
    permission: 'read',
    query: ProofQuery,
    response: z.array(ProofEntrySchema),
    handler: async ({ params, query, user }) => {
      const d = await deps.store.devices.get(params.id);
      // out of scope answers as absent: the caller cannot learn which ids exist elsewhere
      if (!d || !inScope(user, d.unit)) throw new LoaError('DEVICE_NOT_FOUND', 'Không tìm thấy thiết bị');
      return deps.store.proofs.query({
        deviceId: d.id,
        limit: query.limit,
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to } : {}),
      });
    },
  });
}
