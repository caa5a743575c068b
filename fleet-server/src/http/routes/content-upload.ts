/**
 * A content file sent as the raw request body, stored by the content service: the library's
 * upload (POST /content/upload) and an emergency's audio (POST /emergency/audio) share it.
 */
import { LoaError } from '@loa/protocol';
import type { Context } from 'hono';
import type { ContentRecord } from '../../domain/model.js';
import type { Actor, ContentService, UploadMeta } from '../../services/content-service.js';

/** The request body's cap: the upload's own limit (UPLOAD_TOO_LARGE) answers first, this is the backstop. */
export function uploadBodyCap(svc: Pick<ContentService, 'maxUploadBytes'>): number {
  return svc.maxUploadBytes + 64 * 1024;
}

/**
 * Refuses a declared Content-Length past the limit before reading a byte (UPLOAD_TOO_LARGE), then
 * streams the body into the content service (which holds the limit again on the bytes it reads).
 */
export async function storeUploadedBody(
  c: Context,
  svc: Pick<ContentService, 'maxUploadBytes' | 'upload'>,
  meta: UploadMeta,
  actor: Actor,
  ip: string | undefined,
): Promise<ContentRecord> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > svc.maxUploadBytes)
    throw new LoaError(
      'UPLOAD_TOO_LARGE',
      `Tệp vượt quá giới hạn ${Math.round(svc.maxUploadBytes / 1048576)} MB`,
    );
  return svc.upload(c.req.raw.body, meta, actor, ip);
}
