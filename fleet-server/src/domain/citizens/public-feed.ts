/**
 * What a unit's public page may show (pure: records and `now` in, a view out). Only published
 * programmes that reach the unit (a target covering it) count; from them only items whose content
 * the editor flagged public, and every item of an emergency (always public). Nothing else leaks:
 * an item that is not in this feed does not exist for a citizen (404).
 */
import { type ScheduleEntry, unitCovers } from '@loa/protocol';
import type { BundleRecord, ContentRecord } from '../model.js';

export interface PublicBulletin {
  /** Content id (stable across programmes that carry it). */
  id: string;
  title: string;
  lang: string;
  category?: string;
  kind: ContentRecord['kind'];
  text?: string;
  /** The station-format audio blob this bulletin plays (the page serves a smaller copy). */
  audio?: { sha256: string; durationMs?: number };
  /** When the first programme carrying it was published. */
  publishedAt: string;
  emergency: boolean;
  survey?: { question: string; options: string[] };
}

export interface PublicEmergency {
  bundleId: string;
  title: string;
  text?: string;
  lang: string;
  sentAt: string;
  expiresAt: string;
  audio?: { sha256: string; durationMs?: number };
}

export interface ProgrammeSlot {
  /** Local time "HH:MM" in the programme's offset. */
  time: string;
  titles: string[];
}

export interface PublicFeed {
  unit: string;
  emergencies: PublicEmergency[];
  /** Newest first. */
  bulletins: PublicBulletin[];
  /** Today's slots in time order (local day of the unit, +07:00 by default). */
  programme: ProgrammeSlot[];
  /** Languages and categories present (for the filters). */
  langs: string[];
  categories: string[];
}

const DEFAULT_OFFSET = '+07:00';
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function offsetMs(offset: string): number {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(offset);
  if (!m) return 7 * 3600_000;
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '-' ? -v : v;
}

/** The local calendar date "YYYY-MM-DD" of an instant at an offset. */
export function localDate(ms: number, offset = DEFAULT_OFFSET): string {
  return new Date(ms + offsetMs(offset)).toISOString().slice(0, 10);
}

function reaches(b: BundleRecord, unit: string): boolean {
  return b.manifest.targets.some((t) => unitCovers(t.unit, unit));
}

/** Item id → content id of a programme (from the draft it was composed from; else the item id). */
function contentIds(b: BundleRecord): Map<string, string> {
  const out = new Map<string, string>();
  const draft = b.meta?.draft as { items?: { content: string; id?: string }[] } | undefined;
  for (const d of draft?.items ?? []) out.set(d.id ?? d.content, d.content);
  return out;
}

function occursToday(e: ScheduleEntry, nowMs: number, offset: string): string[] {
  const today = localDate(nowMs, offset);
  const dayStart = Date.parse(`${today}T00:00:00${offset}`);
  const dayEnd = dayStart + 86_400_000;
  if (e.validUntil && Date.parse(e.validUntil) <= dayStart) return [];
  if (e.validFrom && Date.parse(e.validFrom) >= dayEnd) return [];
  const r = e.rule;
  if (r.type === 'daily') return [...r.times];
  if (r.type === 'weekly') {
    const wd = WEEKDAYS[new Date(dayStart + offsetMs(offset)).getUTCDay()] as (typeof WEEKDAYS)[number];
    return r.days.includes(wd) ? [...r.times] : [];
  }
  if (r.type === 'once') {
    const at = Date.parse(r.at);
    if (at < dayStart || at >= dayEnd) return [];
    return [new Date(at + offsetMs(offset)).toISOString().slice(11, 16)];
  }
  return [];
}

