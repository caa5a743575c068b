/**
 * Agent releases (self-update):
 *   POST /api/v1/releases/artifact        the artifact (.tar.gz) as the raw body → its SHA-256
 *   POST /api/v1/releases                 a release signed offline under the `release` role
 *   GET  /api/v1/releases                 releases, newest first, with their rollout counts
 *   GET  /api/v1/releases/:id/rollout     per-station progress, stages, halt
 *   POST /api/v1/releases/:id/stages      next stage: canary stations, one unit, all
 *   POST /api/v1/releases/:id/halt        halt the rollout by hand, with a reason
 *   GET  /api/v1/fleet/versions           agent versions across the fleet (caller's scope)
 *   GET  /releases/:id/artifact           (device, Basic auth) the artifact, to stations sent it
 */
import { LoaError, ReleaseSchema } from '@loa/protocol';
import { z } from 'zod';
import { RolloutRecordSchema } from '../../domain/model.js';
import { RELEASE_STAGES } from '../../domain/release-rollout.js';
import type { BlobStore } from '../../services/blob-store.js';
import type { ReleaseService } from '../../services/release-service.js';
import { authenticateDevice } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import { RolloutSummarySchema } from '../schemas.js';

const StageSchema = z.object({
  stage: z.enum(['canary', 'unit', 'all']),
  unit: z.string().optional(),
  count: z.number().int().min(1).max(50).optional(),
  devices: z.array(z.string()).max(50).optional(),
  at: z.string(),
  by: z.string(),
});
const HaltSchema = z.object({
  deviceId: z.string().optional(),
  reason: z.string(),
  at: z.string(),
  by: z.string().optional(),
});
const ReleaseRecordSchema = z.object({
  release: ReleaseSchema,
  uploadedAt: z.string(),
  uploadedBy: z.string(),
  stages: z.array(StageSchema.omit({ count: true }).extend({ devices: z.array(z.string()) })),
  halted: HaltSchema.optional(),
});

export function registerReleaseRoutes(
  { api, app, deps }: RouteContext,
  services: { releases: ReleaseService; blobs: BlobStore },
): void {
  const svc = services.releases;

  api.add({
    method: 'post',
    path: '/releases/artifact',
    summary: 'Upload an agent release artifact (.tar.gz, images/build-agent.sh) as the raw body',
    tags: ['releases'],
    permission: 'trust.manage',
    status: 201,
    maxBodyBytes: 256 * 1024 * 1024 + 64 * 1024,
    response: z.object({ sha256: z.string(), size: z.number().int() }),
    errors: [413],
    handler: async ({ c }) => c.json(await svc.uploadArtifact(c.req.raw.body), 201),
  });

  api.add({
    method: 'post',
    path: '/releases',
    summary: 'Add an agent release signed offline under the "release" role (`loa release sign`)',
    description:
      'Verified against the installed trust policy: signatures by keys holding the release role, ' +
      'covering every target unit; the artifact must have been uploaded first.',
    tags: ['releases'],
    permission: 'trust.manage',
    body: z.record(z.string(), z.unknown()),
    status: 201,
    response: ReleaseRecordSchema,
    errors: [409, 422],
    handler: async ({ body, user, audit }) => {
      const rec = await svc.upload(body, user.id);
      await audit('release.add', { type: 'release', id: rec.release.id }, { version: rec.release.version });
      return rec;
    },
  });

  api.add({
    method: 'get',
    path: '/releases',
    summary: 'Agent releases, newest first, with rollout counts',
    tags: ['releases'],
    permission: 'read',
    response: z.array(ReleaseRecordSchema.extend({ summary: RolloutSummarySchema })),
    handler: async () =>
      Promise.all(
        svc.list().map(async (r) => ({ ...r, summary: (await svc.rollout(r.release.id)).summary })),
      ),
  });

  api.add({
    method: 'get',
    path: '/releases/:id/rollout',
    summary: 'Per-station progress of an agent release (notified … playing = ready, or failed + reason)',
    tags: ['releases'],
    permission: 'read',
    response: z.object({
      release: ReleaseRecordSchema,
      summary: RolloutSummarySchema,
      devices: z.array(RolloutRecordSchema),
    }),
    handler: async ({ params }) => {
      const r = await svc.rollout(params.id);
      return { release: r.record, summary: r.summary, devices: r.entries };
    },
  });

  api.add({
    method: 'post',
    path: '/releases/:id/stages',
    summary: 'Start the next rollout stage: a few canary stations, then one unit, then all',
    description:
      'Each stage waits until every station of the stages before runs the release and reported ready; ' +
      'a failure (refused or rolled back) halts the rollout (ROLLOUT_HALTED).',
    tags: ['releases'],
    permission: 'trust.manage',
    body: z.object({
      stage: z.enum(RELEASE_STAGES),
      unit: z.string().optional(),
      count: z.number().int().min(1).max(50).optional(),
      devices: z.array(z.string()).max(50).optional(),
    }),
    status: 201,
    response: StageSchema,
    errors: [409],
    handler: async ({ params, body, user, audit }) => {
      const st = await svc.stage(params.id, body, user.id);
      await audit(
        'release.stage',
        { type: 'release', id: params.id },
        { stage: st.stage, devices: st.devices.length },
      );
      return st;
    },
  });

  api.add({
    method: 'post',
    path: '/releases/:id/halt',
    summary: 'Halt a rollout by hand: no further stage starts (stations already sent it keep it)',
    tags: ['releases'],
    permission: 'trust.manage',
    body: z.object({ reason: z.string().trim().min(3).max(500) }),
    status: 201,
    response: HaltSchema,
    errors: [409],
    handler: async ({ params, body, user, audit }) => {
      const h = await svc.halt(params.id, body.reason, user.id);
      await audit('release.halt', { type: 'release', id: params.id }, { reason: body.reason });
      return h;
    },
  });

  api.add({
    method: 'get',
    path: '/fleet/versions',
    summary: 'Agent versions across the fleet (latest health of each station in your units)',
    tags: ['releases'],
    permission: 'read',
    response: z.object({
      versions: z.array(z.object({ agentVersion: z.string(), devices: z.number(), online: z.number() })),
      devices: z.array(
        z.object({ id: z.string(), unit: z.string(), agentVersion: z.string(), online: z.boolean() }),
      ),
    }),
    handler: ({ user }) => svc.fleetVersions(user.scope),
  });

  app.get('/releases/:id/artifact', async (c) => {
    const device = await authenticateDevice(c, deps.deviceAuth);
    if (!device) {
      c.header('WWW-Authenticate', 'Basic realm="loa-devices", charset="UTF-8"');
      throw new LoaError('AUTH_REQUIRED', 'cần xác thực thiết bị (Basic deviceId:mật khẩu MQTT)');
    }
    const r = await svc.deviceMay(c.req.param('id'), device.id);
    const st = r ? await services.blobs.stat(r.artifact.sha256) : undefined;
    if (!r || !st) throw new LoaError('RELEASE_NOT_FOUND', 'không có bản phát hành này');
    return new Response(services.blobs.readWeb(r.artifact.sha256), {
      headers: { 'Content-Type': 'application/gzip', 'Content-Length': String(st.size) },
    });
  });
}
