/**
 * Inputs and outputs of the scheduler: a pure function of (bundles, station policy, now, state)
 * that expands the bundles' schedule rules into a deterministic timeline of slots.
 */
import type { Choices, Item, Manifest, QuietHours } from '@loa/protocol';
import type { ToneStep } from '../output-profile.js';

/**
 * A test tone instead of a file: a plain tone (at the station's volume), or a technician's
 * routine of tones (`steps`) played at unity gain, so the line output carries the levels the
 * technician was told.
 */
export interface ToneSpec {
  frequencyHz: number;
  steps?: readonly ToneStep[];
}

/** Priority classes, highest first. */
export const PRIORITY_CLASSES = ['emergency', 'live', 'priority', 'normal', 'fill'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

/** Where a slot plays: the loudspeakers, or (later) the noticeboard's screen. */
export type SlotOutput = 'audio' | 'display';

/**
 * A bundle as the planner sees it: its verified manifest, where its blobs are and when it was
 * activated (the bundle store hands these over, see services/content/bundle-store.ts).
 */
export interface PlanBundle {
  manifest: Manifest;
  /** Directory holding `<sha256>` blob files. */
  blobDir: string;
  /** When the station activated it (ms since epoch); "immediate" entries are due then. */
  activatedAt: number;
}

/** A volume rule for a local time window ("HH:MM" in the station's UTC offset). */
export interface VolumeWindow {
  start: string;
  end: string;
  /** 0..100 */
  volume: number;
}

export interface StationPolicy {
  /** UTC offset for quiet hours and volume windows; default +07:00. Bundles use their own. */
  utcOffset?: string;
  /** Station quiet hours (added to each bundle's own quiet hours). */
  quietHours?: QuietHours[];
  /** Default station volume 0..100; default 80. */
  volume?: number;
  volumeWindows?: VolumeWindow[];
  /** Duration when an item carries none and none was probed; default 60 s. */
  defaultItemMs?: number;
  /** Cap for a stream without durationMs; default 30 min. */
  defaultStreamMs?: number;
  /** A late item still plays up to this long after its due time; later it is skipped. Default 15 min. */
  maxLateMs?: number;
  /**
   * Attention chime before emergencies (and items with chime: true): an audio file, or a tone the
   * player generates; it takes durationMs. Absent: no chime slot.
   */
  chime?: { path?: string; tone?: ToneSpec; durationMs: number };
  /** Amplifier warm-up: slots carry this lead so audio starts on time. Default 2000. */
  warmupMs?: number;
}

/** What is playing now, so a re-plan keeps it or interrupts it. */
export interface OnAir {
  slotId: string;
  /** The slot's item key (occurrence + item index), see {@link Slot.itemKey}. */
  itemKey: string;
  startedAt: number;
  /** Source offset the playback started at. */
  offsetMs: number;
}

export interface ScheduleInput {
  bundles: readonly PlanBundle[];
  policy: StationPolicy;
  /** Trusted time now, ms since epoch. */
  now: number;
  /** Plan this far ahead (ms). */
  horizonMs: number;
  /** Until the clock is trusted only emergencies are planned; the rest is held. */
  clockTrusted: boolean;
  /** Earliest instant audio can come out (now + warm-up when the amplifier is off). Default now. */
  readyAt?: number;
  /**
   * Items already played (completed, failed or skipped), never planned again: item key → when it
   * ended (ms). The next repetition of its entry waits the repeat gap from that instant.
   */
  done?: ReadonlyMap<string, number>;
  /** Interrupted items waiting to resume: item key → source position reached (ms). */
  partial?: ReadonlyMap<string, number>;
  onAir?: OnAir;
  /** Probed durations by blob sha256 (ms), used when an item has no durationMs. */
  durationsMs?: ReadonlyMap<string, number>;
  /** Manual station volume (command "volume"), replaces the policy's windows. */
  volumeOverride?: number;
  /** Items not from a schedule: play-now commands and test tones. */
  adhoc?: readonly AdhocItem[];
  /**
   * The verified programme choices of the station's unit and its ancestors (protocol `loa-choices`):
   * normal items of upper-level bundles they opt out of are not planned (held as 'opted-out'), and
   * their quiet hours are added to the station's.
   */
  choices?: readonly StationChoices[];
}

/** What the scheduler takes of a verified choices document. */
export type StationChoices = Pick<Choices, 'unit' | 'version' | 'optOut' | 'quietHours' | 'utcOffset'>;

/** An item to play outside the bundles' schedules (command play-now, test tone). */
export interface AdhocItem {
  /** Unique key (e.g. `cmd/<command id>`); becomes the slot's itemKey. */
  key: string;
  item: Item;
  priorityClass: PriorityClass;
  due: number;
  /** Audio file (play-now of a bundle item). */
  file?: string;
  /** A test tone instead of a file. */
  tone?: ToneSpec;
  bundleId?: string;
  channel?: string;
  bundleVersion?: number;
  /** Why it plays (the command id). */
  entryId: string;
  volume?: number;
  zones?: string[];
  /**
   * A signal for the person standing at the station (a USB stick's confirmation, the technician
   * page's test tone): it plays now or never, whether or not the clock is trusted yet and whatever
   * the quiet hours say (a clock that is not trusted cannot tell them, and a confirmation heard
   * hours later confirms nothing). It still yields to an emergency, and its proof still says
   * whether the clock was trusted.
   */
  local?: boolean;
}

export interface Slot {
  /** Deterministic id: itemKey plus a part suffix for resumed/restarted parts and chimes. */
  id: string;
  /** Occurrence key + item index: `${channel}/${entryId}/${dueIso}/r${rep}/i${index}`. */
  itemKey: string;
  output: SlotOutput;
  /** 'item' plays the item; 'chime' plays the attention chime before it. */
  kind: 'item' | 'chime';
  priorityClass: PriorityClass;
  /** ms since epoch */
  start: number;
  end: number;
  /** Call the output gate this long before start so audio starts on time. */
  leadMs: number;
  /** When the occurrence was due (for proofs' scheduledAt). */
  scheduledAt: number;
  /** Source offset to start from (resume). */
  offsetMs: number;
  bundleId?: string;
  channel?: string;
  bundleVersion?: number;
  entryId: string;
  item: Item;
  /** Blob file for audio/image/video items (or the chime file). */
  file?: string;
  contentSha256?: string;
  volume: number;
  gainDb: number;
  zones?: string[];
  repeatIndex: number;
  repeatCount: number;
  /** A test tone instead of a file. */
  tone?: ToneSpec;
  /** Set on a slot that the next higher-priority slot cuts short. */
  interruptedBy?: string;
}

export type HoldReason =
  | 'quiet-hours'
  | 'clock-untrusted'
  | 'too-late'
  | 'not-yet-valid'
  | 'expired'
  | 'opted-out';

/** An item that is due (or soon) but will not play, and why. */
export interface Held {
  itemKey: string;
  bundleId?: string;
  entryId: string;
  itemId: string;
  priorityClass: PriorityClass;
  scheduledAt: number;
  reason: HoldReason;
  /** 'too-late' items are final: the player records them as skipped. */
  final: boolean;
}

export interface Timeline {
  computedAt: number;
  slots: Slot[];
  held: Held[];
}
