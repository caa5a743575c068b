/**
 * The approval workflow of a bundle, pure: draft → submitted → approved → published, or
 * rejected (with a reason) back to the editor, who may edit and resubmit. Role and unit-scope
 * checks are part of each transition, so a route cannot forget one.
 */
import { LoaError } from '@loa/protocol';
import type { UserRole } from './model.js';
import { type Permission, requirePermission, requireScope } from './rbac.js';

export type WorkflowState =
  | 'draft'
  | 'submitted'
  | 'approved'
  | 'published'
  | 'rejected'
  | 'withdrawn'
  | 'recalled';

export interface Actor {
  id: string;
  username: string;
  role: UserRole;
  scope: readonly string[];
}

export interface WorkflowBundle {
  state: WorkflowState;
  units: readonly string[];
  createdBy: string;
  submittedBy?: string;
  approvedBy?: readonly string[];
}

export interface WorkflowPolicy {
  /** Distinct approvers needed (besides the editor). */
  approvals: number;
  /** When true the editor (creator or submitter) may not approve their own bundle. */
  twoPerson: boolean;
}

/** The actor's scope must cover every targeted unit (an editor of commune X cannot target Y). */
export function checkScope(actor: Actor, units: readonly string[]): void {
  for (const u of units) requireScope(actor, u);
}

function checkRole(actor: Actor, permission: Permission): void {
  requirePermission(actor, permission);
}

function checkState(b: WorkflowBundle, allowed: readonly WorkflowState[], what: string): void {
  if (!allowed.includes(b.state))
    throw new LoaError(
      'BUNDLE_STATE_CONFLICT',
      `Không thể ${what} khi gói tin đang ở trạng thái "${b.state}"`,
      {
        details: { state: b.state, allowed },
      },
    );
}

/** May the actor create or edit a draft targeting these units? */
export function canEdit(actor: Actor, b: Pick<WorkflowBundle, 'state' | 'units'>): void {
  checkRole(actor, 'bundle.compose');
  checkState(b as WorkflowBundle, ['draft', 'rejected'], 'sửa');
  checkScope(actor, b.units);
}

export function submit(actor: Actor, b: WorkflowBundle): { state: 'submitted'; submittedBy: string } {
  checkRole(actor, 'bundle.compose');
  checkState(b, ['draft', 'rejected'], 'gửi duyệt');
  checkScope(actor, b.units);
  return { state: 'submitted', submittedBy: actor.id };
}

/**
 * Records one approval. Returns the new approver list and whether the bundle is now approved
 * (enough distinct approvers).
 */
export function approve(
  actor: Actor,
  b: WorkflowBundle,
  policy: WorkflowPolicy,
): { state: 'submitted' | 'approved'; approvedBy: string[] } {
  checkRole(actor, 'bundle.approve');
  checkState(b, ['submitted'], 'duyệt');
  checkScope(actor, b.units);
  if (policy.twoPerson && (actor.id === b.createdBy || actor.id === b.submittedBy))
    throw new LoaError(
      'SELF_APPROVAL_FORBIDDEN',
      'Quy định yêu cầu hai người: người soạn không được tự duyệt gói tin của mình',
    );
  const prior = b.approvedBy ?? [];
  if (prior.includes(actor.id))
    throw new LoaError('ALREADY_APPROVED_CONFLICT', 'Bạn đã duyệt gói tin này, cần người duyệt khác');
  const approvedBy = [...prior, actor.id];
  return { state: approvedBy.length >= Math.max(1, policy.approvals) ? 'approved' : 'submitted', approvedBy };
}

export function reject(
  actor: Actor,
  b: WorkflowBundle,
  reason: string,
): { state: 'rejected'; reason: string } {
  checkRole(actor, 'bundle.approve');
  checkState(b, ['submitted', 'approved'], 'từ chối');
  checkScope(actor, b.units);
  const r = reason.trim();
  if (r.length === 0) throw new LoaError('REASON_REQUIRED', 'Cần ghi lý do từ chối');
  return { state: 'rejected', reason: r };
}

export function publish(actor: Actor, b: WorkflowBundle): { state: 'published' } {
  checkRole(actor, 'bundle.publish');
  checkState(b, ['approved'], 'phát hành');
  checkScope(actor, b.units);
  return { state: 'published' };
}

export function withdraw(actor: Actor, b: WorkflowBundle): { state: 'withdrawn' } {
  checkRole(actor, 'bundle.approve');
  checkState(b, ['draft', 'submitted', 'approved', 'rejected'], 'thu hồi');
  checkScope(actor, b.units);
  return { state: 'withdrawn' };
}
