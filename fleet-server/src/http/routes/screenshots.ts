/**
 * Noticeboard screenshots.
 *   POST /api/v1/ingest/screenshot          device (Basic deviceId:mqttPassword), raw PNG/JPEG body;
 *                                           x-loa-taken-at (ISO instant), x-loa-command-id (UUID)
 *   GET  /api/v1/devices/:id/screenshots    the device's last pictures, newest first
 *   GET  /api/v1/devices/:id/screenshots/:shot   one picture (image/png or image/jpeg)
 * A device stores pictures for itself only, and only a noticeboard (a station has no screen);
 * a user sees the pictures of devices in their scope. The size cap is checked on the declared
 * length first and again while the body streams in; the bytes must start with a PNG or JPEG
 * signature matching the declared type.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { inScope } from '../../domain/rbac.js';
import { ScreenshotMetaSchema, type ScreenshotStore } from '../../services/screenshot-store.js';
import { authenticateDevice } from '../auth.js';
import type { RouteContext } from '../route-context.js';

const UUID = z.uuid();

export function registerScreenshotRoutes({ api, deps }: RouteContext, shots: ScreenshotStore): void {
  api.add({
    method: 'post',
    path: '/ingest/screenshot',
    summary: 'Device: upload a screenshot of its screen (raw PNG or JPEG body)',
    description:
      'Noticeboards only. The picture is checked by its first bytes; the last pictures of each ' +
      'device are kept. Headers: x-loa-taken-at (ISO instant of the capture), x-loa-command-id ' +
      '(the screenshot command it answers, if any).',
    tags: ['ingest'],
    auth: 'public',
    status: 201,
    maxBodyBytes: shots.maxBytes + 1024,
    response: ScreenshotMetaSchema,
    errors: [409, 413, 415, 422],
    handler: async ({ c }) => {
      const d = await authenticateDevice(c, deps.deviceAuth);
      if (!d) throw new LoaError('AUTH_REQUIRED', 'thiết bị cần xác thực (Basic deviceId:mật khẩu MQTT)');
      if (d.kind !== 'noticeboard')
        throw new LoaError('DEVICE_KIND_CONFLICT', 'chỉ bảng tin điện tử mới gửi ảnh màn hình');
      const declared = Number(c.req.header('content-length') ?? '0');
      if (declared > shots.maxBytes)
        throw new LoaError(
          'SCREENSHOT_TOO_LARGE',
          `ảnh màn hình vượt quá ${Math.round(shots.maxBytes / 1024)} KB (${declared} byte)`,
        );
      const commandId = c.req.header('x-loa-command-id');
      if (commandId !== undefined && !UUID.safeParse(commandId).success)
        throw new LoaError('VALIDATION_FAILED', 'x-loa-command-id phải là UUID của lệnh');
      const takenAt = c.req.header('x-loa-taken-at');
      if (takenAt !== undefined && !z.iso.datetime({ offset: true }).safeParse(takenAt).success)
        throw new LoaError('VALIDATION_FAILED', 'x-loa-taken-at phải là thời điểm ISO 8601');
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const rec = await shots.add(d.id, bytes, {
        ...(takenAt ? { takenAt } : {}),
        ...(commandId ? { commandId } : {}),
        ...(c.req.header('content-type') ? { declaredType: c.req.header('content-type') } : {}),
      });
      return c.json(rec, 201);
    },
  });

  const device = async (id: string, user: Parameters<typeof inScope>[0]) => {
    const d = await deps.store.devices.get(id);
    if (!d || !inScope(user, d.unit)) throw new LoaError('DEVICE_NOT_FOUND', `không tìm thấy thiết bị ${id}`);
    return d;
  };

  api.add({
    method: 'get',
    path: '/devices/:id/screenshots',
    summary: "A noticeboard's last screenshots, newest first",
    tags: ['devices'],
    permission: 'read',
    response: z.object({ screenshots: z.array(ScreenshotMetaSchema) }),
    handler: async ({ user, params }) => {
      const d = await device(params.id, user);
      return { screenshots: await shots.list(d.id) };
    },
  });

  api.add({
    method: 'get',
    path: '/devices/:id/screenshots/:shot',
    summary: 'One screenshot of a noticeboard (the picture itself; "latest" for the newest)',
    tags: ['devices'],
    permission: 'read',
    response: z.string(),
    responseType: 'image/png',
    handler: async ({ c, user, params }) => {
      const d = await device(params.id, user);
      const id = params.shot === 'latest' ? (await shots.latest(d.id))?.id : params.shot;
      const hit = id ? await shots.read(d.id, id) : undefined;
      if (!hit) throw new LoaError('SCREENSHOT_NOT_FOUND', 'chưa có ảnh màn hình này');
      return c.body(new Uint8Array(hit.bytes), 200, {
        'content-type': hit.meta.mediaType,
        'content-length': String(hit.bytes.length),
        'cache-control': 'private, max-age=60',
        'x-loa-taken-at': hit.meta.takenAt,
      });
    },
  });
}
