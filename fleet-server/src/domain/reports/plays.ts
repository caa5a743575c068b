/**
 * "What played where and when" (pure): one line per signed proof, with the station, the item, how
 * loud, and the proof's event id and hash so that any line can be checked against the chain.
 */
import type { DeviceRecord, ProofEntry, UnitRecord } from '../model.js';
import type { ItemIndex } from './fold.js';
import { proofInstant } from './fold.js';
import { categoryName, languageName, OUTPUT_NAMES_VI, PRIORITY_NAMES_VI } from './labels.js';

export const OUTCOME_NAMES_VI = {
  started: 'Đã bắt đầu',
  completed: 'Phát xong',
  interrupted: 'Bị ngắt',
  failed: 'Thất bại',
  skipped: 'Bỏ qua',
  withdrawn: 'Đã gỡ',
} as const;

export interface PlayLine {
  at: string;
  deviceId: string;
  deviceName: string;
  unit: string;
  unitName: string;
  output: 'audio' | 'display';
  outputName: string;
  bundleId: string | null;
  itemId: string | null;
  title: string | null;
  category: string | null;
  categoryName: string;
  lang: string | null;
  languageName: string;
  priority: string | null;
  priorityName: string;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  outcome: keyof typeof OUTCOME_NAMES_VI;
  outcomeName: string;
  reason: string | null;
  loudnessLufs: number | null;
  peakDbfs: number | null;
  seq: number;
  eventId: string;
  hash: string;
  receivedAt: string;
}

export interface PlayFilter {
  startMs: number;
  endMs: number;
  deviceIds?: ReadonlySet<string>;
  bundleId?: string;
  itemId?: string;
  outcome?: string;
  output?: 'audio' | 'display';
}

export function playLines(
  entries: Iterable<ProofEntry>,
  f: PlayFilter,
  devices: ReadonlyMap<string, DeviceRecord>,
  units: ReadonlyMap<string, UnitRecord>,
  items: ItemIndex,
): PlayLine[] {
  const out: PlayLine[] = [];
  for (const e of entries) {
    const p = e.proof;
    const t = proofInstant(p);
    if (!(t >= f.startMs && t < f.endMs)) continue;
    if (f.deviceIds && !f.deviceIds.has(p.deviceId)) continue;
    if (f.bundleId && p.bundleId !== f.bundleId) continue;
    if (f.itemId && p.itemId !== f.itemId) continue;
    if (f.outcome && p.outcome !== f.outcome) continue;
    const output = p.kind === 'display' ? 'display' : 'audio';
    if (f.output && output !== f.output) continue;
    const d = devices.get(p.deviceId);
    const unit = d?.unit ?? '';
    const it = p.bundleId && p.itemId ? items.get(`${p.bundleId}|${p.itemId}`) : undefined;
    const prio = p.priority ?? null;
    const dur =
      p.startedAt && p.endedAt ? Math.max(0, (Date.parse(p.endedAt) - Date.parse(p.startedAt)) / 1000) : null;
    out.push({
      at: new Date(t).toISOString(),
      deviceId: p.deviceId,
      deviceName: d?.name ?? p.deviceId,
      unit,
      unitName: units.get(unit)?.name ?? unit,
      output,
      outputName: OUTPUT_NAMES_VI[output],
      bundleId: p.bundleId ?? null,
      itemId: p.itemId ?? null,
      title: it?.title ?? null,
      category: it?.category ?? null,
      categoryName: categoryName(it?.category),
      lang: it?.lang ?? null,
      languageName: languageName(it?.lang),
      priority: prio,
      priorityName:
        prio && prio in PRIORITY_NAMES_VI
          ? PRIORITY_NAMES_VI[prio as keyof typeof PRIORITY_NAMES_VI]
          : (prio ?? '—'),
      scheduledAt: p.scheduledAt ?? null,
      startedAt: p.startedAt ?? null,
      endedAt: p.endedAt ?? null,
      durationSeconds: dur === null ? null : Math.round(dur * 10) / 10,
      outcome: p.outcome,
      outcomeName: OUTCOME_NAMES_VI[p.outcome],
      reason: p.reason ?? null,
      loudnessLufs: p.loudnessLufs ?? null,
      peakDbfs: p.peakDbfs ?? null,
      seq: p.seq,
      eventId: p.eventId,
      hash: e.hash,
      receivedAt: e.receivedAt,
    });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at) || a.deviceId.localeCompare(b.deviceId));
}
