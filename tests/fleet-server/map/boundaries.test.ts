/** The province's boundaries file for the map: checked, read when it changes; the demo's own. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBoundaries } from '../../../fleet-server/src/domain/boundaries.js';
import { BOUNDARIES_FILE, BoundariesFile } from '../../../fleet-server/src/services/boundaries-file.js';
import { demoBoundaries, writeDemoBoundaries } from '../../../scripts/src/demo/boundaries.js';
import { COMMUNE_CENTRES } from '../../../scripts/src/demo/seed.js';

/** Ray casting: is [lon, lat] inside the ring? */
function inside(pt: [number, number], ring: number[][]): boolean {
  let hit = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] ?? [];
    const [xj = 0, yj = 0] = ring[j] ?? [];
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('boundaries', () => {
  it("the demo's communes: four valid polygons, each around its commune's centre and not around another's", () => {
    const b = parseBoundaries(JSON.stringify(demoBoundaries()));
    expect(b.features).toHaveLength(4);
    for (const f of b.features) {
      const unit = String(f.properties?.unit);
      const ring = f.geometry.type === 'Polygon' ? (f.geometry.coordinates[0] ?? []) : [];
      const own = COMMUNE_CENTRES[unit];
      expect(own).toBeTruthy();
      expect(inside([own?.lon ?? 0, own?.lat ?? 0], ring)).toBe(true);
      for (const [other, c] of Object.entries(COMMUNE_CENTRES))
        if (other !== unit) expect(inside([c.lon, c.lat], ring)).toBe(false);
    }
  });

  it.each([
    ['not JSON', '{"type":', 'BOUNDARIES_INVALID'],
    ['not a FeatureCollection', JSON.stringify({ type: 'Feature' }), 'BOUNDARIES_INVALID'],
    [
      'a point, not an area',
      JSON.stringify({
        type: 'FeatureCollection',
        features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [105, 21] } }],
      }),
      'BOUNDARIES_INVALID',
    ],
    [
      'a latitude out of range',
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { name: 'x' },
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [105, 21],
                  [105, 95],
                  [106, 21],
                  [105, 21],
                ],
              ],
            },
          },
        ],
      }),
      'BOUNDARIES_INVALID',
    ],
  ])('refuses %s with a stable code', (_n, text, code) => {
    expect(() => parseBoundaries(text)).toThrowError(expect.objectContaining({ code }));
  });

  it('reads the file in the data directory, again when it changes; none or a bad file is no boundaries', async () => {
    dir = await mkdtemp(join(tmpdir(), 'loa-bounds-'));
    const f = new BoundariesFile(dir, pino({ level: 'silent' }));
    expect(await f.get()).toBeNull();
    expect(await writeDemoBoundaries(dir)).toBe(true);
    expect((await f.get())?.features).toHaveLength(4);
    // a file already there is the province's: the demo keeps it
    expect(await writeDemoBoundaries(dir)).toBe(false);
    await writeFile(join(dir, BOUNDARIES_FILE), '{"type":"FeatureCollection","features":[]}  ');
    expect((await f.get())?.features).toEqual([]);
    await writeFile(join(dir, BOUNDARIES_FILE), 'not json at all');
    expect(await f.get()).toBeNull();
  });
});
