/**
 * What an operator reads for a unit: its name, never its code. Where two units share a name
 * ("Phường 1" in two wards' parents), the parent's name follows ("Phường 1 — Thành phố A"), going
 * up until the label is unique or there is no parent left.
 */
import type { UnitRecord } from '../../domain/model.js';

type Unit = Pick<UnitRecord, 'path' | 'name'>;

const parentOf = (path: string): string | undefined =>
  path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;

/** Labels of every given unit, by path; a parent missing from `units` ends the climb. */
export function unitLabels(units: Iterable<Unit>): Map<string, string> {
  const byPath = new Map<string, Unit>();
  for (const u of units) byPath.set(u.path, u);
  const labels = new Map([...byPath.values()].map((u) => [u.path, u.name]));
  /** The next ancestor to name, per unit (starting with the parent). */
  const next = new Map([...byPath.keys()].map((p) => [p, parentOf(p)]));
  for (;;) {
    const seen = new Map<string, number>();
    for (const l of labels.values()) seen.set(l, (seen.get(l) ?? 0) + 1);
    let changed = false;
    for (const [path, label] of labels) {
      if ((seen.get(label) ?? 0) < 2) continue;
      const up = next.get(path);
      const parent = up === undefined ? undefined : byPath.get(up);
      if (!parent || up === undefined) continue;
      labels.set(path, `${label} — ${parent.name}`);
      next.set(path, parentOf(up));
      changed = true;
    }
    if (!changed) return labels;
  }
}

/**
 * The options of a unit picker: the units in order of the hierarchy (a parent before its
 * children), each labelled by `unitLabels` over all `known` units.
 */
export function unitOptions(units: readonly Unit[], known: Iterable<Unit> = units): [string, string][] {
  const labels = unitLabels(known);
  return [...units]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((u) => [u.path, labels.get(u.path) ?? u.name]);
}
