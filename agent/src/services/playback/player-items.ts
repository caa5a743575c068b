/**
 * Pure helpers of the player: ad-hoc items for commands (play-now, test tone) and what a slot
 * plays (the proof drafts are in player-proofs.ts).
 */
import { randomUUID } from 'node:crypto';
import { type Item, LoaError } from '@loa/protocol';
import type { ToneStep } from '../../domain/output-profile.js';
import type { AdhocItem, Held, PlanBundle, Slot, Timeline } from '../../domain/scheduler/types.js';
import type {
  Levels,
  PlayRequest,
  PlayResult,
  RelayStep,
  StreamRelayOptions,
} from '../../drivers/audio/types.js';
import type { FmControl } from './ports.js';

/** What is on air, shaped like protocol Health.onAir. */
export interface OnAirInfo {
  bundleId?: string;
  itemId?: string;
  kind: string;
  since: string;
  momentaryLufs?: number;
  peakDbfs?: number;
  /** Live relays: the source on air (stream, fm, recording, silence) and why. */
  source?: string;
  sourceReason?: string;
}

export interface PlayerStatus {
  onAir: OnAirInfo | null;
  volume: number;
  /** Items held now (quiet hours, untrusted clock). */
  held: Held[];
  /** The last playback ended in dead air. */
  deadAir: boolean;
  nextSlot?: Pick<Slot, 'id' | 'itemKey' | 'start' | 'priorityClass'> & { itemId: string };
}

export const clampDb = (v: number | undefined) =>
  v === undefined ? undefined : Math.max(-200, Math.min(20, v));

/** The play-now command's item: an audio or stream item of an active bundle, at priority class. */
export function playNowItem(
  bundles: readonly PlanBundle[],
  channel: string,
  itemId: string,
  due: number,
  commandId?: string,
): AdhocItem {
  const b = bundles.find((x) => x.manifest.channel === channel);
  const item = b?.manifest.items.find((i) => i.id === itemId);
  if (!b || !item) {
    throw new LoaError(
      'PLAYER_ITEM_UNKNOWN',
      `Không có mục "${itemId}" trong gói đang phát của kênh "${channel}"`,
      {
        details: { channel, itemId },
      },
    );
  }
  if (item.kind !== 'audio' && item.kind !== 'stream' && item.kind !== 'fm') {
    throw new LoaError('PLAYER_ITEM_NOT_AUDIO', `Mục "${itemId}" không phải âm thanh (${item.kind})`);
  }
  const a: AdhocItem = {
    key: `cmd/${commandId ?? randomUUID()}`,
    item,
    priorityClass: item.priority === 'emergency' ? 'emergency' : 'priority',
    due,
    bundleId: b.manifest.id,
    channel: b.manifest.channel,
    bundleVersion: b.manifest.version,
    entryId: commandId ?? 'play-now',
  };
  if (item.blob) a.file = `${b.blobDir.replace(/\/+$/, '')}/${item.blob.sha256}`;
  return a;
}

/** The test-tone command's item (1–120 s, 50–8000 Hz). */
export function testToneItem(
  seconds: number,
  frequencyHz: number,
  due: number,
  commandId?: string,
  local = false,
): AdhocItem {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 120)
    throw new LoaError('PLAYER_BAD_REQUEST', 'Thời lượng âm thử phải từ 1 đến 120 giây');
  if (!Number.isInteger(frequencyHz) || frequencyHz < 50 || frequencyHz > 8000)
    throw new LoaError('PLAYER_BAD_REQUEST', 'Tần số âm thử phải từ 50 đến 8000 Hz');
  const item = {
    id: 'test-tone',
    title: `Âm thử ${frequencyHz} Hz`,
    kind: 'audio',
    priority: 'priority',
    lang: 'vi',
    durationMs: seconds * 1000,
  } as Item;
  return {
    key: `cmd/${commandId ?? randomUUID()}`,
    item,
    priorityClass: 'priority',
    due,
    tone: { frequencyHz },
    entryId: commandId ?? 'test-tone',
    ...(local ? { local: true } : {}),
  };
}

/** The longest test tone routine (ms): a technician's line-up, not a programme. */
export const TONE_ROUTINE_MAX_MS = 10 * 60_000;

/**
 * A technician's test tone routine (domain/output-profile.ts `toneRoutine`) as one item: its
 * steps play back to back at unity gain (the station volume does not apply), so the line output
 * carries the levels the technician was told.
 */