export function publicFeed(
  unit: string,
  bundles: readonly BundleRecord[],
  content: ReadonlyMap<string, ContentRecord>,
  nowMs: number,
): PublicFeed {
  const emergencies: PublicEmergency[] = [];
  const bulletins = new Map<string, PublicBulletin>();
  const slots = new Map<string, Set<string>>();
  for (const b of bundles) {
    if (b.state !== 'published' || !reaches(b, unit)) continue;
    const m = b.manifest;
    const publishedAt = b.publishedAt ?? b.updatedAt;
    const live = Date.parse(m.expires) > nowMs;
    if (b.emergency) {
      const first = m.items.find((i) => i.kind === 'audio') ?? m.items[0];
      if (!first) continue;
      const textItem = m.items.find((i) => i.kind === 'text' && i.text);
      const e: PublicEmergency = {
        bundleId: b.id,
        title: first.title,
        lang: first.lang,
        sentAt: publishedAt,
        expiresAt: m.expires,
      };
      const text = textItem?.text ?? first.text ?? m.description;
      if (text) e.text = text;
      if (first.blob)
        e.audio = {
          sha256: first.blob.sha256,
          ...(first.durationMs ? { durationMs: first.durationMs } : {}),
        };
      if (live) emergencies.push(e);
      const id = `emg-${b.id}`;
      bulletins.set(id, {
        id,
        title: e.title,
        lang: e.lang,
        category: 'emergency',
        kind: first.kind === 'stream' || first.kind === 'fm' ? 'audio' : first.kind,
        ...(e.text ? { text: e.text } : {}),
        ...(e.audio ? { audio: e.audio } : {}),
        publishedAt,
        emergency: true,
      });
      continue;
    }
    const ids = contentIds(b);
    const publicItems = new Map<string, string>();
    for (const it of m.items) {
      const c = content.get(ids.get(it.id) ?? it.id);
      if (!c?.public) continue;
      publicItems.set(it.id, it.title);
      const prev = bulletins.get(c.id);
      if (prev && prev.publishedAt <= publishedAt) continue;
      const pb: PublicBulletin = {
        id: c.id,
        title: c.title,
        lang: c.lang,
        kind: c.kind,
        publishedAt,
        emergency: false,
      };
      if (c.category) pb.category = c.category;
      if (c.text) pb.text = c.text;
      if (c.kind === 'audio' && c.sha256)
        pb.audio = { sha256: c.sha256, ...(c.durationMs ? { durationMs: c.durationMs } : {}) };
      if (c.survey && c.survey.options.length > 1) pb.survey = c.survey;
      bulletins.set(c.id, pb);
    }
    if (!live) continue;
    const offset = m.utcOffset ?? DEFAULT_OFFSET;
    for (const e of m.schedule ?? []) {
      const titles = e.items.flatMap((i) => publicItems.get(i) ?? []);
      if (titles.length === 0) continue;
      for (const t of occursToday(e, nowMs, offset)) {
        const set = slots.get(t) ?? new Set<string>();
        for (const x of titles) set.add(x);
        slots.set(t, set);
      }
    }
  }
  const list = [...bulletins.values()].sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
  return {
    unit,
    emergencies: emergencies.sort((a, b) => b.sentAt.localeCompare(a.sentAt)),
    bulletins: list,
    programme: [...slots.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([time, titles]) => ({ time, titles: [...titles] })),
    langs: [...new Set(list.map((b) => b.lang))].sort(),
    categories: [...new Set(list.flatMap((b) => (b.category ? [b.category] : [])))].sort(),
  };
}

/** Audio blobs a citizen may fetch for this feed (anything else answers 404). */
export function publicAudio(feed: PublicFeed): Set<string> {
  const out = new Set<string>();
  for (const b of feed.bulletins) if (b.audio) out.add(b.audio.sha256);
  for (const e of feed.emergencies) if (e.audio) out.add(e.audio.sha256);
  return out;
}

/**
 * Every audio blob some unit's public page may play: items of published emergencies, and items of
 * published programmes whose content is flagged public.
 */
export function publicAudioAll(
  bundles: readonly BundleRecord[],
  content: ReadonlyMap<string, ContentRecord>,
): Set<string> {
  const out = new Set<string>();
  for (const b of bundles) {
    if (b.state !== 'published') continue;
    const ids = contentIds(b);
    for (const it of b.manifest.items) {
      if (!it.blob || (it.kind !== 'audio' && it.kind !== 'text')) continue;
      if (b.emergency || content.get(ids.get(it.id) ?? it.id)?.public) out.add(it.blob.sha256);
    }
  }
  return out;
}
