/**
 * The demo's communes as boundaries for the map: one irregular polygon around each commune's
 * centre (plausible, not surveyed), written as `<server data dir>/boundaries.geojson`, the file a
 * province replaces with its own. Written once: a file already there is kept.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { BOUNDARIES_FILE } from '@loa/fleet-server';
import { writeJsonAtomic } from '@loa/protocol/fs';
import { COMMUNE_CENTRES, DEMO_COMMUNES } from './seed.js';

/** A closed ring of 24 points, 2.2–3.4 km from the centre, its shape fixed by the unit code. */
function ring(centre: { lat: number; lon: number }, seed: number): [number, number][] {
  const out: [number, number][] = [];
  const kmLat = 1 / 110.57;
  const kmLon = 1 / (111.32 * Math.cos((centre.lat * Math.PI) / 180));
  for (let i = 0; i < 24; i++) {
    const a = (i / 24) * 2 * Math.PI;
    const r = 2.8 + 0.4 * Math.sin(3 * a + seed) + 0.2 * Math.cos(5 * a + seed * 2);
    out.push([
      Math.round((centre.lon + r * kmLon * Math.cos(a)) * 1e5) / 1e5,
      Math.round((centre.lat + r * kmLat * Math.sin(a)) * 1e5) / 1e5,
    ]);
  }
  out.push(out[0] as [number, number]);
  return out;
}

export function demoBoundaries() {
  return {
    type: 'FeatureCollection' as const,
    features: DEMO_COMMUNES.flatMap((c) => {
      const centre = COMMUNE_CENTRES[c.unit];
      if (!centre) return [];
      return [
        {
          type: 'Feature' as const,
          properties: { name: c.name, unit: c.unit },
          geometry: { type: 'Polygon' as const, coordinates: [ring(centre, Number(c.unit.slice(3)) % 7)] },
        },
      ];
    }),
  };
}

/** Writes the demo's boundaries into the server's data directory unless a file is there. */
export async function writeDemoBoundaries(dataDir: string): Promise<boolean> {
  const path = join(dataDir, BOUNDARIES_FILE);
  try {
    await access(path);
    return false;
  } catch {
    await writeJsonAtomic(path, demoBoundaries());
    return true;
  }
}
