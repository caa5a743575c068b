/**
 * What a province edits to connect CAP alerts to Loa, and the pure rules that apply it:
 *   - areas → unit paths: geocodes by a mapping table (LOA-UNIT: the unit path itself) (or, for a code list such as Decision
 *     19/2025's, the official code itself), polygons and circles by unit centroids where loaded,
 *     area names against unit names as a last resort;
 *   - severity/urgency/certainty and the disaster risk level of Decision 18/2021 (cấp độ rủi ro
 *     thiên tai 1–5, when a parameter carries it) → Loa priority, by ordered rules;
 *   - which senders may have their alerts broadcast without a person (auto-send policy).
 */
import { LoaError, UnitPathSchema, unitCovers } from '@loa/protocol';
import { z } from 'zod';
import {
  CAP_CERTAINTY,
  CAP_SEVERITY,
  CAP_URGENCY,
  type CapAlert,
  type CapArea,
  type CapInfo,
  type CapSeverity,
  type LatLon,
} from './parse.js';

export const LoaPrioritySchema = z.enum(['normal', 'priority', 'emergency']);
export type LoaPriority = z.infer<typeof LoaPrioritySchema>;

const LatLonSchema = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

export const PriorityRuleSchema = z.strictObject({
  /** Every listed condition must hold; an absent one matches anything. */
  riskLevelAtLeast: z.number().int().min(1).max(5).optional(),
  severity: z.array(z.enum(CAP_SEVERITY)).min(1).optional(),
  urgency: z.array(z.enum(CAP_URGENCY)).min(1).optional(),
  certainty: z.array(z.enum(CAP_CERTAINTY)).min(1).optional(),
  priority: LoaPrioritySchema,
});
export type PriorityRule = z.infer<typeof PriorityRuleSchema>;

export const AutoSendRuleSchema = z.strictObject({
  /** The CAP <sender> exactly as it appears in the alerts. */
  sender: z.string().min(1).max(200),
  /** Severities broadcast without a person (only alerts that map to the emergency priority). */
  severities: z.array(z.enum(CAP_SEVERITY)).min(1),
});

export const CapConfigSchema = z.strictObject({
  /** geocode valueName → value → unit path, e.g. {"VN-XA": {"02500": "08/02500"}}. */
  geocodes: z
    .record(z.string().min(1).max(100), z.record(z.string().min(1).max(100), UnitPathSchema))
    .default({}),
  /** geocode valueNames whose value is an official unit code (looked up among the units). */
  officialCodeGeocodes: z.array(z.string().min(1).max(100)).max(20).default(['VN-DVHC']),
  /** Unit path → [latitude, longitude] of its centre, for polygons and circles. */
  centroids: z.record(UnitPathSchema, LatLonSchema).default({}),
  /** Match <areaDesc> against unit names when nothing else matched. */
  matchNames: z.boolean().default(true),
  /** Names of the <parameter> carrying the Decision 18/2021 risk level (1–5). */
  riskLevelParameters: z
    .array(z.string().min(1).max(100))
    .max(20)
    .default(['riskLevel', 'VN-CAP-DO-RUI-RO', 'capDoRuiRo']),
  /** First matching rule wins; none matching → `defaultPriority`. */
  priorityRules: z.array(PriorityRuleSchema).max(100),
  defaultPriority: LoaPrioritySchema.default('normal'),
  autoSend: z.array(AutoSendRuleSchema).max(100).default([]),
  /** How emergencies made from CAP alerts are played. */
  emergency: z
    .strictObject({
      repeat: z.number().int().min(1).max(20).default(3),
      gapSeconds: z.number().int().min(0).max(3600).default(30),
      volume: z.number().int().min(0).max(100).default(100),
    })
    .default({ repeat: 3, gapSeconds: 30, volume: 100 }),
});
export type CapConfig = z.output<typeof CapConfigSchema>;
export type CapConfigInput = z.input<typeof CapConfigSchema>;

/** A province starts from this table and edits it (GET/PUT /api/v1/cap/config). */
export const DEFAULT_CAP_CONFIG: CapConfigInput = {
  priorityRules: [
    { riskLevelAtLeast: 3, priority: 'emergency' },
    { riskLevelAtLeast: 1, priority: 'priority' },
    {
      severity: ['Extreme', 'Severe'],
      urgency: ['Immediate', 'Expected'],
      certainty: ['Observed', 'Likely'],
      priority: 'emergency',
    },
    { severity: ['Extreme', 'Severe', 'Moderate'], priority: 'priority' },
  ],
};

