/**
 * What the player proves: a `started` proof when an item's sound comes out, its end
 * (`completed`, `interrupted`, `failed`, with the loudness and peak measured on the output and a
 * relay's source switches), `skipped` for items held past their time; each with the relay state
 * read back from the pins and the clock's trust. Recording never throws: a proof that cannot be
 * written is logged (PROOF_RECORD_FAILED).
 */
import type { RelayState } from '@loa/protocol';
import type { Logger } from 'pino';
import type { Held, Slot } from '../../domain/scheduler/types.js';
import type { PlayResult } from '../../drivers/audio/types.js';
import { clampDb } from './player-items.js';
import type { ProofDraft, ProofSink } from './ports.js';

interface ProofContext {
  relays: RelayState;
  clockTrusted: boolean;
}

function slotDraft(
  slot: Slot,
  outcome: ProofDraft['outcome'],
  ctx: ProofContext,
  startedAt: number,
  endedAt?: number,
): ProofDraft {
  const d: ProofDraft = {
    outcome,
    itemId: slot.item.id,
    entryId: slot.entryId,
    priority: slot.priorityClass,
    scheduledAt: new Date(slot.scheduledAt).toISOString(),
    startedAt: new Date(startedAt).toISOString(),
    relays: ctx.relays,
    clockTrusted: ctx.clockTrusted,
  };
  if (endedAt !== undefined) d.endedAt = new Date(endedAt).toISOString();
  if (slot.bundleId) d.bundleId = slot.bundleId;
  if (slot.channel) d.channel = slot.channel;
  if (slot.bundleVersion) d.bundleVersion = slot.bundleVersion;
  if (slot.contentSha256) d.contentSha256 = slot.contentSha256;
  return d;
}

function skippedDraft(h: Held, ctx: ProofContext): ProofDraft {
  const d: ProofDraft = {
    outcome: 'skipped',
    itemId: h.itemId,
    entryId: h.entryId,
    priority: h.priorityClass,
    scheduledAt: new Date(h.scheduledAt).toISOString(),
    reason: h.reason === 'too-late' ? 'too late: held past maxLateMs' : `not played: ${h.reason}`,
    relays: ctx.relays,
    clockTrusted: ctx.clockTrusted,
  };
  if (h.bundleId) d.bundleId = h.bundleId;
  return d;
}

export class PlayerProofs {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly sink: ProofSink,
    private readonly log: Logger,
    /** The relays and the clock's trust now. */
    private readonly context: () => ProofContext,
  ) {}

  /** The item's sound came out at `since`. */
  started(slot: Slot, since: number): void {
    this.record(slotDraft(slot, 'started', this.context(), since));
  }

  /**
   * The item ended: its outcome, what was measured on the output and, for a relay, the source
   * switches (timed from `requestedAt`, when play() was called).
   */
  ended(
    slot: Slot,
    outcome: ProofDraft['outcome'],
    reason: string | undefined,
    r: PlayResult,
    at: { since: number; now: number; requestedAt?: number | undefined },
  ): void {
    const draft = slotDraft(slot, outcome, this.context(), at.since, at.now);
    if (reason) draft.reason = reason;
    if (r.relay?.switches.length && at.requestedAt !== undefined) {
      const t0 = at.requestedAt;
      draft.switches = r.relay.switches.map((x) => ({
        at: new Date(t0 + x.atMs).toISOString(),
        to: x.to,
        reason: x.reason,
      }));
    }
    const lufs = clampDb(r.loudnessLufs);
    const peak = clampDb(r.peakDbfs);
    if (lufs !== undefined) draft.loudnessLufs = lufs;
    if (peak !== undefined) draft.peakDbfs = peak;
    this.record(draft);
  }

  skipped(h: Held): void {
    this.record(skippedDraft(h, this.context()));
  }

  /** Resolves once every proof asked for is written (or has failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private record(draft: ProofDraft): void {
    const p = this.sink.record(draft).catch((err: unknown) => {
      this.log.error(
        { err, code: 'PROOF_RECORD_FAILED', outcome: draft.outcome, item: draft.itemId },
        'proof not recorded',
      );
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
