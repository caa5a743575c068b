/**
 * Staged rollout of an agent release (pure): a few stations first (canary), then one unit, then
 * every targeted station; each stage only once every station of the stages before it runs the
 * release and has reported ready ('playing'), and never after a failure (the rollout halts).
 */
import { LoaError } from '@loa/protocol';
import type { RolloutEntry } from './rollout.js';

export const RELEASE_STAGES = ['canary', 'unit', 'all'] as const;
export type ReleaseStage = (typeof RELEASE_STAGES)[number];

export interface StageRecord {
  stage: ReleaseStage;
  devices: string[];
  unit?: string;
  at: string;
  by: string;
}

export interface HaltRecord {
  /** The station whose failure halted the rollout; absent when a person halted it. */
  deviceId?: string;
  reason: string;
  at: string;
  /** Who halted it by hand (user id). */
  by?: string;
}

/** Throws ROLLOUT_HALTED or ROLLOUT_STAGE_ORDER when `stage` may not start now. */
export function checkStageAllowed(
  stage: ReleaseStage,
  done: readonly StageRecord[],
  entries: readonly RolloutEntry[],
  halted: HaltRecord | undefined,
): void {
  if (halted)
    throw new LoaError(
      'ROLLOUT_HALTED',
      halted.deviceId
        ? `Đợt triển khai đã dừng: trạm ${halted.deviceId} báo lỗi ${halted.reason}`
        : `Đợt triển khai đã bị dừng: ${halted.reason}`,
      { details: { ...halted } },
    );
  const idx = RELEASE_STAGES.indexOf(stage);
  const before = RELEASE_STAGES.slice(0, idx);
  for (const s of before)
    if (!done.some((d) => d.stage === s))
      throw new LoaError('ROLLOUT_STAGE_ORDER', `Cần triển khai bước "${s}" trước bước "${stage}"`);
  const state = new Map(entries.map((e) => [e.deviceId, e.state] as const));
  const waiting = done
    .filter((d) => before.includes(d.stage))
    .flatMap((d) => d.devices)
    .filter((id) => state.get(id) !== 'playing');
  if (waiting.length > 0)
    throw new LoaError(
      'ROLLOUT_STAGE_ORDER',
      `${waiting.length} trạm của bước trước chưa chạy phiên bản mới (${waiting.slice(0, 5).join(', ')})`,
      { details: { waiting } },
    );
}

/** Canary stations: the given ones, else the first `count` by id, online ones first. */
export function pickCanaries(
  candidates: readonly { id: string; online: boolean }[],
  count: number,
  chosen?: readonly string[],
): string[] {
  if (chosen?.length) return candidates.filter((c) => chosen.includes(c.id)).map((c) => c.id);
  return [...candidates]
    .sort((a, b) => Number(b.online) - Number(a.online) || a.id.localeCompare(b.id))
    .slice(0, count)
    .map((c) => c.id);
}
