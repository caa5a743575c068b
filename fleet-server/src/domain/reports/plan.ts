/**
 * Planned programme for a calendar day, from published manifests (pure). Used to show "planned
 * vs played" on the overview and in reports: a planned slot is one occurrence of a schedule entry
 * (its first repetition); a device "played" it when a proof names the same bundle and entry with a
 * scheduledAt in that slot's minute.
 */
import type { Item, Manifest, Proof, QuietHours, ScheduleEntry, Weekday } from '@loa/protocol';
import { isLiveItem, unitCovers } from '@loa/protocol';
import type { BundleRecord, DeviceKind, DeviceRecord } from '../model.js';

/**
 * Where an item comes out: sound (loudspeaker stations) or a screen (noticeboards). A station never
 * shows a text bulletin and a noticeboard does not drive horns, so a slot is planned, and counted,
 * per output on the devices that have that output.
 */
export type Output = 'audio' | 'display';
export const OUTPUTS: readonly Output[] = ['audio', 'display'];
/** As the station's scheduler puts it (agent `laneOf`): audio and live relays (stream, FM) sound. */
export const outputOfItem = (item: Pick<Item, 'kind'>): Output =>
  item.kind === 'audio' || isLiveItem(item) ? 'audio' : 'display';
export const outputOfDevice = (kind: DeviceKind): Output => (kind === 'noticeboard' ? 'display' : 'audio');

/** The entry's items by output (an entry may hold audio for stations and text for noticeboards). */
export function itemsByOutput(m: Manifest, itemIds: readonly string[]): Map<Output, string[]> {
  const out = new Map<Output, string[]>();
  for (const id of itemIds) {
    const it = m.items.find((i) => i.id === id);
    if (!it) continue;
    const o = outputOfItem(it);
    out.set(o, [...(out.get(o) ?? []), id]);
  }
  return out;
}

export interface PlannedSlot {
  bundleId: string;
  channel: string;
  entryId: string;
  /** Occurrence instant (ms). */
  at: number;
  itemIds: string[];
  priority: 'normal' | 'priority' | 'emergency';
}

const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function offsetMs(utcOffset: string | undefined): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(utcOffset ?? '+07:00');
  if (!m) return 7 * 3600_000;
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '-' ? -v : v;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** True when a local minute-of-day lies in any quiet window (windows may wrap midnight). */
export function inQuietHours(minute: number, quiet: readonly QuietHours[] | undefined): boolean {
  for (const q of quiet ?? []) {
    const s = minutesOf(q.start);
    const e = minutesOf(q.end);
    if (s === e) continue;
    if (s < e ? minute >= s && minute < e : minute >= s || minute < e) return true;
  }
  return false;
}

function entryPriority(m: Manifest, e: ScheduleEntry): PlannedSlot['priority'] {
  let p: PlannedSlot['priority'] = 'normal';
  for (const id of e.items) {
    const it = m.items.find((i) => i.id === id);
    if (it?.priority === 'emergency') return 'emergency';
    if (it?.priority === 'priority') p = 'priority';
  }
  return p;
}

/**
 * Occurrences of a manifest's schedule that start inside [dayStartMs, dayStartMs + 24 h),
 * where the day is a calendar day in the manifest's UTC offset. Quiet hours drop non-emergency
 * slots; validity windows and the manifest's notBefore/expires are honoured.
 */
export function slotsForDay(m: Manifest, dayStartMs: number): PlannedSlot[] {
  const out: PlannedSlot[] = [];
  const off = offsetMs(m.utcOffset);
  const dayEnd = dayStartMs + 86_400_000;
  const notBefore = Date.parse(m.notBefore ?? m.created);
  const expires = Date.parse(m.expires);
  // Local weekday of the day: the local date at dayStart + offset.
  const localMidnight = new Date(dayStartMs + off);
  const weekday = WEEKDAYS[localMidnight.getUTCDay()] as Weekday;
  // The local midnight instant of that local date.
  const midnight =
    Date.UTC(localMidnight.getUTCFullYear(), localMidnight.getUTCMonth(), localMidnight.getUTCDate()) - off;
  for (const e of m.schedule ?? []) {
    const priority = entryPriority(m, e);
    const times: number[] = [];
    const r = e.rule;
    if (r.type === 'daily') for (const t of r.times) times.push(midnight + minutesOf(t) * 60_000);
    else if (r.type === 'weekly') {
      if (r.days.includes(weekday)) for (const t of r.times) times.push(midnight + minutesOf(t) * 60_000);
    } else if (r.type === 'once') times.push(Date.parse(r.at));
    else continue; // immediate: not part of a planned programme
    for (const at of times) {
      if (at < dayStartMs || at >= dayEnd) continue;
      if (at < notBefore || at >= expires) continue;
      if (e.validFrom && at < Date.parse(e.validFrom)) continue;
      if (e.validUntil && at >= Date.parse(e.validUntil)) continue;
      const localMinute = Math.floor(((((at + off) % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
      if (priority !== 'emergency' && inQuietHours(localMinute, m.quietHours)) continue;
      out.push({ bundleId: m.id, channel: m.channel, entryId: e.id, at, itemIds: e.items, priority });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

export const slotKey = (bundleId: string, entryId: string, atMs: number): string =>
  `${bundleId}|${entryId}|${Math.floor(atMs / 60_000)}`;

/** Per slot key, the devices with a started or completed proof for it. */
export function playedBySlot(proofs: Iterable<Proof>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of proofs) {
    if (p.outcome !== 'completed' && p.outcome !== 'started') continue;
    if (!p.bundleId || !p.entryId || !p.scheduledAt) continue;
    const k = slotKey(p.bundleId, p.entryId, Date.parse(p.scheduledAt));
    let s = out.get(k);
    if (!s) {
      s = new Set();
      out.set(k, s);
    }
    s.add(p.deviceId);
  }
  return out;
}

/** The active devices a published bundle targets (unit subtree, device list, groups). */
export function targetedDevices(b: BundleRecord, devices: readonly DeviceRecord[]): DeviceRecord[] {
  return devices.filter(
    (d) =>
      d.status === 'active' &&
      b.manifest.targets.some(
        (t) =>
          unitCovers(t.unit, d.unit) &&
          (!t.devices || t.devices.includes(d.id)) &&
          (!t.groups || t.groups.some((g) => d.groups.includes(g))),
      ),
  );
}
