/**
 * The one table from error code to HTTP status, applied by app.onError to every LoaError a
 * handler throws: explicit entries first, then suffix rules, then 400 (bad input).
 */
import { REASONS } from '@loa/protocol';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  AUTH_RATE_LIMITED: 429,
  PASSWORD_CHANGE_REQUIRED: 403,
  FORBIDDEN: 403,
  FORBIDDEN_ROLE: 403,
  FORBIDDEN_SCOPE: 403,
  CSRF_INVALID: 403,
  VALIDATION_FAILED: 400,
  BAD_JSON: 400,
  BAD_REQUEST: 400,
  PASSWORD_WEAK: 400,
  NOT_FOUND: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  ENROL_TOKEN_INVALID: 401,
  ENROL_TOKEN_EXPIRED: 403,
  ENROL_TOKEN_USED: 403,
  ENROL_TOKEN_REVOKED: 403,
  DEVICE_KEY_IN_USE: 409,
  CONTENT_IN_USE: 409,
  TRUST_ROLLBACK: 409,
  RELEASE_KEY_ON_SERVER: 422,
  ROLLOUT_HALTED: 409,
  ROLLOUT_STAGE_ORDER: 409,
  VERSION_ROLLBACK: 409,
  VERSION_CONFLICT: 409,
  EMERGENCY_CANCELLED: 409,
  EMERGENCY_NOT_REPEATABLE: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  // content: media the server cannot take, or content that does not fit its use
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
  // CAP intake: a well-formed alert Loa cannot act on
  CAP_AREA_UNKNOWN: 422,
  CAP_REFERENCE_UNKNOWN: 422,
  TTS_FAILED: 422,
  TTS_VOICE: 422,
  TTS_NO_VOICE: 422,
  TTS_RATE: 422,
  // recordings made in the browser, and the pronunciation lexicon
  RECORDING_TOO_SHORT: 422,
  RECORDING_TOO_LONG: 422,
  RECORDING_SILENT: 422,
  LEXICON_DUPLICATE: 409,
  // noticeboard screenshots: a picture that is not one
  SCREENSHOT_NOT_IMAGE: 415,
  SCREENSHOT_TYPE_MISMATCH: 415,
  SCREENSHOT_EMPTY: 422,
  // the province's boundaries: a file that is not the map the province meant
  BOUNDARIES_TOO_LARGE: 413,
  BOUNDARIES_INVALID: 422,
  BOUNDARIES_UNIT_MISSING: 422,
  BOUNDARIES_UNIT_UNKNOWN: 422,
  // the document library: a file that is not a document
  DOCUMENT_TYPE_REFUSED: 415,
  DOCUMENT_EMPTY: 422,
};

/** HTTP status of an error code: explicit table, then suffix rules, then 400 (bad input). */
export function statusForCode(code: string): number {
  const explicit = STATUS_BY_CODE[code];
  if (explicit) return explicit;
  if (code in REASONS) return 422;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_EXISTS') || code.endsWith('_CONFLICT')) return 409;
  if (code.endsWith('_FORBIDDEN')) return 403;
  if (code.endsWith('_TOO_LARGE')) return 413;
  if (code.endsWith('_RATE_LIMITED')) return 429;
  if (code.endsWith('_UNAVAILABLE')) return 503;
  return 400;
}
