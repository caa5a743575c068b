/** The shapes of the effectiveness report and its inputs (see effectiveness.ts). */
import type { AlertRecord, BundleRecord, DeviceRecord, UnitRecord } from '../model.js';
import type { TrainingFigures } from '../staff.js';
import type { ProofFold } from './fold.js';
import type { Period } from './period.js';
import type { Output } from './plan.js';
import type { PresenceFold } from './uptime.js';

export const REPORT_DEFAULTS = {
  /** An alert shorter than this is start-up or transient noise, not a fault (listed apart). */
  faultMinMs: 5 * 60_000,
  /** Stations listed per missed essential item (the count is always whole). */
  missedListMax: 50,
};

export interface OutputFigures {
  planned: number;
  /** Played (audio) or displayed (display). */
  done: number;
  /** done / planned, or null when nothing was planned. */
  rate: number | null;
}

export interface UnitFigures {
  unit: string;
  unitName: string;
  stations: number;
  noticeboards: number;
  audio: OutputFigures;
  display: OutputFigures;
  essential: { targeted: number; reached: number; share: number | null };
  uptime: {
    knownHours: number;
    onlineHours: number;
    uptime: number | null;
    outages: number;
    longestOutageMinutes: number;
  };
  completedPlays: number;
  failedPlays: number;
  interruptedPlays: number;
  faults: number;
  briefAlerts: number;
  deadAirMinutes: number;
}

export interface DailyRow {
  day: string;
  unit: string;
  unitName: string;
  output: Output;
  outputName: string;
  planned: number;
  done: number;
}

export interface EssentialItem {
  bundleId: string;
  entryId: string | null;
  title: string;
  priority: 'priority' | 'emergency';
  priorityName: string;
  /** The slot (scheduled) or the publication (emergency). */
  at: string;
  targeted: number;
  reached: number;
  missedCount: number;
  missed: { deviceId: string; name: string; unit: string }[];
}

export interface AirtimeRow {
  key: string;
  name: string;
  minutes: number;
  plays: number;
}

export interface FaultRow {
  rule: string;
  name: string;
  /** Alerts that lasted at least the fault threshold. */
  faults: number;
  /** Shorter ones (start-up and transient noise). */
  brief: number;
  openMinutes: number;
}

/** A hook for the citizens' feedback figures (received and answered in the period), when present. */
export interface FeedbackFigures {
  received: number;
  answered: number;
  source: string;
}

export interface EffectivenessReport {
  unit: string;
  unitName: string;
  period: { from: string; to: string; name: string };
  generatedAt: string;
  totals: UnitFigures;
  units: UnitFigures[];
  daily: DailyRow[];
  essential: { targeted: number; reached: number; share: number | null; items: EssentialItem[] };
  airtime: { byCategory: AirtimeRow[]; byLanguage: AirtimeRow[] };
  faults: FaultRow[];
  feedback: FeedbackFigures | null;
  /** Staff trained (the staff and training register), when the store holds one. */
  training: TrainingFigures | null;
}

/** What a report adds up day by day (`EffectivenessBuilder`): everything but proofs and presence. */
export type EffectivenessDayInput = Omit<EffectivenessInput, 'proofs' | 'presence'>;

export interface EffectivenessInput {
  unit: string;
  period: Period;
  units: ReadonlyMap<string, UnitRecord>;
  /** Devices in scope (any status: only active ones are planned for). */
  devices: readonly DeviceRecord[];
  bundles: readonly BundleRecord[];
  proofs: readonly ProofFold[];
  presence: readonly PresenceFold[];
  alerts: readonly AlertRecord[];
  nowMs: number;
  /** The row a device's unit is counted in (default: its own unit). */
  groupOf?: (deviceUnit: string) => string;
  feedback?: FeedbackFigures | null;
  training?: TrainingFigures | null;
  faultMinMs?: number;
  missedListMax?: number;
  /** Leave out the per-day rows (long periods). */
  daily?: boolean;
}
