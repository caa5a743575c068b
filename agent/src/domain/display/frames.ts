/**
 * Pure display logic: which frame the main area shows (a planned display slot, else the default
 * loop), the ticker lines, and the emergency overlay. A function of (bundles, plan, now): it reads
 * no clock and no file.
 */
import type { Item } from '@loa/protocol';
import { offsetMinutes } from '../scheduler/local-time.js';
import type { PlanBundle, Slot, StationChoices } from '../scheduler/types.js';
import { boardOptedOutBy } from './board-choices.js';
import type { EmergencyOverlay, Frame, FrameKind, TickerLine } from './types.js';

export interface FrameContext {
  /** Issuing unit printed under bulletins (the board's unit name). */
  unit: string;
  utcOffset: string;
  /** Kiosk URL of a blob. */
  mediaUrl: (sha256: string) => string;
  videoSound: boolean;
  /** Display time of a loop item without durationMs (ms). */
  defaultItemMs: number;
}

/** A text item with category "ticker" feeds the scrolling ticker, not the main area. */
export function isTickerItem(item: Item): boolean {
  return item.kind === 'text' && item.category === 'ticker';
}

export function isScreenItem(item: Item): boolean {
  return (item.kind === 'image' || item.kind === 'video' || item.kind === 'text') && !isTickerItem(item);
}

function live(b: PlanBundle, now: number): boolean {
  const m = b.manifest;
  return Date.parse(m.notBefore ?? m.created) <= now && now < Date.parse(m.expires);
}

function sorted(bundles: readonly PlanBundle[]): PlanBundle[] {
  return [...bundles].sort(
    (a, b) =>
      a.manifest.channel.localeCompare(b.manifest.channel) || a.manifest.id.localeCompare(b.manifest.id),
  );
}

