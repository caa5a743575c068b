/**
 * Rollout view: per device, how far a published bundle got (notified → downloading → verified →
 * active, or failed with the reason), built from the devices' StatusSchema reports. Pure.
 */
import type { RolloutState, Status } from '@loa/protocol';

export interface RolloutEntry {
  bundleId: string;
  deviceId: string;
  state: RolloutState;
  reason?: string;
  message?: string;
  bytes?: number;
  totalBytes?: number;
  /** Server time of the last change. */
  updatedAt: string;
}

export interface BundleRef {
  id: string;
  channel: string;
  version: number;
}

/** Progress order; `failed` sits outside it (any state may fail, a later success clears it). */
const ORDER: Record<RolloutState, number> = {
  notified: 1,
  downloading: 2,
  verified: 3,
  active: 4,
  playing: 5,
  failed: 0,
};

/** True when a status report is about this bundle. */
export function statusIsFor(s: Status, b: BundleRef): boolean {
  return s.bundleId === b.id && s.channel === b.channel && s.version === b.version;
}

/**
 * Applies a status report to a device's entry (undefined: the device was not notified, e.g. it
 * fetched the bundle after reconnecting). Returns undefined when the report changes nothing:
 * it is about another bundle, or it would move progress backwards (a late "downloading" after
 * "active"). `failed` always applies; a later success clears a failure (the device retried).
 */
export function applyStatus(
  entry: RolloutEntry | undefined,
  s: Status,
  b: BundleRef,
  deviceId: string,
  now: Date,
): RolloutEntry | undefined {
  if (!statusIsFor(s, b)) return undefined;
  if (entry && entry.state !== 'failed' && s.state !== 'failed' && ORDER[s.state] < ORDER[entry.state])
    return undefined;
  const next: RolloutEntry = { bundleId: b.id, deviceId, state: s.state, updatedAt: now.toISOString() };
  if (s.reason !== undefined) next.reason = s.reason;
  if (s.message !== undefined) next.message = s.message;
  if (s.bytes !== undefined) next.bytes = s.bytes;
  if (s.totalBytes !== undefined) next.totalBytes = s.totalBytes;
  if (
    entry &&
    entry.state === next.state &&
    entry.reason === next.reason &&
    entry.bytes === next.bytes &&
    entry.message === next.message
  )
    return undefined;
  return next;
}

export type RolloutSummary = Record<RolloutState | 'pending', number> & { total: number };

/** Counts per state; devices targeted but absent from `entries` count as pending. */
export function summarizeRollout(entries: readonly RolloutEntry[], targeted?: number): RolloutSummary {
  const out: RolloutSummary = {
    total: Math.max(targeted ?? 0, entries.length),
    pending: 0,
    notified: 0,
    downloading: 0,
    verified: 0,
    active: 0,
    playing: 0,
    failed: 0,
  };
  for (const e of entries) out[e.state]++;
  out.pending = out.total - entries.length;
  return out;
}
