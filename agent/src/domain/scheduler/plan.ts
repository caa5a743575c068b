/**
 * The scheduler: a pure, deterministic function of (bundles, policy, now, state) → timeline.
 *
 * Each output lane (audio; display for noticeboards) is simulated from `now`: at every instant
 * the highest-priority ready job plays its next step. Emergencies cut into anything at once (a
 * chime first when configured); any scheduled item cuts into filler; other classes wait for the
 * current item to end. An interrupted item resumes, restarts or is skipped as its `onInterrupt`
 * says. Quiet hours and an untrusted clock hold everything but emergencies; an item later than
 * maxLateMs is skipped; no slot runs past its validity.
 */

import { isLiveItem } from '@loa/protocol';
import { slotVolume } from '../volume.js';
import { DEFAULTS, expandBundles, type Job, type OptedOutStep, RANK, type Step } from './expand.js';
import {
  DAY_MS,
  dailyWindows,
  firstOverlap,
  type Interval,
  intervalAt,
  mergeIntervals,
  offsetMinutes,
} from './local-time.js';
import type { Held, HoldReason, ScheduleInput, Slot, SlotOutput, Timeline } from './types.js';

interface Run {
  job: Job;
  stepIdx: number;
  offset: number;
  started: boolean;
  readyAt: number;
  removed: boolean;
  heldReason?: HoldReason;
  parts: number;
  chimed: boolean;
}

interface LaneCtx {
  input: ScheduleInput;
  lane: SlotOutput;
  quiet: Interval[];
  maxLate: number;
  to: number;
  slots: Slot[];
  held: Held[];
}

const MIN_TRUNCATED_MS = 1000;

function quietIntervals(input: ScheduleInput, from: number, to: number): Interval[] {
  const lists: Interval[] = [];
  const station = input.policy.quietHours ?? [];
  if (station.length) lists.push(...dailyWindows(station, offsetMinutes(input.policy.utcOffset), from, to));
  for (const c of input.choices ?? [])
    if (c.quietHours.length) lists.push(...dailyWindows(c.quietHours, offsetMinutes(c.utcOffset), from, to));
  for (const b of input.bundles) {
    const q = b.manifest.quietHours ?? [];
    if (q.length) lists.push(...dailyWindows(q, offsetMinutes(b.manifest.utcOffset), from, to));
  }
  return mergeIntervals(lists);
}

function hold(ctx: LaneCtx, r: Run, reason: HoldReason, final: boolean, onlyCurrentStep = false): void {
  const steps = onlyCurrentStep ? [r.job.steps[r.stepIdx]] : r.job.steps.slice(r.stepIdx);
  for (const s of steps) {
    if (!s) continue;
    const h: Held = {
      itemKey: s.itemKey,
      entryId: r.job.entryId,
      itemId: s.item.id,
      priorityClass: r.job.cls,
      scheduledAt: r.job.due,
      reason,
      final,
    };
    if (r.job.bundleId !== undefined) h.bundleId = r.job.bundleId;
    ctx.held.push(h);
  }
}

function advance(r: Run, end: number): void {
  r.stepIdx++;
  r.offset = 0;
  r.parts = 0;
  r.chimed = false;
  const next = r.job.steps[r.stepIdx];
  if (next) r.readyAt = end + next.gapBeforeMs;
}

function wantsChime(ctx: LaneCtx, step: Step): number {
  const chime = ctx.input.policy.chime;
  if (ctx.lane !== 'audio' || !chime) return 0;
  return (step.item.chime ?? step.item.priority === 'emergency') ? chime.durationMs : 0;
}

function makeSlot(
  ctx: LaneCtx,
  r: Run,
  step: Step,
  kind: 'item' | 'chime',
  start: number,
  end: number,
  leadMs: number,
): Slot {
  const job = r.job;
  const chime = ctx.input.policy.chime;
  const slot: Slot = {
    id:
      kind === 'chime'
        ? `${step.itemKey}~chime`
        : r.parts === 0
          ? step.itemKey
          : `${step.itemKey}#p${r.parts}`,
    itemKey: step.itemKey,
    output: ctx.lane,
    kind,
    priorityClass: job.cls,
    start,
    end,
    leadMs,
    scheduledAt: job.due,
    offsetMs: kind === 'chime' ? 0 : r.offset,
    entryId: job.entryId,
    item: step.item,
    volume: slotVolume({
      policy: ctx.input.policy,
      at: start,
      ...(job.volume !== undefined ? { entryVolume: job.volume } : {}),
      ...(ctx.input.volumeOverride !== undefined ? { override: ctx.input.volumeOverride } : {}),
      emergency: job.cls === 'emergency',
    }),
    gainDb: kind === 'chime' ? 0 : (step.item.gainDb ?? 0),
    repeatIndex: step.rep,
    repeatCount: job.repeatCount,
  };
  if (job.bundleId !== undefined) slot.bundleId = job.bundleId;
  if (job.channel !== undefined) slot.channel = job.channel;
  if (job.bundleVersion !== undefined) slot.bundleVersion = job.bundleVersion;
  if (job.zones) slot.zones = [...job.zones];
  if (kind === 'chime' && chime) {
    if (chime.path) slot.file = chime.path;
    else if (chime.tone) slot.tone = chime.tone;
  }
  if (kind === 'item') {
    if (step.file) slot.file = step.file;
    if (step.sha) slot.contentSha256 = step.sha;
    if (step.tone) slot.tone = step.tone;
  }
  return slot;
}

