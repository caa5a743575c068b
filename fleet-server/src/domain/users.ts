/**
 * User input rules (pure): user names, passwords, role and scope of new users.
 */
import { LoaError, UnitPathSchema } from '@loa/protocol';
import { z } from 'zod';
import { USER_ROLES } from './model.js';
import { ALL_UNITS } from './rbac.js';

export const UsernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'tên đăng nhập: 3–64 ký tự chữ thường, số, ".", "_" hoặc "-"');

export const ScopeSchema = z
  .array(z.union([UnitPathSchema, z.literal(ALL_UNITS)]))
  .min(1, 'cần ít nhất một đơn vị trong phạm vi')
  .max(100);

export const PASSWORD_MIN = 10;

export const UserCreateSchema = z.strictObject({
  username: UsernameSchema,
  displayName: z.string().trim().min(1, 'cần họ tên').max(200),
  role: z.enum(USER_ROLES),
  scope: ScopeSchema,
});
export type UserCreate = z.infer<typeof UserCreateSchema>;

export const UserUpdateSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(200).optional(),
  role: z.enum(USER_ROLES).optional(),
  scope: ScopeSchema.optional(),
  disabled: z.boolean().optional(),
});
export type UserUpdate = z.infer<typeof UserUpdateSchema>;

/** Throws PASSWORD_WEAK with a Vietnamese reason. */
export function validatePassword(password: string, username: string): void {
  if (password.length < PASSWORD_MIN)
    throw new LoaError('PASSWORD_WEAK', `mật khẩu phải có ít nhất ${PASSWORD_MIN} ký tự`);
  if (password.length > 200) throw new LoaError('PASSWORD_WEAK', 'mật khẩu quá dài (tối đa 200 ký tự)');
  if (password.toLowerCase().includes(username.toLowerCase()))
    throw new LoaError('PASSWORD_WEAK', 'mật khẩu không được chứa tên đăng nhập');
  if (new Set(password).size < 5) throw new LoaError('PASSWORD_WEAK', 'mật khẩu quá đơn giản');
}