export function parseCapConfig(input: unknown): CapConfig {
  const r = CapConfigSchema.safeParse(input);
  if (!r.success)
    throw new LoaError(
      'CAP_CONFIG_INVALID',
      `Bảng cấu hình CAP không hợp lệ: ${r.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
      { cause: r.error },
    );
  return r.data;
}

/** What the mapping needs to know of a unit. */
export interface UnitInfo {
  path: string;
  code: string;
  name: string;
}

/** Ray casting on (lon, lat); the polygon is closed (first = last). */
export function pointInPolygon(p: LatLon, poly: readonly LatLon[]): boolean {
  const [y, x] = p;
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [yi, xi] = poly[i] as LatLon;
    const [yj, xj] = poly[j] as LatLon;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Great-circle distance in kilometres. */
export function distanceKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Lowercase, NFC, without the level word Vietnamese names often carry ("xã", "phường", …). */
export function normaliseName(s: string): string {
  return s
    .normalize('NFC')
    .toLowerCase()
    .replace(/^(tỉnh|thành phố|tp\.?|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s+/u, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A geocode whose value is a Loa unit path ("08/02500"), for alerts made by Loa's own tools. */
export const LOA_UNIT_GEOCODE = 'LOA-UNIT';

export type AreaMatch = 'geocode' | 'official-code' | 'polygon' | 'circle' | 'name';

export interface MappedArea {
  areaDesc: string;
  units: string[];
  by: AreaMatch | null;
}

/** The units of one <area>: geocodes first, then geometry, then the name. */
export function mapArea(area: CapArea, cfg: CapConfig, units: readonly UnitInfo[]): MappedArea {
  const byPath = new Map(units.map((u) => [u.path, u] as const));
  const found = new Set<string>();
  for (const g of area.geocodes) {
    const path = g.valueName === LOA_UNIT_GEOCODE ? g.value : cfg.geocodes[g.valueName]?.[g.value];
    if (path && byPath.has(path)) found.add(path);
  }
  if (found.size) return { areaDesc: area.areaDesc, units: [...found], by: 'geocode' };
  for (const g of area.geocodes) {
    if (!cfg.officialCodeGeocodes.includes(g.valueName)) continue;
    for (const u of units) if (u.code === g.value) found.add(u.path);
  }
  if (found.size) return { areaDesc: area.areaDesc, units: [...found], by: 'official-code' };
  const centroids = Object.entries(cfg.centroids).filter(([p]) => byPath.has(p));
  for (const poly of area.polygons)
    for (const [path, c] of centroids) if (pointInPolygon(c, poly)) found.add(path);
  if (found.size) return { areaDesc: area.areaDesc, units: [...found], by: 'polygon' };
  for (const circ of area.circles)
    for (const [path, c] of centroids) if (distanceKm(c, circ.center) <= circ.radiusKm) found.add(path);
  if (found.size) return { areaDesc: area.areaDesc, units: [...found], by: 'circle' };
  if (cfg.matchNames) {
    const names = area.areaDesc.split(/[;,]/).map(normaliseName).filter(Boolean);
    for (const u of units) if (names.includes(normaliseName(u.name))) found.add(u.path);
    if (found.size) return { areaDesc: area.areaDesc, units: [...found], by: 'name' };
  }
  return { areaDesc: area.areaDesc, units: [], by: null };
}

/** Drops every unit already covered by another one in the list (a subtree hears its parent's alert). */
export function minimalCover(paths: Iterable<string>): string[] {
  const all = [...new Set(paths)].sort();
  return all.filter((p) => !all.some((o) => o !== p && unitCovers(o, p)));
}

/** The risk level (1–5) carried by a parameter, or undefined. */
export function riskLevel(info: Pick<CapInfo, 'parameters'>, cfg: CapConfig): number | undefined {
  for (const p of info.parameters) {
    if (!cfg.riskLevelParameters.includes(p.valueName)) continue;
    const n = Number(p.value.trim());
    if (Number.isInteger(n) && n >= 1 && n <= 5) return n;
    throw new LoaError('CAP_FIELD_INVALID', `CAP: cấp độ rủi ro "${p.value.slice(0, 20)}" phải là số 1–5`, {
      details: { field: `parameter.${p.valueName}` },
    });
  }
  return undefined;
}

export function priorityFor(
  info: Pick<CapInfo, 'severity' | 'urgency' | 'certainty' | 'parameters'>,
  cfg: CapConfig,
): { priority: LoaPriority; riskLevel?: number; rule: number | null } {
  const level = riskLevel(info, cfg);
  const lv = level === undefined ? {} : { riskLevel: level };
  for (const [i, r] of cfg.priorityRules.entries()) {
    if (r.riskLevelAtLeast !== undefined && (level === undefined || level < r.riskLevelAtLeast)) continue;
    if (r.severity && !r.severity.includes(info.severity)) continue;
    if (r.urgency && !r.urgency.includes(info.urgency)) continue;
    if (r.certainty && !r.certainty.includes(info.certainty)) continue;
    return { priority: r.priority, ...lv, rule: i };
  }
  return { priority: cfg.defaultPriority, ...lv, rule: null };
}

export function autoSendAllowed(cfg: CapConfig, sender: string, severity: CapSeverity): boolean {
  return cfg.autoSend.some((r) => r.sender === sender && r.severities.includes(severity));
}

const RANK: Record<LoaPriority, number> = { normal: 0, priority: 1, emergency: 2 };

/** The <info> to act on: the first in Vietnamese, else the first. */
export function pickInfo(alert: CapAlert): CapInfo | undefined {
  return alert.infos.find((i) => i.language.toLowerCase().startsWith('vi')) ?? alert.infos[0];
}

export interface CapPlan {
  info: CapInfo;
  units: string[];
  areas: MappedArea[];
  priority: LoaPriority;
  riskLevel?: number;
  severity: CapSeverity;
  title: string;
  text: string;
  lang: string;
  /** Minutes until <expires> (bounded to what an emergency accepts), from `now`. */
  validMinutes: number;
}

/**
 * Everything Loa needs from an actionable alert: its units (every area must map to at least one
 * unit, else CAP_AREA_UNKNOWN), its priority (the highest over its infos in the chosen language),
 * and the words to say. Pure: `now` is the caller's.
 */
export function planAlert(alert: CapAlert, cfg: CapConfig, units: readonly UnitInfo[], now: number): CapPlan {
  const info = pickInfo(alert);
  if (!info) throw new LoaError('CAP_FIELD_MISSING', 'CAP: cảnh báo không có <info> nào để phát');
  const areas = info.areas.map((a) => mapArea(a, cfg, units));
  if (areas.length === 0)
    throw new LoaError('CAP_AREA_UNKNOWN', 'CAP: cảnh báo không có <area>: không biết phát ở đâu');
  const unknown = areas.filter((a) => a.units.length === 0);
  if (unknown.length)
    throw new LoaError(
      'CAP_AREA_UNKNOWN',
      `CAP: không tìm thấy đơn vị cho vùng: ${unknown.map((a) => `"${a.areaDesc.slice(0, 80)}"`).join(', ')}`,
      { details: { areas: unknown.map((a) => a.areaDesc.slice(0, 200)) } },
    );
  let best = priorityFor(info, cfg);
  for (const other of alert.infos)
    if (other !== info && other.language === info.language) {
      const p = priorityFor(other, cfg);
      if (RANK[p.priority] > RANK[best.priority]) best = p;
    }
  const title = (info.headline ?? info.event).slice(0, 300);
  const text = [info.headline ?? info.event, info.description, info.instruction]
    .filter((s): s is string => Boolean(s))
    .join('. ')
    .replace(/\.\s*\./g, '.')
    .slice(0, 5000);
  const exp = info.expires ? Date.parse(info.expires) : Number.NaN;
  const minutes = Number.isNaN(exp) ? 120 : Math.round((exp - now) / 60_000);
  const lang = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(info.language)
    ? (info.language.split('-')[0] as string)
    : 'vi';
  return {
    info,
    units: minimalCover(areas.flatMap((a) => a.units)),
    areas,
    priority: best.priority,
    ...(best.riskLevel !== undefined ? { riskLevel: best.riskLevel } : {}),
    severity: info.severity,
    title,
    text,
    lang,
    validMinutes: Math.min(24 * 60, Math.max(5, minutes)),
  };
}
