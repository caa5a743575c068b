/**
 * What the server keeps of a bundle's recall (services/recall-service.ts), in the bundle record's
 * `meta.recall`, and how it is read back (the dashboard shows "đã gỡ trên N/M trạm" from it).
 */
import { RecallSchema } from '@loa/protocol';
import { z } from 'zod';
import type { BundleRecord, UserRole } from './model.js';
import { can } from './rbac.js';

/** What the server keeps of a recall, in the bundle's `meta.recall`. */
export const RecallStateSchema = z.object({
  document: RecallSchema,
  state: z.enum(['pending', 'published']),
  requestedBy: z.array(z.string()),
  requestedAt: z.string(),
  publishedAt: z.string().optional(),
  /** Active devices the bundle targeted when the recall went out. */
  targeted: z.array(z.string()).default([]),
  /** Devices that signed a `withdrawn` proof for it. */
  withdrawn: z.array(z.string()).default([]),
});
export type RecallState = z.infer<typeof RecallStateSchema>;

export function recallOf(b: BundleRecord): RecallState | undefined {
  const r = RecallStateSchema.safeParse(b.meta?.recall);
  return r.success ? r.data : undefined;
}

/** Stations that dropped the bundle (N) of those it targeted (M). */
export function recallCounts(r: RecallState): { withdrawn: number; targeted: number } {
  return {
    withdrawn: r.withdrawn.filter((id) => r.targeted.includes(id)).length,
    targeted: r.targeted.length,
  };
}

/**
 * Who may drop a pending recall (not yet signed by enough people): one of the people who asked
 * for it, or someone who may approve that priority (emergency.send for an emergency).
 */
export function mayDropRecall(
  actor: { id: string; role: UserRole },
  b: BundleRecord,
  r: RecallState,
): boolean {
  if (r.state !== 'pending') return false;
  if (r.requestedBy.includes(actor.id)) return true;
  return can(actor.role, b.emergency ? 'emergency.send' : 'bundle.approve');
}
