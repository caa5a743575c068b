/**
 * Roles, permissions and unit scope (pure). A user holds one role and a list of unit paths; each
 * path covers its subtree. Routes check a permission, then the unit scope of what they touch.
 */
import { anyUnitCovers, LoaError, unitCovers } from '@loa/protocol';
import { USER_ROLES, type UserRole } from './model.js';

export const PERMISSIONS = [
  'read',
  'audit.read',
  'unit.manage',
  'user.manage',
  'device.manage',
  'device.approve',
  'device.command',
  'enrol.manage',
  'content.write',
  'bundle.compose',
  'bundle.approve',
  'bundle.publish',
  'emergency.send',
  'alert.manage',
  'trust.manage',
  'token.manage',
  'feedback.manage',
  'register.manage',
  /** The staff and training register (staff, courses, attendance, certificates). */
  'staff.manage',
  /** Reading staff phone numbers (personal data; every read is audited). */
  'staff.contact',
  /** Uploading and removing documents in the document library. */
  'document.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<UserRole, readonly Permission[]> = {
  administrator: PERMISSIONS,
  editor: ['read', 'content.write', 'bundle.compose', 'token.manage', 'feedback.manage', 'document.manage'],
  approver: ['read', 'bundle.approve', 'bundle.publish', 'emergency.send', 'token.manage'],
  operator: [
    'read',
    'device.command',
    'device.approve',
    'alert.manage',
    'emergency.send',
    'token.manage',
    'feedback.manage',
    'register.manage',
    'staff.manage',
    'staff.contact',
    'document.manage',
  ],
  technician: ['read', 'enrol.manage', 'device.approve', 'token.manage', 'register.manage'],
  viewer: ['read'],
};

/** Vietnamese role names for operators. */
export const ROLE_LABELS_VI: Record<UserRole, string> = {
  administrator: 'Quản trị viên',
  editor: 'Biên tập viên',
  approver: 'Người duyệt',
  operator: 'Vận hành',
  technician: 'Kỹ thuật viên',
  viewer: 'Người xem',
};

export function isRole(x: string): x is UserRole {
  return (USER_ROLES as readonly string[]).includes(x);
}

export function permissionsOf(role: UserRole): readonly Permission[] {
  return ROLE_PERMISSIONS[role];
}

export function can(role: UserRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export interface Principal {
  id: string;
  username: string;
  role: UserRole;
  scope: readonly string[];
}

export function requirePermission(p: Principal, permission: Permission): void {
  if (!can(p.role, permission))
    throw new LoaError('FORBIDDEN_ROLE', `vai trò "${ROLE_LABELS_VI[p.role]}" không có quyền ${permission}`, {
      details: { permission, role: p.role },
    });
}

export function requireRole(p: Principal, roles: readonly UserRole[]): void {
  if (!roles.includes(p.role))
    throw new LoaError(
      'FORBIDDEN_ROLE',
      `thao tác này cần vai trò: ${roles.map((r) => ROLE_LABELS_VI[r]).join(', ')}`,
      {
        details: { roles, role: p.role },
      },
    );
}

/** Scope entry covering every unit (the first administrator). */
export const ALL_UNITS = '*';

export function inScope(p: Pick<Principal, 'scope'>, unit: string): boolean {
  return p.scope.includes(ALL_UNITS) || anyUnitCovers(p.scope, unit);
}

/** Throws FORBIDDEN_SCOPE unless the unit lies inside the principal's scope. */
export function requireScope(p: Pick<Principal, 'scope'>, unit: string): void {
  if (!inScope(p, unit))
    throw new LoaError('FORBIDDEN_SCOPE', `đơn vị ${unit} nằm ngoài phạm vi được giao`, {
      details: { unit },
    });
}

/** True when every path of `inner` lies inside `outer` (a user may only grant what they hold). */
export function scopeWithin(outer: readonly string[], inner: readonly string[]): boolean {
  if (outer.includes(ALL_UNITS)) return true;
  if (inner.includes(ALL_UNITS)) return false;
  return inner.every((u) => outer.some((o) => unitCovers(o, u)));
}

/** Whether `actor` may create/modify/delete `target` user (role and scope). */
export function canManageUser(
  actor: Principal,
  target: { role: UserRole; scope: readonly string[] },
): boolean {
  return can(actor.role, 'user.manage') && scopeWithin(actor.scope, target.scope);
}
