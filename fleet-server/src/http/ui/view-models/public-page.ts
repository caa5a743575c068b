/**
 * View model of a unit's public page (pure): filters and pages the bulletins, groups them by local
 * day, and places the stations on a small map (equirectangular projection of their bounding box).
 */
import type { PublicBulletin } from '../../../domain/citizens/public-feed.js';
import { localDate } from '../../../domain/citizens/public-feed.js';

export const PAGE_SIZE = 15;

export interface BulletinFilter {
  lang?: string;
  category?: string;
  page: number;
}

export function parseBulletinFilter(q: Record<string, string | undefined>): BulletinFilter {
  const f: BulletinFilter = { page: Math.min(100, Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1)) };
  if (q.bl && /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(q.bl)) f.lang = q.bl;
  if (q.cat && q.cat.length <= 64) f.category = q.cat;
  return f;
}

export interface BulletinDay {
  date: string;
  today: boolean;
  items: PublicBulletin[];
}

export function bulletinPage(
  list: readonly PublicBulletin[],
  f: BulletinFilter,
  nowMs: number,
): { days: BulletinDay[]; more: boolean } {
  const shown = list.filter(
    (b) => (!f.lang || b.lang === f.lang) && (!f.category || b.category === f.category),
  );
  const slice = shown.slice((f.page - 1) * PAGE_SIZE, f.page * PAGE_SIZE);
  const today = localDate(nowMs);
  const days: BulletinDay[] = [];
  for (const b of slice) {
    const date = localDate(Date.parse(b.publishedAt));
    let day = days.at(-1);
    if (day?.date !== date) {
      day = { date, today: date === today, items: [] };
      days.push(day);
    }
    day.items.push(b);
  }
  return { days, more: shown.length > f.page * PAGE_SIZE };
}

export interface MapPoint {
  x: number;
  y: number;
  name: string;
  state: 'onAir' | 'online' | 'offline';
}

/** Stations with a location, placed in a `w`×`h` box with a margin. */
export function mapPoints(
  stations: readonly { name: string; lat?: number; lon?: number; online: boolean; onAir: boolean }[],
  w = 320,
  h = 200,
  margin = 16,
): MapPoint[] {
  const located = stations.filter((s) => s.lat !== undefined && s.lon !== undefined);
  if (located.length === 0) return [];
  const lats = located.map((s) => s.lat as number);
  const lons = located.map((s) => s.lon as number);
  const [minLat, maxLat, minLon, maxLon] = [
    Math.min(...lats),
    Math.max(...lats),
    Math.min(...lons),
    Math.max(...lons),
  ];
  const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = Math.max((maxLon - minLon) * kx, 1e-4);
  const spanY = Math.max(maxLat - minLat, 1e-4);
  const scale = Math.min((w - 2 * margin) / spanX, (h - 2 * margin) / spanY);
  const ox = (w - spanX * scale) / 2;
  const oy = (h - spanY * scale) / 2;
  return located.map((s) => ({
    x: Math.round((ox + ((s.lon as number) - minLon) * kx * scale) * 10) / 10,
    y: Math.round((h - oy - ((s.lat as number) - minLat) * scale) * 10) / 10,
    name: s.name,
    state: s.onAir ? 'onAir' : s.online ? 'online' : 'offline',
  }));
}