/** "dd/mm/yyyy" in the given UTC offset. */
export function dateLabel(ms: number, utcOffset: string): string {
  const d = new Date(ms + offsetMinutes(utcOffset) * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

/** Vietnamese text arrives in NFC or NFD; the page always gets NFC (precomposed) text. */
export function nfc(s: string): string {
  return s.normalize('NFC');
}

function frameOf(
  b: PlanBundle | undefined,
  item: Item,
  ctx: FrameContext,
  f: { key: string; entryId: string; priorityClass: Frame['priorityClass']; start: number; end: number },
  scheduledAt: number,
): Frame {
  const frame: Frame = {
    key: f.key,
    itemId: item.id,
    entryId: f.entryId,
    kind: item.kind as FrameKind,
    priorityClass: f.priorityClass,
    title: nfc(item.title),
    lang: item.lang,
    sound: item.kind === 'video' && ctx.videoSound,
    unit: nfc(item.issuer ?? ctx.unit),
    dateLabel: item.dated
      ? item.dated.split('-').reverse().join('/')
      : dateLabel(b ? Date.parse(b.manifest.created) : scheduledAt, ctx.utcOffset),
    start: f.start,
    end: f.end,
    scheduledAt,
  };
  if (b) {
    frame.bundleId = b.manifest.id;
    frame.channel = b.manifest.channel;
    frame.bundleVersion = b.manifest.version;
  }
  if (item.text !== undefined) frame.text = nfc(item.text);
  if (item.blob) {
    frame.contentSha256 = item.blob.sha256;
    if (item.kind !== 'text') {
      frame.mediaUrl = ctx.mediaUrl(item.blob.sha256);
      frame.mediaType = item.blob.mediaType;
    }
  }
  if (item.link) frame.link = item.link;
  return frame;
}

/** The frame of a planned display slot. */
export function frameFromSlot(slot: Slot, bundles: readonly PlanBundle[], ctx: FrameContext): Frame {
  const b = bundles.find((x) => x.manifest.id === slot.bundleId);
  return frameOf(
    b,
    slot.item,
    ctx,
    {
      key: slot.id,
      entryId: slot.entryId,
      priorityClass: slot.priorityClass,
      start: slot.start,
      end: slot.end,
    },
    slot.scheduledAt,
  );
}

interface LoopEntry {
  bundle: PlanBundle;
  item: Item;
  ms: number;
}

/**
 * The default loop: every screen item of the live bundles (no emergencies), in a stable order,
 * but those the commune's choices refuse on every occasion (board-choices.ts).
 */
export function loopEntries(
  bundles: readonly PlanBundle[],
  now: number,
  ctx: FrameContext,
  choices: readonly StationChoices[] = [],
): LoopEntry[] {
  const out: LoopEntry[] = [];
  for (const b of sorted(bundles)) {
    if (!live(b, now)) continue;
    for (const item of b.manifest.items) {
      if (!isScreenItem(item) || item.priority === 'emergency') continue;
      if (boardOptedOutBy(choices, b.manifest, item)) continue;
      out.push({ bundle: b, item, ms: item.durationMs ?? ctx.defaultItemMs });
    }
  }
  return out;
}

/**
 * The loop's frame at `now`: the loop runs on the wall clock from the epoch, so every restart
 * (a browser restart, a power cut) lands on the item the programme is at.
 */
export function loopFrameAt(
  bundles: readonly PlanBundle[],
  now: number,
  ctx: FrameContext,
  choices: readonly StationChoices[] = [],
): Frame | null {
  const entries = loopEntries(bundles, now, ctx, choices);
  const total = entries.reduce((s, e) => s + e.ms, 0);
  if (entries.length === 0 || total <= 0) return null;
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only) {
    // One item alone stays on screen: one showing (and one proof) until the programme changes.
    const m = only.bundle.manifest;
    const since = Math.max(Date.parse(m.notBefore ?? m.created), only.bundle.activatedAt);
    return frameOf(
      only.bundle,
      only.item,
      ctx,
      {
        key: `loop/${m.id}/${only.item.id}/v${m.version}`,
        entryId: 'loop',
        priorityClass: 'fill',
        start: since,
        end: Date.parse(m.expires),
      },
      since,
    );
  }
  const cycle = Math.floor(now / total);
  let t = cycle * total;
  for (const e of entries) {
    if (now < t + e.ms) {
      const id = `${e.bundle.manifest.id}/${e.item.id}`;
      return frameOf(
        e.bundle,
        e.item,
        ctx,
        { key: `loop/${id}/${t}`, entryId: 'loop', priorityClass: 'fill', start: t, end: t + e.ms },
        t,
      );
    }
    t += e.ms;
  }
  return null;
}

/**
 * Ticker lines: the text items with category "ticker" of the live bundles, but those the
 * commune's choices refuse on every occasion.
 */
export function tickerLines(
  bundles: readonly PlanBundle[],
  now: number,
  choices: readonly StationChoices[] = [],
): TickerLine[] {
  const out: TickerLine[] = [];
  for (const b of sorted(bundles)) {
    if (!live(b, now)) continue;
    for (const item of b.manifest.items) {
      if (!isTickerItem(item)) continue;
      if (boardOptedOutBy(choices, b.manifest, item)) continue;
      const text = nfc((item.text ?? item.title).replace(/\s+/g, ' ').trim());
      if (text)
        out.push({ key: `${b.manifest.id}/${item.id}`, bundleId: b.manifest.id, itemId: item.id, text });
    }
  }
  return out;
}

/** An emergency as the screen sees it: the slots of one emergency (both lanes), grouped. */
interface EmergencyGroup {
  key: string;
  slots: Slot[];
}

/** Emergencies show this long before their first sound (the amplifier warms up meanwhile). */
export const OVERLAY_LEAD_MS = 1500;

/**
 * The emergency overlay at `now`. An emergency is up from the moment its first slot (audio or
 * display, chime included) is imminent, and stays up through its repeat gaps until its last slot
 * ends; `shown` holds the emergencies already up (key → since) and is returned updated.
 */
export function emergencyOverlay(
  slots: readonly Slot[],
  bundles: readonly PlanBundle[],
  now: number,
  shown: ReadonlyMap<string, number>,
): { overlay: EmergencyOverlay | null; shown: Map<string, number> } {
  const groups = new Map<string, EmergencyGroup>();
  for (const s of slots) {
    if (s.priorityClass !== 'emergency' || s.end <= now) continue;
    const key = s.bundleId ?? s.entryId;
    const g = groups.get(key) ?? { key, slots: [] };
    g.slots.push(s);
    groups.set(key, g);
  }
  const next = new Map<string, number>();
  let best: { g: EmergencyGroup; since: number } | undefined;
  for (const g of groups.values()) {
    const imminent = g.slots.some((s) => s.start - s.leadMs - OVERLAY_LEAD_MS <= now);
    const since = shown.get(g.key) ?? (imminent ? now : undefined);
    if (since === undefined) continue;
    next.set(g.key, since);
    if (!best || since > best.since) best = { g, since };
  }
  if (!best) return { overlay: null, shown: next };
  const first = [...best.g.slots].sort((a, b) => a.start - b.start)[0] as Slot;
  const b = bundles.find((x) => x.manifest.id === first.bundleId);
  const textItem =
    first.item.kind === 'text'
      ? first.item
      : b?.manifest.items.find((i) => i.kind === 'text' && i.priority === 'emergency');
  const overlay: EmergencyOverlay = {
    key: `emergency/${best.g.key}`,
    itemId: textItem?.id ?? first.item.id,
    title: nfc(first.item.title),
    lang: first.item.lang,
    since: best.since,
  };
  if (first.bundleId !== undefined) overlay.bundleId = first.bundleId;
  if (textItem?.text !== undefined) overlay.text = nfc(textItem.text);
  return { overlay, shown: next };
}
