/**
 * Pure parsing of device uplink messages (health, proof, status). Invalid payloads become a
 * typed rejection with a stable code; nothing here throws on bad input.
 */
import {
  type Health,
  MAX_DEVICE_PAYLOAD,
  type Proof,
  ProofSchema,
  parseHealth,
  type Status,
  StatusSchema,
} from '@loa/protocol';
import type { z } from 'zod';

export type IngestKind = 'health' | 'proof' | 'status';

export type ParsedUplink =
  | { ok: true; kind: 'health'; value: Health }
  | { ok: true; kind: 'proof'; value: Proof }
  | { ok: true; kind: 'status'; value: Status }
  | { ok: false; code: 'PAYLOAD_TOO_LARGE' | 'PAYLOAD_MALFORMED' | 'KIND_UNKNOWN'; message: string };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ');
}

/** Parses an uplink payload of the given kind. */
export function parseUplink(kind: string, payload: Buffer | string): ParsedUplink {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_DEVICE_PAYLOAD)
    return { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `${size} bytes > ${MAX_DEVICE_PAYLOAD}` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch (cause) {
    return { ok: false, code: 'PAYLOAD_MALFORMED', message: `not JSON: ${(cause as Error).message}` };
  }
  switch (kind) {
    case 'health': {
      const r = parseHealth(json);
      return r.success
        ? { ok: true, kind, value: r.data }
        : { ok: false, code: 'PAYLOAD_MALFORMED', message: describe(r.error) };
    }
    case 'proof': {
      const r = ProofSchema.safeParse(json);
      return r.success
        ? { ok: true, kind, value: r.data }
        : { ok: false, code: 'PAYLOAD_MALFORMED', message: describe(r.error) };
    }
    case 'status': {
      const r = StatusSchema.safeParse(json);
      return r.success
        ? { ok: true, kind, value: r.data }
        : { ok: false, code: 'PAYLOAD_MALFORMED', message: describe(r.error) };
    }
    default:
      return { ok: false, code: 'KIND_UNKNOWN', message: `no ingest for "${kind}"` };
  }
}

/**
 * Latest known state of one device, kept in memory (rebuilt from the health and proof streams
 * on start). What the alert rules look at.
 */
export interface DeviceLiveState {
  deviceId: string;
  unit: string;
  online: boolean;
  /** Last message of any kind from the device (server clock, ms). */
  lastSeenMs: number;
  /** When the device went offline (server clock, ms), if it is offline. */
  offlineSinceMs?: number;
  health?: Health;
  healthAtMs?: number;
  /** Last proof outcome and when it arrived (server clock, ms). */
  lastProof?: { seq: number; outcome: Proof['outcome']; itemId?: string; reason?: string; atMs: number };
  lastFailedPlaybackMs?: number;
  lastGoodPlaybackMs?: number;
  /** Proof seqs that never arrived (gaps) and rejected proofs, counted. */
  proofGaps: number;
  proofsRejected: number;
}

export function emptyLiveState(deviceId: string, unit: string, nowMs: number): DeviceLiveState {
  return { deviceId, unit, online: false, lastSeenMs: nowMs, proofGaps: 0, proofsRejected: 0 };
}

/** What changed between two health reports that an operator would want in the history. */
function notableChange(a: Health, b: Health): boolean {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  return (
    !same(a.inputs, b.inputs) ||
    !same(a.relays, b.relays) ||
    (a.onAir?.itemId ?? a.onAir?.kind ?? null) !== (b.onAir?.itemId ?? b.onAir?.kind ?? null) ||
    a.modem?.registration !== b.modem?.registration ||
    a.clock.trusted !== b.clock.trusted ||
    a.deadAir !== b.deadAir ||
    a.volume !== b.volume ||
    a.lastError?.code !== b.lastError?.code ||
    a.lastError?.at !== b.lastError?.at ||
    !same(
      a.bundles.map((x) => `${x.channel}@${x.version}`),
      b.bundles.map((x) => `${x.channel}@${x.version}`),
    )
  );
}

/**
 * Whether a health report goes to the history: the first one, one at least `everyMs` after the
 * last one kept, or one where something notable changed. `everyMs` 0 keeps every report.
 */
export function keepInHistory(
  last: { atMs: number; health: Health } | undefined,
  next: Health,
  atMs: number,
  everyMs: number,
): boolean {
  if (everyMs <= 0 || !last) return true;
  if (atMs - last.atMs >= everyMs || atMs < last.atMs) return true;
  return notableChange(last.health, next);
}

/** Applies a health report. */
export function applyHealth(s: DeviceLiveState, h: Health, nowMs: number): DeviceLiveState {
  return { ...s, health: h, healthAtMs: nowMs, lastSeenMs: nowMs };
}

/** Applies an accepted proof. */
export function applyProof(s: DeviceLiveState, p: Proof, nowMs: number): DeviceLiveState {
  const next: DeviceLiveState = {
    ...s,
    lastSeenMs: nowMs,
    lastProof: {
      seq: p.seq,
      outcome: p.outcome,
      atMs: nowMs,
      ...(p.itemId ? { itemId: p.itemId } : {}),
      ...(p.reason ? { reason: p.reason } : {}),
    },
  };
  if (p.outcome === 'failed') next.lastFailedPlaybackMs = nowMs;
  if (p.outcome === 'completed' || p.outcome === 'started') next.lastGoodPlaybackMs = nowMs;
  return next;
}

export function applyPresence(s: DeviceLiveState, online: boolean, nowMs: number): DeviceLiveState {
  if (online) {
    const { offlineSinceMs: _gone, ...rest } = s;
    return { ...rest, online: true, lastSeenMs: nowMs };
  }
  return {
    ...s,
    online: false,
    offlineSinceMs: s.online || s.offlineSinceMs === undefined ? nowMs : s.offlineSinceMs,
  };
}
