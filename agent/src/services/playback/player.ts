/**
 * The player runs the scheduler's timeline: before a slot it asks the output gate (amplifier,
 * zones) to be ready, starts the audio at the slot's start, records proofs (started, completed,
 * interrupted, failed, skipped) with the measured loudness and peak, the relay state and clock
 * trust, and re-plans whenever something changes. An emergency cuts in at once: the item on air
 * is stopped, recorded as interrupted, and resumed, restarted or skipped afterwards as its rule
 * says. Display slots (noticeboards) are planned but not played here.
 */
import { globalTimers, isLiveItem, LoaError, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { ToneStep } from '../../domain/output-profile.js';
import { schedule } from '../../domain/scheduler/plan.js';
import type {
  AdhocItem,
  Held,
  PlanBundle,
  Slot,
  StationChoices,
  StationPolicy,
  Timeline,
} from '../../domain/scheduler/types.js';
import { nextVolumeChange } from '../../domain/volume.js';
import type {
  AudioDriver,
  Playback,
  PlayRequest,
  PlayResult,
  StreamRelayOptions,
} from '../../drivers/audio/types.js';
import { DurationProbe } from './player-durations.js';
import {
  itemOutcome,
  type PlayerStatus,
  playerStatus,
  playNowItem,
  playRequest,
  testToneItem,
  toneRoutineItem,
} from './player-items.js';
import { StartLatency } from './player-latency.js';
import { PlayerProofs } from './player-proofs.js';
import { EmergencyDecoder } from './player-spare.js';
import { PlayerState } from './player-state.js';
import type { FmControl, OutputGate, PlayerClock, ProgrammeSource, ProofSink } from './ports.js';

export interface PlayerOptions {
  /** The programme: the player plays what its source holds and re-plans when it changes. */
  programme?: ProgrammeSource;
  audio: AudioDriver;
  gate: OutputGate;
  proofs: ProofSink;
  clock: PlayerClock;
  logger: Logger;
  policy: StationPolicy;
  /** Plan this far ahead; default 24 h. */
  horizonMs?: number;
  timers?: Timers;
  /** Live relays: reconnect/fallback settings (fallback: a cached file or the FM/line capture input). */
  streamRelay?: StreamRelayOptions;
  /** Persist played/interrupted item keys here (JSON, fsync'd) so a restart does not replay them. */
  stateFile?: string;
  /** Probe an audio file's length (ms) when its item carries no durationMs (real driver: ffprobe). */
  probeDurationMs?: (path: string) => Promise<number | undefined>;
  /**
   * Start audio this much before the slot to absorb the output's start-up latency; 'auto'
   * (default) learns it from the playbacks (moving average of how late held starts came out),
   * keeps it in the state file, and starts from the one learnt before the last restart.
   */
  startLatencyMs?: number | 'auto';
  /** With 'auto': the estimate to start from when none was learnt yet (config audio.outputDelayMs). */
  initialLatencyMs?: number;
  /** The station's FM module, for FM items and FM fallbacks of live items. */
  fm?: FmControl;
  /** An alert for the station's health (a live relay fell silent: every source failed). */
  onAlert?: (code: string, message: string) => void;
  /**
   * Keep a decoder waiting for an emergency at all times, idle included (config
   * audio.warmDecoder), not only while something plays and from an emergency's arrival.
   */
  warmDecoder?: boolean;
}

const DEFAULT_HORIZON_MS = 24 * 3600_000;
const IDLE_TICK_MS = 60_000;

/** Decoders start this long before their slot and hold the audio until it (prefetch). */
const PREFETCH_MS = 1000;
/** Extra time before the warm-up lead, for timers that fire late on a busy board. */
const READY_MARGIN_MS = 300;

interface Current {
  slot: Slot;
  playback: Playback;
  /** Volume the playback was last set to (follows the plan while it plays). */
  volume: number;
  /** When the audio came out (undefined while the playback is held for its start). */
  since?: number;
  /** When play() was called (a relay's switches are timed from it). */
  requestedAt?: number;
  stopReason?: 'interrupted' | 'command' | 'gate';
  gateError?: string;
}

export class Player {
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly gate: OutputGate;
  private readonly proofRecorder: PlayerProofs;
  private readonly clock: PlayerClock;
  private readonly state: PlayerState;
  private bundles: readonly PlanBundle[] = [];
  private choices: readonly StationChoices[] = [];
  private adhoc: AdhocItem[] = [];
  private lastAdhocDue = Number.NEGATIVE_INFINITY;
  private volumeOverride: number | undefined;
  private readonly durations: DurationProbe;
  private current: Current | undefined;
  private queued: Current | undefined;
  /** Start-up latency of the output, see PlayerOptions.startLatencyMs (set at start()). */
  private latency = new StartLatency(undefined, 0);
  private plan: Timeline = { computedAt: 0, slots: [], held: [] };
  private timer: unknown;
  private running = false;
  private lastDeadAir = false;
  private readonly unsubscribe: (() => void)[] = [];
  /** When an emergency was planned to cut into the item on air (for the cut-in log). */
  private cutInAt: number | undefined;
  /** Items held for an untrusted clock at the last plan (logged when it changes). */
  private clockHeld = 0;
  /** The decoder kept waiting for an emergency's first sound. */
  private readonly spare: EmergencyDecoder;
  /**
   * Items stopped on air whose playback has not reported its end yet: where they stopped (the
   * resume point) is not known until then, so they are not queued again before it.
   */
  private readonly finishing = new Set<string>();

  constructor(private readonly opts: PlayerOptions) {
    this.log = opts.logger.child({ module: 'player' });
    this.timers = opts.timers ?? globalTimers;
    this.gate = opts.gate;
    this.clock = opts.clock;
    this.state = new PlayerState(opts.stateFile);
    this.proofRecorder = new PlayerProofs(opts.proofs, this.log, () => ({
      relays: this.gate.relays(),
      clockTrusted: this.clock.trusted(),
    }));
    this.durations = new DurationProbe(opts.probeDurationMs, this.log, () => {
      if (!this.current) this.tick();
    });
    this.spare = new EmergencyDecoder(
      opts.audio,
      this.timers,
      opts.warmDecoder === true,
      () => this.current !== undefined || this.queued !== undefined,
    );
  }

  async start(): Promise<void> {
    const loaded = await this.state.load();
    if (loaded === 'corrupt')
      this.log.warn({ code: 'PLAYER_STATE_CORRUPT' }, 'player state unreadable; starting afresh');
    this.latency = new StartLatency(
      this.opts.startLatencyMs,
      this.state.outputDelayMs ?? this.opts.initialLatencyMs ?? 0,
    );
    await this.opts.audio.open();
    this.spare.start();
    // Zone and input relays switch while the audio on air is muted (not only between items).
    this.gate.setMuteHandler?.((muted) => this.opts.audio.setMuted(muted));
    this.running = true;
    const programme = this.opts.programme;
    if (programme) {
      this.choices = programme.choices?.() ?? [];
      this.setBundles(programme.planBundles());
      this.unsubscribe.push(programme.on('activated', () => this.setBundles(programme.planBundles())));
      this.unsubscribe.push(programme.on('choices', () => this.setChoices(programme.choices?.() ?? [])));
    }
    const onClock = this.clock.on?.('change', () => this.tick());
    if (onClock) this.unsubscribe.push(onClock);
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.gate.setMuteHandler?.(undefined);
    for (const u of this.unsubscribe.splice(0)) u();
    this.timers.clearTimeout(this.timer);
    this.spare.stop();
    this.cancelQueued();
    const cur = this.current;
    if (cur) {
      cur.stopReason = 'interrupted';
      cur.playback.stop();
      await cur.playback.result;
      // finishSlot() runs from the result handler; wait for it to record the proof.
      await new Promise((r) => setImmediate(r));
    }
    await this.proofRecorder.flush();
    await this.opts.audio.close();
    await this.state.save().catch((err: unknown) => this.log.error({ err }, 'player state not saved'));
  }

  setBundles(bundles: readonly PlanBundle[]): void {
    this.bundles = [...bundles];
    this.durations.update(this.bundles);
    this.tick();
  }

  /** The programme choices of the station's units (a commune's opt-outs and quiet hours). */
  setChoices(choices: readonly StationChoices[]): void {
    this.choices = [...choices];
    this.tick();
  }

  async playNow(channel: string, itemId: string, opts: { commandId?: string } = {}): Promise<void> {
    this.adhoc.push(playNowItem(this.bundles, channel, itemId, this.adhocDue(), opts.commandId));
    this.tick();
  }

  /**
   * A test tone. `local`: a signal for the person at the station (USB confirmation, technician
   * page), played at once even before the clock is trusted (see AdhocItem.local).
   */
  async testTone(
    seconds: number,
    frequencyHz = 1000,
    opts: { commandId?: string; local?: boolean } = {},
  ): Promise<void> {
    this.adhoc.push(testToneItem(seconds, frequencyHz, this.adhocDue(), opts.commandId, opts.local));
    this.tick();
  }

  /**
   * The due time of a new command's item: now, but never at or before the previous command's, so
   * commands of the same class given within one millisecond play in the order they came (the
   * planner breaks ties of equal due time by key, which for commands is a random id).
   */
  private adhocDue(): number {
    const due = Math.max(this.clock.now(), this.lastAdhocDue + 1);
    this.lastAdhocDue = due;
    return due;
  }

  /**
   * A technician's test tone routine (steps from domain/output-profile.ts `toneRoutine`): one
   * item, with the amplifier and relays sequenced as for any item; it yields to an emergency
   * that comes meanwhile. Refused (EMERGENCY_ON_AIR) while an emergency plays.
   */
  async testToneRoutine(
    steps: readonly ToneStep[],
    opts: { commandId?: string; local?: boolean } = {},
  ): Promise<void> {
    if (this.emergencyOnAir())
      throw new LoaError('EMERGENCY_ON_AIR', 'Đang phát tin khẩn cấp: không phát âm thử lúc này');
    this.adhoc.push(toneRoutineItem(steps, this.adhocDue(), opts.commandId, opts.local));
    this.tick();
  }

  /** An emergency (or its chime) is on air, or about to start. */
  emergencyOnAir(): boolean {
    return this.current?.slot.priorityClass === 'emergency';
  }

  /**
   * An emergency message has arrived and is being checked (signature, audio, durable writes):
   * a decoder waits for its first sound from now (on a warm station, it already does), so that
   * sound does not also wait for a process to start once the bundle is active. Nothing plays
   * from it unless the verified emergency takes it, at the level the verified plan gives; on a
   * station that is not kept warm it is let go after a while if nothing plays.
   */
  expectEmergency(): void {
    if (!this.running) return;
    this.spare.expect();
  }

  stopCurrent(): void {
    const cur = this.current;
    if (!cur) return;
    cur.stopReason = 'command';
    cur.playback.stop();
  }

  setVolume(volume: number): void {
    if (!Number.isInteger(volume) || volume < 0 || volume > 100)
      throw new LoaError('PLAYER_BAD_VOLUME', 'Âm lượng phải là số nguyên từ 0 đến 100');
    this.volumeOverride = volume;
    this.tick();
  }

  status(): PlayerStatus {
    const cur = this.current;
    const onAir =
      cur?.since !== undefined
        ? {
            slot: cur.slot,
            since: cur.since,
            levels: cur.playback.levels(),
            ...(cur.playback.source?.() ? { source: cur.playback.source()! } : {}),
          }
        : undefined;
    return playerStatus(
      onAir,
      this.plan,
      this.volumeOverride ?? this.opts.policy.volume ?? 80,
      this.lastDeadAir,
    );
  }

  timeline(): Timeline {
    return this.plan;
  }

  /** Re-plans and acts: interrupt, prepare the next slot, or sleep until it is due. */
  private tick(): void {
    if (!this.running) return;
    this.timers.clearTimeout(this.timer);
    const now = this.clock.now();
    try {
      this.replan(now);
    } catch (err) {
      // A plan that cannot be computed must not stop the station: keep the last one, retry.
      this.log.error({ err, code: 'PLAYER_PLAN_FAILED' }, 'planning failed; keeping the previous plan');
      this.arm(IDLE_TICK_MS);
      return;
    }
    const first = this.plan.slots.find((s) => s.output === 'audio');
    const cur = this.current;
    if (cur) {
      // A held (not yet started) playback continues if its slot is still the first one;
      // one on air if the plan continues its item now.
      const continues =
        cur.since === undefined
          ? first?.id === cur.slot.id
          : first &&
            first.itemKey === cur.slot.itemKey &&
            first.kind === cur.slot.kind &&
            // Started ahead of its slot to absorb the output delay, it is planned at its slot.
            first.start <= Math.max(now, cur.slot.start) + 50;
      // A technician's tone routine plays at unity gain whatever the volume.
      if (continues && first && first.volume !== cur.volume && !cur.slot.tone?.steps) {
        // A volume command or a volume window: the item on air follows at once.
        cur.volume = first.volume;
        this.log.info({ slot: cur.slot.id, volume: first.volume }, 'volume changed on air');
        void cur.playback.setVolume(first.volume);
      }
      if (!continues) {
        this.log.info({ slot: cur.slot.id, next: first?.id }, 'interrupting the item on air');
        if (first?.priorityClass === 'emergency') this.cutInAt ??= now;
        this.cancelQueued();
        cur.stopReason = 'interrupted';
        this.finishing.add(cur.slot.itemKey);
        if (first && first.start - Math.max(first.leadMs, PREFETCH_MS) <= now) {
          // Start the next decoder now: the driver stops the item on air and holds the new
          // audio until it has ended, so the cut-in does not wait for a process to start.
          this.begin(first);
        } else cur.playback.stop();
        return;
      }
      // Wake up when something is planned to cut in, or a volume window starts or ends.
      let wake = cur.since !== undefined && first?.interruptedBy ? first.end - now : IDLE_TICK_MS;
      const volumeAt = this.nextVolumeChange(now);
      if (volumeAt !== undefined) wake = Math.min(wake, volumeAt - now + 20);
      // The next slot follows directly: queue its decoder so it starts without a gap.
      const next = this.plan.slots.filter((s) => s.output === 'audio')[1];
      if (this.queued && this.queued.slot.id !== next?.id) this.cancelQueued();
      const followsOn =
        cur.since !== undefined &&
        first !== undefined &&
        next !== undefined &&
        !first.interruptedBy &&
        !this.finishing.has(next.itemKey) &&
        next.start === first.end &&
        JSON.stringify(next.zones ?? null) === JSON.stringify(first.zones ?? null);
      if (followsOn && !this.queued) {
        if (next.start - PREFETCH_MS <= now) this.queued = this.startPlayback(next, true);
        else wake = Math.min(wake, next.start - PREFETCH_MS - now);
      }
      this.arm(wake);
      return;
    }
    if (!first) {
      this.arm(IDLE_TICK_MS);
      return;
    }
    // Timers fire late on a busy board: wake a little before the warm-up lead.
    const wakeIn =
      first.start - Math.max(first.leadMs > 0 ? first.leadMs + READY_MARGIN_MS : 0, PREFETCH_MS) - now;
    if (wakeIn > 0) {
      this.arm(Math.min(wakeIn, IDLE_TICK_MS));
      return;
    }
    this.begin(first);
  }

  private arm(ms: number): void {
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.tick(), Math.max(0, ms));
  }

  private replan(now: number): void {
    const cur = this.current;
    const amplifierOn = this.gate.relays().amplifier;
    this.plan = schedule({
      bundles: this.bundles,
      policy: this.opts.policy,
      now,
      horizonMs: this.opts.horizonMs ?? DEFAULT_HORIZON_MS,
      clockTrusted: this.clock.trusted(),
      readyAt: cur || amplifierOn ? now : now + this.gate.warmupMs,
      done: this.state.done,
      partial: this.state.partial,
      durationsMs: this.durations.durations,
      adhoc: this.adhoc,
      choices: this.choices,
      ...(this.volumeOverride !== undefined ? { volumeOverride: this.volumeOverride } : {}),
      ...(cur && cur.since !== undefined && cur.slot.kind === 'item'
        ? {
            onAir: {
              slotId: cur.slot.id,
              itemKey: cur.slot.itemKey,
              startedAt: cur.since,
              offsetMs: cur.slot.offsetMs,
            },
          }
        : {}),
    });
    for (const h of this.plan.held) if (h.final && !this.state.done.has(h.itemKey)) this.skip(h, now);
    this.logClockHold();
  }

  /** Says once (and again when it changes) how many items wait for a trusted clock, and why. */
  private logClockHold(): void {
    const held = this.plan.held.filter((h) => h.reason === 'clock-untrusted').length;
    if (held === this.clockHeld) return;
    this.clockHeld = held;
    if (held > 0)
      this.log.warn(
        { code: 'PROGRAMME_HELD', items: held, clock: this.clock.waiting?.() },
        'programme held: waiting for a trusted clock (emergencies still play)',
      );
    else this.log.info('clock trusted: the held programme is planned again');
  }

  private skip(h: Held, now: number): void {
    this.state.markDone(h.itemKey, now);
    this.adhoc = this.adhoc.filter((a) => a.key !== h.itemKey);
    this.proofRecorder.skipped(h);
    void this.saveState();
  }

  /**
   * Starts the decoder now with the audio held until the slot's start, and asks the output gate
   * to be ready (amplifier warm, zones selected) in parallel.
   */
  private begin(slot: Slot): void {
    this.current = this.startPlayback(slot, false);
    this.tick();
  }

  private cancelQueued(): void {
    const q = this.queued;
    if (!q) return;
    this.queued = undefined;
    q.stopReason = 'interrupted';
    q.playback.stop();
  }

  /**
   * Starts a decoder now with the audio held until the slot's start (and, queued, until the item
   * on air ends), and asks the output gate to be ready (amplifier warm, zones) in parallel.
   */
  private startPlayback(slot: Slot, queue: boolean): Current {
    const req = this.request(slot);
    const live = slot.kind === 'item' && isLiveItem(slot.item);
    const comp = this.latency.lead(live);
    const delay = slot.start - this.clock.now() - comp;
    if (delay > 0) req.startDelayMs = delay;
    if (queue) req.queue = true;
    const requestedAt = this.clock.now();
    const playback = this.opts.audio.play(req);
    const cur: Current = { slot, playback, volume: slot.volume, requestedAt };
    this.gate.ready(slot.zones).catch((err: unknown) => {
      if (this.current !== cur && this.queued !== cur) return;
      this.log.error({ err, slot: slot.id }, 'output not ready');
      cur.stopReason = 'gate';
      cur.gateError = err instanceof Error ? err.message : String(err);
      playback.stop();
    });
    void playback.started.then(() => {
      if (this.queued === cur) {
        this.queued = undefined;
        this.current = cur;
      }
      if (this.current !== cur || playback.state() === 'ended') return;
      // When the audio came out, which may be a little before `started` resolved.
      cur.since = this.clock.now() - playback.startLagMs();
      // Learn the output's start-up latency from held (not queued) starts.
      if (!queue && delay > 0) {
        const learnt = this.latency.learn(live, comp, cur.since - slot.start);
        if (learnt !== undefined) this.state.setOutputDelay(learnt);
      }
      this.log.info(
        {
          slot: slot.id,
          item: slot.item.id,
          class: slot.priorityClass,
          lateMs: cur.since - slot.start,
          // the start on the station's clock, in its proof; beside the log line's own time
          // (the system clock) it shows how far the two differ
          startedAt: new Date(cur.since).toISOString(),
          clockNow: new Date(this.clock.now()).toISOString(),
        },
        'on air',
      );
      if (slot.kind === 'item') this.proofRecorder.started(slot, cur.since);
      if (this.cutInAt !== undefined && slot.priorityClass === 'emergency') {
        // From the plan that let the emergency in to its first sound (chime or item).
        this.log.info({ slot: slot.id, cutInMs: Math.round(cur.since - this.cutInAt) }, 'emergency cut in');
        this.cutInAt = undefined;
      }
      this.spare.onAir();
      this.tick();
    });
    void playback.result.then((r) => {
      this.finishing.delete(slot.itemKey);
      if (this.queued === cur) this.queued = undefined;
      if (this.current === cur) {
        // The queued next item (if any) takes over the output.
        this.current = this.queued;
        this.queued = undefined;
      }
      this.finishSlot(slot, r, cur);
    });
    return cur;
  }

  private request(slot: Slot): PlayRequest {
    const probed = slot.contentSha256 ? this.durations.durations.get(slot.contentSha256) : undefined;
    const blobDir = this.bundles.find((b) => b.manifest.id === slot.bundleId)?.blobDir;
    return playRequest(slot, probed, this.opts.streamRelay, {
      ...(this.opts.fm ? { fm: this.opts.fm } : {}),
      ...(blobDir ? { blobDir } : {}),
      onSilence: (reason) => {
        this.log.error(
          { code: 'RELAY_SILENT', item: slot.item.id, reason },
          'live relay silent: every source failed',
        );
        this.opts.onAlert?.(
          'RELAY_SILENT',
          `Mục tiếp sóng "${slot.item.title}" im lặng: mọi nguồn đều lỗi (${reason})`.slice(0, 300),
        );
      },
    });
  }

  private finishSlot(slot: Slot, result: PlayResult, cur: Current): void {
    const now = this.clock.now();
    let r = result;
    if (cur.stopReason === 'gate') {
      r = {
        ...r,
        outcome: 'failed',
        error: { code: 'AUDIO_OUTPUT_FAILED', message: `output not ready: ${cur.gateError ?? ''}` },
      };
    }
    if (cur.since === undefined && r.outcome === 'stopped' && cur.stopReason !== 'command') {
      // Cancelled before any sound (the plan changed): nothing to record.
      if (!this.current) this.gate.idle();
      this.tick();
      return;
    }
    this.lastDeadAir = r.deadAir;
    if (slot.kind === 'chime') {
      // The chime has been heard (or failed): the item follows without another chime.
      if (r.outcome !== 'stopped') this.state.setPartial(slot.itemKey, 0);
      if (r.outcome === 'failed') this.log.warn({ error: r.error }, 'chime failed');
    } else {
      const { outcome, reason, next } = itemOutcome(slot, r, cur.stopReason === 'command');
      if (next.done) this.state.markDone(slot.itemKey, now);
      else if (next.resumeAt !== undefined) this.state.setPartial(slot.itemKey, next.resumeAt);
      else this.state.clearPartial(slot.itemKey);
      this.proofRecorder.ended(slot, outcome, reason, r, {
        since: cur.since ?? now,
        now,
        requestedAt: cur.requestedAt,
      });
    }
    if (this.state.done.has(slot.itemKey)) this.adhoc = this.adhoc.filter((a) => a.key !== slot.itemKey);
    this.state.prune(now);
    void this.saveState();
    // The next item may already be on its way (an interruption): keep the output then.
    if (!this.current) {
      this.gate.idle();
      this.spare.release();
    }
    this.tick();
  }

  private nextVolumeChange(now: number): number | undefined {
    try {
      return nextVolumeChange(this.opts.policy, now);
    } catch {
      return undefined; // a bad offset: the plan already reported it
    }
  }

  private async saveState(): Promise<void> {
    await this.state.save().catch((err: unknown) => this.log.error({ err }, 'player state not saved'));
  }
}
