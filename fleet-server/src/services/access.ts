/** Access to the content-side services from routes (503 when main.ts did not wire them). */
import { isLoaError, LoaError } from '@loa/protocol';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from '../deps.js';
import type { ContentServices } from './index.js';

export function contentServices(deps: Pick<Deps, 'services'>): ContentServices {
  const s = deps.services.content;
  if (!s) throw new LoaError('SERVICE_UNAVAILABLE', 'dịch vụ nội dung chưa được khởi động');
  return s;
}

/**
 * Error codes of the content side whose status app.ts's rules would not give (they default to
 * 400). Routes answer these themselves (same {error:{code,message,details}} body as app.onError).
 */
export const CONTENT_ERROR_STATUS: Record<string, number> = {
  MEDIA_UNSUPPORTED: 415,
  VIDEO_FORMAT: 415,
  MEDIA_UNDECODABLE: 422,
  AUDIO_SILENT: 422,
  AUDIO_TOO_LONG: 422,
  CONTENT_KIND_MISMATCH: 422,
  CONTENT_KIND: 422,
  BUNDLE_INVALID: 422,
  SIGNATURE_MISMATCH: 422,
  TRANSCODE_FAILED: 422,
  TOOL_TIMEOUT: 504,
};

/** Runs a handler, answering the codes of CONTENT_ERROR_STATUS with their status. */
export async function withContentErrors<T>(c: Context, fn: () => Promise<T>): Promise<T | Response> {
  try {
    return await fn();
  } catch (e) {
    const status = isLoaError(e) ? CONTENT_ERROR_STATUS[e.code] : undefined;
    if (!status || !isLoaError(e)) throw e;
    return c.json(
      { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } },
      status as ContentfulStatusCode,
    );
  }
}
