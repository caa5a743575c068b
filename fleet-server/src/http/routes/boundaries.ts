/**
 * The province's administrative boundaries for the fleet map: an administrator uploads a GeoJSON
 * FeatureCollection (Polygon/MultiPolygon, one feature per unit, `properties.unit` a known unit);
 * it is checked and stored atomically as `<dataDir>/boundaries.geojson`, and the map draws it at
 * once. A refused upload keeps the previous file.
 */
import { z } from 'zod';
import { MAX_BOUNDARIES_BYTES } from '../../domain/boundaries.js';
import { BoundariesFile } from '../../services/boundaries-file.js';
import type { RouteContext } from '../route-context.js';

export function registerBoundaryRoutes({ api, deps }: RouteContext): void {
  const file = new BoundariesFile(deps.config.dataDir, deps.logger.child({ module: 'boundaries' }));

  api.add({
    method: 'put',
    path: '/boundaries',
    summary: "Replace the province's boundaries GeoJSON (checked; the old file stays on a refusal)",
    description:
      'A FeatureCollection of Polygon or MultiPolygon features, each with properties.unit naming a known unit ' +
      '(path "08/02500" or commune code "02500") and optionally properties.name. Refusals: ' +
      'PAYLOAD_TOO_LARGE, BAD_JSON, BOUNDARIES_INVALID, BOUNDARIES_UNIT_MISSING, BOUNDARIES_UNIT_UNKNOWN.',
    tags: ['units'],
    permission: 'unit.manage',
    body: z.unknown(),
    maxBodyBytes: MAX_BOUNDARIES_BYTES,
    response: z.object({ features: z.number().int(), units: z.array(z.string()) }),
    handler: async ({ body, audit }) => {
      const units = (await deps.store.units.list()).map((u) => u.path);
      const stored = await file.replace(JSON.stringify(body), units);
      await audit('boundaries.upload', { type: 'boundaries', id: 'boundaries.geojson' }, stored);
      return stored;
    },
  });
}
