/** What an operator reads for a unit in the dashboard's pickers and tables: names, never codes. */
import { describe, expect, it } from 'vitest';
import { unitLabels, unitOptions } from '../../../fleet-server/src/http/ui/unit-labels.js';

const units = [
  { path: '08', name: 'Tỉnh Tuyên Quang' },
  { path: '08/02500', name: 'Xã Sơn Dương' },
  { path: '08/02503', name: 'Xã Hồng Lạc' },
  { path: '08/02503/001', name: 'Thôn 1' },
  { path: '08/02500/001', name: 'Thôn 1' },
  { path: '09', name: 'Tỉnh Khác' },
  { path: '09/03000', name: 'Xã Sơn Dương' },
  { path: '09/03000/001', name: 'Thôn 1' },
];

describe('unit labels', () => {
  it('names a unit by its name, adding its parent only where two units share the name', () => {
    const l = unitLabels(units);
    expect(l.get('08')).toBe('Tỉnh Tuyên Quang');
    expect(l.get('08/02503')).toBe('Xã Hồng Lạc');
    expect(l.get('08/02500')).toBe('Xã Sơn Dương — Tỉnh Tuyên Quang');
    expect(l.get('09/03000')).toBe('Xã Sơn Dương — Tỉnh Khác');
    // two villages of the same name in communes of the same name: the climb goes on to the province
    expect(l.get('08/02500/001')).toBe('Thôn 1 — Xã Sơn Dương — Tỉnh Tuyên Quang');
    expect(l.get('09/03000/001')).toBe('Thôn 1 — Xã Sơn Dương — Tỉnh Khác');
    expect(l.get('08/02503/001')).toBe('Thôn 1 — Xã Hồng Lạc');
    for (const label of l.values()) expect(label).not.toMatch(/\d{2}\/\d{5}|\(\d/);
  });

  it('keeps two units of the same name under unknown parents by name alone (never a code)', () => {
    const l = unitLabels([
      { path: '08/02500', name: 'Xã Sơn Dương' },
      { path: '09/03000', name: 'Xã Sơn Dương' },
    ]);
    expect([...l.values()]).toEqual(['Xã Sơn Dương', 'Xã Sơn Dương']);
  });

  it("lists a picker's units in the order of the hierarchy, labelled against every known unit", () => {
    const inScope = units.filter((u) => u.path.startsWith('08/0250'));
    expect(unitOptions(inScope, units)).toEqual([
      ['08/02500', 'Xã Sơn Dương — Tỉnh Tuyên Quang'],
      ['08/02500/001', 'Thôn 1 — Xã Sơn Dương — Tỉnh Tuyên Quang'],
      ['08/02503', 'Xã Hồng Lạc'],
      ['08/02503/001', 'Thôn 1 — Xã Hồng Lạc'],
    ]);
  });
});
