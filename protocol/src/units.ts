import { z } from 'zod';

/**
 * Administrative units. Official codes (Decision 19/2025/QĐ-TTg: province 2 digits, commune
 * 5 digits; legacy district 3 digits) are not hierarchical, so a unit is named by its path
 * from the top: codes joined by "/", e.g. "08/02500" or, in legacy data, "08/070/02500".
 */
export const UnitCodeSchema = z.string().regex(/^[0-9]{2,5}$/, 'a unit code is 2 to 5 digits');
export const UnitPathSchema = z
  .string()
  .regex(/^[0-9]{2,5}(\/[0-9]{2,5}){0,4}$/, 'a unit path is codes joined by "/", e.g. 08/02500');
export type UnitPath = z.infer<typeof UnitPathSchema>;

export function unitSegments(path: string): string[] {
  return path.split('/');
}

/** True when `scope` is `unit` itself or one of its ancestors (walks the path segment by segment). */
export function unitCovers(scope: string, unit: string): boolean {
  const s = unitSegments(scope);
  const u = unitSegments(unit);
  if (s.length > u.length) return false;
  return s.every((code, i) => u[i] === code);
}

/** True when any of `scopes` covers `unit`. */
export function anyUnitCovers(scopes: readonly string[], unit: string): boolean {
  return scopes.some((s) => unitCovers(s, unit));
}

/** Every prefix of a unit path, from the top: "08/02500" → ["08", "08/02500"]. */
export function unitAncestry(path: string): string[] {
  const seg = unitSegments(path);
  return seg.map((_, i) => seg.slice(0, i + 1).join('/'));
}
