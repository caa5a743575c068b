/**
 * Administrative boundaries for the fleet map (pure): a GeoJSON FeatureCollection of Polygon or
 * MultiPolygon features, one per commune, with `properties.name` (shown on the map) and
 * optionally `properties.unit` (the unit path). A province loads its own file (see
 * docs/operations); anything else is refused with a stable code and a message that says where.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';

/** Largest boundaries file accepted (a province's communes simplified to ~100 m fit in 2–5 MB). */
export const MAX_BOUNDARIES_BYTES = 20 * 1024 * 1024;
const MAX_FEATURES = 10_000;

const Position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]).rest(z.number());
const Ring = z.array(Position).min(4);
const Geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: z.array(Ring).min(1) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(Ring).min(1)).min(1) }),
]);
const Feature = z.object({
  type: z.literal('Feature'),
  geometry: Geometry,
  properties: z
    .object({ name: z.string().max(200).optional(), unit: z.string().max(40).optional() })
    .passthrough()
    .nullable()
    .optional(),
});
export const BoundariesSchema = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(Feature).max(MAX_FEATURES),
});
export type Boundaries = z.infer<typeof BoundariesSchema>;

/** Parses and checks a boundaries file; throws BOUNDARIES_TOO_LARGE or BOUNDARIES_INVALID. */
export function parseBoundaries(text: string): Boundaries {
  if (Buffer.byteLength(text) > MAX_BOUNDARIES_BYTES)
    throw new LoaError(
      'BOUNDARIES_TOO_LARGE',
      `Tệp ranh giới vượt quá ${MAX_BOUNDARIES_BYTES / 1048576} MB: hãy đơn giản hoá đường biên`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new LoaError('BOUNDARIES_INVALID', 'Tệp ranh giới không phải JSON hợp lệ', { cause });
  }
  const r = BoundariesSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new LoaError(
      'BOUNDARIES_INVALID',
      `Tệp ranh giới không đúng GeoJSON (FeatureCollection gồm Polygon/MultiPolygon): ${i?.path.join('.') || '(gốc)'}: ${i?.message ?? ''}`,
    );
  }
  return r.data;
}

/**
 * A province's upload is checked further than a file left in the data directory: every feature
 * names its unit (`properties.unit`, a unit path such as "08/02500" or its commune code "02500")
 * and that unit is one the server knows. Throws BOUNDARIES_UNIT_MISSING or BOUNDARIES_UNIT_UNKNOWN;
 * answers the features' unit paths.
 */
export function checkBoundaryUnits(b: Boundaries, knownUnits: readonly string[]): string[] {
  const byPath = new Set(knownUnits);
  const byCode = new Map<string, string[]>();
  for (const p of knownUnits) {
    const code = p.split('/').pop() as string;
    byCode.set(code, [...(byCode.get(code) ?? []), p]);
  }
  const out: string[] = [];
  b.features.forEach((f, i) => {
    const unit = f.properties?.unit?.trim();
    const label = f.properties?.name ? `“${f.properties.name}”` : `số ${i + 1}`;
    if (!unit)
      throw new LoaError(
        'BOUNDARIES_UNIT_MISSING',
        `Vùng ${label} thiếu mã đơn vị (properties.unit, ví dụ "08/02500" hoặc "02500")`,
      );
    const paths = byPath.has(unit) ? [unit] : (byCode.get(unit) ?? []);
    if (paths.length !== 1)
      throw new LoaError(
        'BOUNDARIES_UNIT_UNKNOWN',
        paths.length === 0
          ? `Vùng ${label} có mã đơn vị ${unit} không có trong danh mục đơn vị hành chính`
          : `Vùng ${label}: mã ${unit} trùng ở nhiều đơn vị, hãy ghi đầy đủ (ví dụ ${paths[0]})`,
      );
    out.push(paths[0] as string);
  });
  return out;
}