export function toneRoutineItem(
  steps: readonly ToneStep[],
  due: number,
  commandId?: string,
  local = false,
): AdhocItem {
  const total = steps.reduce((a, t) => a + t.durationMs, 0);
  if (steps.length === 0 || steps.length > 32 || !(total > 0) || total > TONE_ROUTINE_MAX_MS)
    throw new LoaError('PLAYER_BAD_REQUEST', 'Chuỗi âm thử phải có 1–32 bước, tổng tối đa 10 phút');
  const item = {
    id: 'test-tone',
    title: 'Âm thử đường ra',
    kind: 'audio',
    priority: 'priority',
    lang: 'vi',
    durationMs: total,
  } as Item;
  return {
    key: `cmd/${commandId ?? randomUUID()}`,
    item,
    priorityClass: 'priority',
    due,
    tone: { frequencyHz: steps[0]!.frequencyHz, steps: steps.map((t) => ({ ...t })) },
    entryId: commandId ?? 'test-tone',
    ...(local ? { local: true } : {}),
  };
}

export type AfterItem = { done: true } | { done: false; resumeAt?: number };

/**
 * The proof outcome of an ended item and what becomes of it: done (completed, failed, skipped
 * after an interruption or a stop command), kept to resume at a position, or (restart) planned
 * again from the start.
 */
export function itemOutcome(
  slot: Slot,
  r: PlayResult,
  byCommand: boolean,
): { outcome: 'completed' | 'interrupted' | 'failed'; reason?: string; next: AfterItem } {
  let outcome: 'completed' | 'interrupted' | 'failed';
  let reason: string | undefined;
  let next: AfterItem;
  if (r.outcome === 'completed') {
    outcome = 'completed';
    next = { done: true };
  } else if (r.outcome === 'failed') {
    outcome = 'failed';
    reason = `${r.error?.code ?? 'AUDIO_FAILED'}: ${r.error?.message ?? ''}`;
    next = { done: true };
  } else {
    outcome = 'interrupted';
    const mode = byCommand
      ? 'skip'
      : (slot.item.onInterrupt ?? (slot.priorityClass === 'fill' ? 'skip' : 'resume'));
    reason = byCommand ? 'stopped by command' : `interrupted at ${r.positionMs} ms; ${mode}`;
    next =
      mode === 'resume'
        ? { done: false, resumeAt: r.positionMs }
        : mode === 'restart'
          ? { done: false }
          : { done: true };
  }
  if (r.deadAir) reason = `${reason ? `${reason}; ` : ''}dead air detected`;
  if (r.relay) {
    reason = `${reason ? `${reason}; ` : ''}relay connects=${r.relay.connects} failures=${r.relay.failures} fallback=${r.relay.fallbackUsed}`;
    const sw = r.relay.switches.map((x) => `${x.to} at ${(x.atMs / 1000).toFixed(1)} s (${x.reason})`);
    if (sw.length) reason = `${reason}; switched to ${sw.join(', ')}`;
  }
  return reason === undefined ? { outcome, next } : { outcome, reason: reason.slice(0, 500), next };
}

/**
 * What the audio driver plays for a slot: a tone, a stream relay (its slot's length), or a file
 * from the slot's offset (the chime, or the item with its full length when known).
 */
export function playRequest(
  slot: Slot,
  probedMs: number | undefined,
  streamRelay: StreamRelayOptions | undefined,
  live?: LiveContext,
): PlayRequest {
  const base = {
    volume: slot.volume,
    gainDb: slot.gainDb,
    label: slot.id,
    // An emergency's chime and audio may take the decoder kept waiting for them.
    ...(slot.priorityClass === 'emergency' ? { urgent: true } : {}),
  };
  const length = Math.max(1, slot.end - slot.start);
  if (slot.tone?.steps)
    // A routine: unity gain, each step at its own level and channel.
    return {
      volume: 100,
      gainDb: 0,
      label: slot.id,
      source: {
        kind: 'tone',
        frequencyHz: slot.tone.frequencyHz,
        durationMs: length,
        steps: slot.tone.steps.map((t) => ({
          frequencyHz: t.frequencyHz,
          durationMs: t.durationMs,
          levelDbfs: t.levelDbfs,
          channel: t.channel,
        })),
      },
    };
  if (slot.tone)
    return { ...base, source: { kind: 'tone', frequencyHz: slot.tone.frequencyHz, durationMs: length } };
  if (
    slot.kind === 'item' &&
    live &&
    (slot.item.kind === 'fm' || (slot.item.kind === 'stream' && slot.item.url))
  )
    return { ...base, source: liveSource(slot.item, length, streamRelay, live) };
  if (slot.kind === 'item' && slot.item.kind === 'stream' && slot.item.url) {
    const src: PlayRequest['source'] = { kind: 'stream', url: slot.item.url, durationMs: length };
    if (streamRelay) src.relay = streamRelay;
    return { ...base, source: src };
  }
  const full = slot.kind === 'chime' ? undefined : (slot.item.durationMs ?? probedMs);
  return {
    ...base,
    source: {
      kind: 'file',
      path: slot.file ?? '',
      offsetMs: slot.offsetMs,
      ...(full !== undefined ? { durationMs: full } : {}),
    },
  };
}