function canPreempt(k: Run, r: Run): boolean {
  if (RANK[k.job.cls] <= RANK[r.job.cls]) return false;
  return k.job.cls === 'emergency' || r.job.cls === 'fill';
}

function planLane(ctx: LaneCtx, jobs: Job[]): void {
  const { input } = ctx;
  const now = input.now;
  const done = input.done ?? new Map<string, number>();
  const runs: Run[] = [];
  let onAirRun: Run | undefined;
  for (const job of jobs) {
    const r: Run = {
      job,
      stepIdx: 0,
      offset: 0,
      started: false,
      readyAt: job.due,
      removed: false,
      parts: 0,
      chimed: false,
    };
    let doneAt: number | undefined;
    while (r.stepIdx < job.steps.length && done.has(job.steps[r.stepIdx]!.itemKey)) {
      doneAt = done.get(job.steps[r.stepIdx]!.itemKey);
      r.stepIdx++;
      r.started = true;
    }
    // The next repetition waits its gap from when the previous one really ended.
    const gap = job.steps[r.stepIdx]?.gapBeforeMs ?? 0;
    if (doneAt !== undefined && gap > 0) r.readyAt = Math.max(r.readyAt, doneAt + gap);
    if (input.onAir) {
      const idx = job.steps.findIndex((s) => s.itemKey === input.onAir?.itemKey);
      if (idx >= r.stepIdx) {
        r.stepIdx = idx;
        r.offset = input.onAir.offsetMs + Math.max(0, now - input.onAir.startedAt);
        r.started = true;
        r.chimed = true;
        r.readyAt = Math.min(r.readyAt, now);
        onAirRun = r;
      }
    }
    const cur = job.steps[r.stepIdx];
    const partial = cur && r !== onAirRun ? input.partial?.get(cur.itemKey) : undefined;
    if (partial !== undefined) {
      r.offset = partial;
      r.started = true;
      r.chimed = true;
    }
    if (r.stepIdx < job.steps.length) runs.push(r);
  }

  let t = onAirRun || ctx.lane !== 'audio' ? now : Math.max(now, input.readyAt ?? now);
  let current = onAirRun;
  let prevEnd = onAirRun ? now : Number.NEGATIVE_INFINITY;
  const warmup = input.policy.warmupMs ?? DEFAULTS.warmupMs;
  const allowedAt = (r: Run, at: number): 'ok' | 'clock' | 'quiet' => {
    if (r.job.cls === 'emergency' || r.job.local || ctx.lane !== 'audio') return 'ok';
    if (!input.clockTrusted) return 'clock';
    return intervalAt(ctx.quiet, at) ? 'quiet' : 'ok';
  };
  const readyTime = (r: Run) => Math.max(r.job.due, r.readyAt);

  for (let guard = 0; guard < 100_000 && t < ctx.to; guard++) {
    const active = runs.filter((r) => !r.removed && r.stepIdx < r.job.steps.length);
    if (active.length === 0) break;
    let changed = false;
    for (const r of active) {
      if (readyTime(r) > t) continue;
      const why = allowedAt(r, t);
      if (why === 'clock') {
        hold(ctx, r, 'clock-untrusted', false);
        r.removed = true;
        changed = true;
      } else if (!r.started && t > r.job.due + ctx.maxLate) {
        hold(ctx, r, 'too-late', true);
        r.removed = true;
        changed = true;
      } else if (why === 'quiet') {
        r.readyAt = intervalAt(ctx.quiet, t)!.end;
        r.heldReason = 'quiet-hours';
        changed = true;
      }
    }
    if (changed) continue;
    // An emergency that has begun owns the output through its repeat gaps.
    const owning = active.some((r) => r.started && r.job.cls === 'emergency' && readyTime(r) > t);
    const ready = active.filter((r) => readyTime(r) <= t && (!owning || r.job.cls === 'emergency'));
    ready.sort(
      (a, b) =>
        RANK[b.job.cls] - RANK[a.job.cls] ||
        (a === current ? -1 : b === current ? 1 : 0) ||
        a.job.due - b.job.due ||
        (a.job.key < b.job.key ? -1 : a.job.key > b.job.key ? 1 : 0),
    );
    // The item on air keeps playing unless a job that may cut in is ready.
    const keepOnAir =
      onAirRun !== undefined &&
      onAirRun.stepIdx < onAirRun.job.steps.length &&
      ready.includes(onAirRun) &&
      !ready.some((k) => canPreempt(k, onAirRun!));
    const r = keepOnAir ? onAirRun : ready[0];
    onAirRun = undefined;
    if (!r) {
      const next = Math.min(...active.map(readyTime).filter((x) => x > t));
      if (!Number.isFinite(next) || next >= ctx.to) break;
      t = next;
      continue;
    }
    const step = r.job.steps[r.stepIdx]!;
    const remaining = step.durationMs - r.offset;
    if (remaining <= 0) {
      advance(r, t);
      continue;
    }
    const chimeMs = r.chimed ? 0 : wantsChime(ctx, step);
    let end = t + chimeMs + remaining;
    let truncated = false;
    if (ctx.lane === 'audio' && r.job.cls !== 'emergency' && !r.job.local) {
      const q = firstOverlap(ctx.quiet, t, end);
      if (q) {
        if (isLiveItem(step.item) && q.start - t - chimeMs >= MIN_TRUNCATED_MS) {
          end = q.start;
          truncated = true;
        } else {
          r.readyAt = q.end;
          r.heldReason = 'quiet-hours';
          continue;
        }
      }
    }
    if (end > r.job.validUntil) {
      if (isLiveItem(step.item) && r.job.validUntil - t - chimeMs >= MIN_TRUNCATED_MS) {
        end = r.job.validUntil;
        truncated = true;
      } else {
        hold(ctx, r, 'expired', true, true);
        advance(r, t);
        continue;
      }
    }
    r.heldReason = undefined;
    r.started = true;
    if (chimeMs > 0) {
      ctx.slots.push(makeSlot(ctx, r, step, 'chime', t, t + chimeMs, t === prevEnd ? 0 : warmup));
      prevEnd = t + chimeMs;
      t += chimeMs;
      r.chimed = true;
    }
    // The earliest instant a job that may cut in becomes ready while this item plays.
    let cut: { at: number; by: Run } | undefined;
    for (const k of active) {
      if (k === r || !canPreempt(k, r)) continue;
      const at = readyTime(k);
      if (at <= t || at >= end) continue;
      if (allowedAt(k, at) !== 'ok') continue;
      if (!cut || at < cut.at || (at === cut.at && k.job.key < cut.by.job.key)) cut = { at, by: k };
    }
    const slotEnd = cut ? cut.at : end;
    const slot = makeSlot(ctx, r, step, 'item', t, slotEnd, t === prevEnd ? 0 : warmup);
    r.parts++;
    prevEnd = slotEnd;
    current = r;
    if (cut) {
      slot.interruptedBy = cut.by.job.steps[cut.by.stepIdx]?.itemKey ?? cut.by.job.key;
      ctx.slots.push(slot);
      const mode = step.item.onInterrupt ?? (r.job.cls === 'fill' ? 'skip' : 'resume');
      if (mode === 'resume') r.offset += slotEnd - t;
      else if (mode === 'restart') {
        r.offset = 0;
        r.chimed = false;
      } else advance(r, slotEnd);
    } else {
      ctx.slots.push(slot);
      if (truncated) r.offset = step.durationMs;
      advance(r, slotEnd);
    }
    t = slotEnd;
  }
  for (const r of runs) {
    if (!r.removed && r.heldReason && r.stepIdx < r.job.steps.length) hold(ctx, r, r.heldReason, false);
  }
}

