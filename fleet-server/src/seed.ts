/**
 * Loads units from a CSV or JSON file into the store (all-or-nothing, existing units updated).
 * Used by the demo (`DEMO_UNITS_FILE`) and tests; the HTTP route POST /units/import does the same
 * for operators.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LoaError } from '@loa/protocol';
import { csvToUnitInputs, planUnitImport } from './domain/units.js';
import type { Store } from './store/ports.js';

/** The demo province file shipped with the server (invented commune codes, marked demo). */
export const DEMO_UNITS_FILE = fileURLToPath(new URL('../seed/units-08-demo.csv', import.meta.url));

export async function seedUnitsFromFile(store: Store, path: string, nowIso: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  let inputs: unknown[];
  let lineOf: ((i: number) => number) | undefined;
  if (path.endsWith('.json')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new LoaError('UNIT_IMPORT_INVALID', `${path}: cần một mảng đơn vị`);
    inputs = parsed;
  } else ({ inputs, lineOf } = csvToUnitInputs(text));
  const existing = await store.units.list();
  const { units, errors } = planUnitImport(inputs, existing, nowIso, lineOf);
  if (errors.length)
    throw new LoaError(
      'UNIT_IMPORT_INVALID',
      `${path}: ${errors
        .slice(0, 5)
        .map((e) => `dòng ${e.line}: ${e.message}`)
        .join('; ')}`,
      { details: { errors } },
    );
  const known = new Map(existing.map((u) => [u.path, u]));
  await store.units.putMany(
    units.map((u) => ({ ...u, createdAt: known.get(u.path)?.createdAt ?? u.createdAt })),
  );
  return units.length;
}