/** What a live item's relay needs from the station: its FM module, its bundle's blobs, an alert. */
export interface LiveContext {
  fm?: FmControl;
  /** The directory of the item's bundle blobs (fallback recordings). */
  blobDir?: string;
  onSilence?: (reason: string) => void;
}

/**
 * A live item (stream or FM) as the audio driver plays it: its primary source and the item's
 * fallback chain (FM via the station's module, a cached recording), or the station's configured
 * fallback when the item names none; normalised on the fly unless the item says otherwise.
 */
export function liveSource(
  item: Item,
  durationMs: number,
  station: StreamRelayOptions | undefined,
  live: LiveContext,
): PlayRequest['source'] {
  const fm = live.fm;
  let tuned = false;
  const fmStep = (mhz: number, level?: number): RelayStep => ({
    kind: 'input',
    input: 'fm',
    prepare: async () => {
      if (!fm) throw new LoaError('FM_UNAVAILABLE', 'this station has no FM module');
      tuned = true;
      await fm.tune(mhz, level);
    },
  });
  const primary: RelayStep =
    item.kind === 'fm' && item.fm
      ? fmStep(item.fm.frequencyMHz, item.fm.level)
      : { kind: 'stream', url: item.url ?? '', ...(item.format ? { format: item.format } : {}) };
  const relay: StreamRelayOptions = { ...(station ?? {}) };
  delete relay.fallback;
  const chain: RelayStep[] = [];
  if (item.relay?.fallback) {
    for (const f of item.relay.fallback) {
      if (f.type === 'fm') chain.push(fmStep(f.frequencyMHz));
      else if (live.blobDir)
        chain.push({ kind: 'file', path: `${live.blobDir.replace(/\/+$/, '')}/${f.blob.sha256}` });
    }
  } else if (station?.fallback) {
    chain.push(station.fallback);
  }
  relay.chain = chain;
  if (item.relay?.failoverMs !== undefined) relay.failoverMs = item.relay.failoverMs;
  relay.normalize = item.relay?.normalize ?? true;
  if (live.onSilence) relay.onSilence = live.onSilence;
  relay.release = async () => {
    if (tuned && fm) await fm.release();
  };
  return { kind: 'live', primary, durationMs, relay };
}

/** The player's status: the slot on air (since when, its live levels), the next one, held items. */
export function playerStatus(
  cur: { slot: Slot; since: number; levels: Levels; source?: { name: string; reason?: string } } | undefined,
  plan: Timeline,
  volume: number,
  deadAir: boolean,
): PlayerStatus {
  let onAir: OnAirInfo | null = null;
  if (cur) {
    const lv = cur.levels;
    onAir = {
      kind: cur.slot.kind === 'chime' ? 'chime' : cur.slot.tone ? 'tone' : cur.slot.item.kind,
      itemId: cur.slot.item.id,
      since: new Date(cur.since).toISOString(),
    };
    if (cur.slot.bundleId) onAir.bundleId = cur.slot.bundleId;
    if (cur.source) {
      onAir.source = cur.source.name;
      if (cur.source.reason) onAir.sourceReason = cur.source.reason.slice(0, 200);
    }
    if (lv.momentaryLufs !== undefined) onAir.momentaryLufs = clampDb(lv.momentaryLufs)!;
    if (lv.peakDbfs !== undefined) onAir.peakDbfs = clampDb(lv.peakDbfs)!;
  }
  const next = plan.slots.find((s) => s.output === 'audio' && !(cur && s.itemKey === cur.slot.itemKey));
  const out: PlayerStatus = { onAir, volume, held: plan.held.filter((h) => !h.final), deadAir };
  if (next)
    out.nextSlot = {
      id: next.id,
      itemKey: next.itemKey,
      start: next.start,
      priorityClass: next.priorityClass,
      itemId: next.item.id,
    };
  return out;
}
