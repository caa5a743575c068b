/**
 * Device downloads (outside /api/v1):
 *   GET|HEAD /blobs/<sha256>                   content-addressed file; Range, ETag, If-None-Match
 *   GET      /bundles/<id>/manifest.json       the signed manifest of a published bundle
 * Authentication: a device sends its MQTT credentials as HTTP Basic (deviceId:password); a
 * logged-in user (session or API token, any role) may fetch too (dashboard previews).
 * Blobs stream from disk; nothing is read whole into memory.
 */
import { documentDigest, LoaError, ManifestSchema, targetMatches } from '@loa/protocol';
import type { Context } from 'hono';
import type { DeviceRecord } from '../../domain/model.js';
import { inScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { AppEnv } from '../auth.js';
import { authenticateDevice } from '../auth.js';
import type { RouteContext } from '../route-context.js';

type Caller = { device: DeviceRecord } | { user: NonNullable<AppEnv['Variables']['user']> };

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header against a size. Returns undefined to serve the whole file (absent,
 * not "bytes", or several ranges), 'unsatisfiable' for 416, else the inclusive range.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || start > end)
    return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

export function registerBlobRoutes(
  { api, app, deps }: RouteContext,
  services: Pick<ContentServices, 'blobs'>,
): void {
  const caller = async (c: Context<AppEnv>): Promise<Caller> => {
    const user = c.get('user');
    if (user) return { user };
    const device = await authenticateDevice(c, deps.deviceAuth);
    if (device) return { device };
    c.header('WWW-Authenticate', 'Basic realm="loa-devices", charset="UTF-8"');
    throw new LoaError(
      'AUTH_REQUIRED',
      'cần xác thực thiết bị (Basic deviceId:mật khẩu MQTT) hoặc đăng nhập',
    );
  };

  const serveBlob = async (c: Context<AppEnv>, head: boolean): Promise<Response> => {
    await caller(c);
    const blobs = services.blobs;
    const sha = c.req.param('sha256') ?? '';
    const st = await blobs.stat(sha);
    if (!st) throw new LoaError('BLOB_NOT_FOUND', 'không có tệp này');
    const etag = `"${sha}"`;
    const headers = new Headers({
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'private, max-age=31536000, immutable',
      'Content-Type': 'application/octet-stream',
    });
    if (etagMatches(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
    const ifRange = c.req.header('if-range');
    const range = ifRange && ifRange !== etag ? undefined : parseRange(c.req.header('range'), st.size);
    if (range === 'unsatisfiable') {
      headers.set('Content-Range', `bytes */${st.size}`);
      return new Response(null, { status: 416, headers });
    }
    const status = range ? 206 : 200;
    const len = range ? range.end - range.start + 1 : st.size;
    headers.set('Content-Length', String(len));
    if (range) headers.set('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`);
    if (head || len === 0) return new Response(null, { status, headers });
    return new Response(blobs.readWeb(sha, range), { status, headers });
  };

  app.get('/blobs/:sha256', (c) => serveBlob(c, c.req.method === 'HEAD'));
  app.on('HEAD', '/blobs/:sha256', (c) => serveBlob(c, true));
  const file = {
    type: 'application/octet-stream',
    schema: { type: 'string', contentMediaType: 'application/octet-stream' },
  };
  for (const method of ['get', 'head'] as const)
    api.describe({
      method,
      path: '/blobs/:sha256',
      summary: 'A content-addressed file (audio, image, video) by its SHA-256; Range, ETag, If-None-Match',
      tags: ['blobs'],
      auth: 'device',
      responses: {
        200: { description: 'The whole file', ...(method === 'get' ? file : {}) },
        206: { description: 'The requested byte range', ...(method === 'get' ? file : {}) },
        304: { description: 'Not modified (If-None-Match)' },
      },
      errors: [400, 401, 404, 416],
    });

  app.get('/bundles/:id/manifest.json', async (c) => {
    const who = await caller(c);
    const b = await deps.store.bundles.get(c.req.param('id'));
    if (b?.state !== 'published') throw new LoaError('BUNDLE_NOT_FOUND', 'không có gói tin đã phát hành này');
    if ('device' in who) {
      const d = who.device;
      if (
        !b.manifest.targets.some((t) => targetMatches(t, { unit: d.unit, deviceId: d.id, groups: d.groups }))
      )
        throw new LoaError('TARGET_FORBIDDEN', 'gói tin này không dành cho thiết bị này');
    } else if (!b.units.some((u) => inScope(who.user, u))) {
      throw new LoaError('FORBIDDEN_SCOPE', 'gói tin nằm ngoài phạm vi được giao');
    }
    const etag = `"${documentDigest(b.manifest)}"`;
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, { ETag: etag });
    c.header('ETag', etag);
    c.header('Cache-Control', 'private, no-cache');
    return c.json(b.manifest);
  });
  api.describe({
    method: 'get',
    path: '/bundles/:id/manifest.json',
    summary: 'The signed manifest of a published bundle (a device gets only those that target it)',
    tags: ['blobs'],
    auth: 'device',
    responses: {
      200: { description: 'The signed manifest', type: 'application/json', schema: ManifestSchema },
      304: { description: 'Not modified (If-None-Match)' },
    },
    errors: [401, 403, 404],
  });
}
