/**
 * What the reports keep of the proofs (pure): per Vietnamese event day and device, the planned
 * slots it played or displayed, airtime by category and language, and its failures. A fold covers
 * the proofs received in one window (a day of the stream): once that window is closed its fold never
 * changes, so it can be cached, and a report adds the folds of every window since its start (a
 * station that was offline for weeks sends its proofs late, into a later window).
 */
import type { Proof } from '@loa/protocol';
import type { BundleRecord, ProofEntry } from '../model.js';
import { vnDay } from './period.js';
import { slotKey } from './plan.js';

export interface DeviceDayProofs {
  /** Slot keys (bundle|entry|minute) of scheduled sound started or completed. */
  played: string[];
  /** Slot keys shown on a screen (display proofs). */
  displayed: string[];
  /** "category|lang" → [milliseconds, plays] of completed or interrupted sound. */
  air: Record<string, [number, number]>;
  completed: number;
  failed: number;
  interrupted: number;
  skipped: number;
  /** Emergency bundles heard (started or completed). */
  emergency: string[];
}

export interface ProofFold {
  /** Vietnamese event day → device → figures. */
  days: Record<string, Record<string, DeviceDayProofs>>;
  proofs: number;
}

export type ItemIndex = ReadonlyMap<string, { category?: string | undefined; lang: string; title: string }>;

export function itemIndex(bundles: readonly BundleRecord[]): ItemIndex {
  const m = new Map<string, { category?: string | undefined; lang: string; title: string }>();
  for (const b of bundles)
    for (const it of b.manifest.items)
      m.set(`${b.id}|${it.id}`, { category: it.category, lang: it.lang, title: it.title });
  return m;
}

/** The instant a proof is about: its slot, else its start, else when it was written. */
export const proofInstant = (p: Proof): number => Date.parse(p.scheduledAt ?? p.startedAt ?? p.at);

export const emptyFold = (): ProofFold => ({ days: {}, proofs: 0 });

/** Adds proof entries to a fold (mutates and returns it). */
export function foldProofs(
  fold: ProofFold,
  entries: Iterable<ProofEntry | Proof>,
  items: ItemIndex,
): ProofFold {
  for (const e of entries) {
    const p = 'proof' in e ? e.proof : e;
    const day = vnDay(proofInstant(p));
    fold.days[day] ??= {};
    const perDay = fold.days[day] as Record<string, DeviceDayProofs>;
    perDay[p.deviceId] ??= {
      played: [],
      displayed: [],
      air: {},
      completed: 0,
      failed: 0,
      interrupted: 0,
      skipped: 0,
      emergency: [],
    };
    const d = perDay[p.deviceId] as DeviceDayProofs;
    fold.proofs++;
    const heard = p.outcome === 'completed' || p.outcome === 'started';
    if (p.outcome === 'completed') d.completed++;
    else if (p.outcome === 'failed') d.failed++;
    else if (p.outcome === 'interrupted') d.interrupted++;
    else if (p.outcome === 'skipped') d.skipped++;
    if (heard && p.bundleId && p.entryId && p.scheduledAt) {
      const k = slotKey(p.bundleId, p.entryId, Date.parse(p.scheduledAt));
      const list = p.kind === 'display' ? d.displayed : d.played;
      if (!list.includes(k)) list.push(k);
    }
    if (heard && p.priority === 'emergency' && p.bundleId && !d.emergency.includes(p.bundleId))
      d.emergency.push(p.bundleId);
    if (
      (p.outcome === 'completed' || p.outcome === 'interrupted') &&
      p.kind !== 'display' &&
      p.startedAt &&
      p.endedAt
    ) {
      const ms = Date.parse(p.endedAt) - Date.parse(p.startedAt);
      if (ms > 0) {
        const it = p.bundleId && p.itemId ? items.get(`${p.bundleId}|${p.itemId}`) : undefined;
        const cat = it?.category ?? (p.priority === 'emergency' ? 'disaster' : '');
        const k = `${cat}|${it?.lang ?? ''}`;
        const a = d.air[k] ?? [0, 0];
        a[0] += ms;
        a[1]++;
        d.air[k] = a;
      }
    }
  }
  return fold;
}

const str = (s: string) => 24 + s.length;

/**
 * Approximate heap bytes of a fold (V8: objects, arrays, one-byte strings), for bounding a cache
 * of folds. Within a factor of about two of what the heap measures (the report benchmark prints both).
 */
export function foldBytes(fold: ProofFold): number {
  let n = 64;
  for (const [day, devices] of Object.entries(fold.days)) {
    n += 64 + str(day);
    for (const [id, d] of Object.entries(devices)) {
      n += 200 + str(id);
      for (const k of d.played) n += 8 + str(k);
      for (const k of d.displayed) n += 8 + str(k);
      for (const k of d.emergency) n += 8 + str(k);
      for (const k of Object.keys(d.air)) n += 72 + str(k);
    }
  }
  return n;
}