export function schedule(input: ScheduleInput): Timeline {
  const maxLate = input.policy.maxLateMs ?? DEFAULTS.maxLateMs;
  const from = input.now - 2 * maxLate;
  const to = input.now + input.horizonMs;
  const optedOut: OptedOutStep[] = [];
  const jobs = expandBundles(input, from, to, optedOut);
  const quiet = quietIntervals(input, from - DAY_MS, to + 2 * DAY_MS);
  const slots: Slot[] = [];
  // Opted-out items are final once due (the player records them as skipped, once); later ones are
  // listed so the station can say what it will leave out.
  const held: Held[] = optedOut.map((o) => ({
    itemKey: o.itemKey,
    bundleId: o.bundleId,
    entryId: o.entryId,
    itemId: o.item.id,
    priorityClass: o.cls,
    scheduledAt: o.due,
    reason: 'opted-out' as const,
    final: o.due <= input.now,
  }));
  for (const lane of ['audio', 'display'] as const) {
    planLane(
      { input, lane, quiet, maxLate, to, slots, held },
      jobs.filter((j) => j.lane === lane),
    );
  }
  slots.sort((a, b) => a.start - b.start || (a.output < b.output ? -1 : a.output > b.output ? 1 : 0));
  return { computedAt: input.now, slots, held };
}
