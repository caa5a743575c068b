/**
 * The display lane: what a noticeboard's screen shows, from the same signed bundles and the same
 * scheduler as the loudspeakers. Planned display slots (dayparting, durations, priorities) fill
 * the main area; when nothing is planned the default loop runs; ticker items scroll below; an
 * emergency (in either lane, the player's audio plan included) puts the overlay on top at once.
 * The lane pushes a ScreenState to the kiosk page, turns the page's reports into signed
 * `display` proofs and keeps the item on screen across a power cut (state file).
 */
import { readFile } from 'node:fs/promises';
import type { RelayState, Timers } from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  emergencyOverlay,
  type FrameContext,
  frameFromSlot,
  isTickerItem,
  loopFrameAt,
  tickerLines,
} from '../../domain/display/frames.js';
import type {
  EmergencyOverlay,
  Frame,
  OnScreen,
  ScreenLayout,
  ScreenState,
} from '../../domain/display/types.js';
import type { PageReport as HeartbeatReport } from '../../domain/display/watchdog-rules.js';
import { schedule } from '../../domain/scheduler/plan.js';
import type { PlanBundle, Slot, StationChoices, StationPolicy } from '../../domain/scheduler/types.js';
import { Emitter } from '../../events.js';
import type { OutputGate, PlayerClock, ProofSink } from '../playback/ports.js';
import type { PageReport } from './kiosk-app.js';
import { ScreenRecord } from './screen-record.js';

export interface DisplayLaneOptions {
  clock: PlayerClock;
  timers: Timers;
  logger: Logger;
  policy: StationPolicy;
  proofs: ProofSink;
  relays: () => RelayState;
  /** The loudspeakers' plan (the player's timeline): its emergencies raise the overlay too. */
  audioSlots?: () => readonly Slot[];
  layout: ScreenLayout;
  unitName: string;
  /** Display time of an item without durationMs (ms). */
  defaultItemMs: number;
  videoSound: boolean;
  tickerSpeed: number;
  minFontPx: number;
  /** Keeps the item on screen and the items shown across restarts (JSON, atomic writes). */
  stateFile?: string;
  /** Draws a QR code (SVG markup) for an item's public page. */
  qrSvg?: (url: string) => Promise<string>;
  /** A render error or a page alert. */
  onAlert: (code: string, message: string) => void;
  /**
   * The amplifier, shared with the player (station/gate-share.ts): a video with sound waits for
   * it to warm up (zones of its slot selected) and lets it go when the video leaves the screen.
   */
  gate?: OutputGate;
}

const HORIZON_MS = 24 * 3600_000;
const IDLE_WAKE_MS = 60_000;
/** The overlay check runs this often (emergencies from the audio plan, their end). */
const OVERLAY_POLL_MS = 250;

const LaneStateSchema = z.object({
  done: z.array(z.tuple([z.string(), z.number()])).max(10_000),
  onAir: z.object({ itemKey: z.string(), since: z.number(), offsetMs: z.number() }).nullable(),
});

interface OnAirDisplay {
  slot: Slot;
  since: number;
}

export interface DisplayLaneEvents extends Record<string, unknown> {
  /** The emergency overlay came up, changed or cleared. */
  overlay: EmergencyOverlay | null;
  /** Every report of the page, as received (benchmarks, diagnostics). */
  report: PageReport;
  /** A frame or overlay reached the screen for the first time (or failed to). */
  rendered: { layer: 'main' | 'emergency'; key: string; at: number; error?: string };
}

export class DisplayLane extends Emitter<DisplayLaneEvents> {
  private bundles: PlanBundle[] = [];
  private planBundles: PlanBundle[] = [];
  /** The commune's choices (opt-outs, quiet hours): the board leaves out what the loudspeakers do. */
  private choices: StationChoices[] = [];
  private readonly done = new Map<string, number>();
  private readonly partial = new Map<string, number>();
  private onAir: OnAirDisplay | undefined;
  private displaySlots: Slot[] = [];
  private frame: Frame | null = null;
  private overlay: EmergencyOverlay | null = null;
  private shownEmergencies = new Map<string, number>();
  private current: ScreenState;
  private readonly subscribers = new Set<(s: ScreenState) => void>();
  private timer: unknown;
  private pollTimer: unknown;
  private running = false;
  private readonly qr = new Map<string, string>();
  private last: HeartbeatReport | undefined;
  private previous: HeartbeatReport | undefined;
  private wantedSince = 0;
  readonly record: ScreenRecord;
  private lastAlert: { code: string; message: string; at: string } | undefined;
  /** The amplifier for a video with sound: asked for, warmed up, or refused (then muted). */
  private amp: { held: boolean; ready: boolean; failed: boolean } = {
    held: false,
    ready: false,
    failed: false,
  };

  constructor(private readonly o: DisplayLaneOptions) {
    super();
    this.record = new ScreenRecord({
      proofs: o.proofs,
      relays: o.relays,
      clockTrusted: () => o.clock.trusted(),
      logger: o.logger,
      onAlert: (code, message) => this.alert(code, message),
    });
    this.current = this.build(0);
  }

  async start(): Promise<void> {
    await this.loadState();
    this.running = true;
    this.evaluate();
    this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.o.timers.clearTimeout(this.timer);
    this.o.timers.clearTimeout(this.pollTimer);
    this.subscribers.clear();
    if (this.amp.held) this.o.gate?.idle();
    this.amp = { held: false, ready: false, failed: false };
    await this.saveState();
    await this.record.flush();
  }

  setBundles(bundles: readonly PlanBundle[]): void {
    this.bundles = [...bundles];
    this.planBundles = this.bundles.map(withoutTickerEntries);
    this.drawQrCodes();
    this.evaluate();
  }

  /**
   * The programme choices of the station's units: items they opt out of stay off the screen, at
   * their time (held by the scheduler as on the loudspeakers) and in the loop and the ticker.
   */
  setChoices(choices: readonly StationChoices[]): void {
    this.choices = [...choices];
    this.evaluate();
  }

  /** Re-evaluates now (the audio plan changed: an emergency was accepted or ended). */
  refresh(): void {
    this.evaluate();
  }

  state(): ScreenState {
    return this.current;
  }

  /** Open event streams to pages (one per page showing; more means pages left them open). */
  streams(): number {
    return this.subscribers.size;
  }

  subscribe(listener: (s: ScreenState) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  onScreen(): OnScreen | null {
    return this.record.onScreen();
  }

  /** The key the page should show now and since when (for the watchdog). */
  wanted(): { key: string | null; since: number } {
    return { key: this.frame?.key ?? null, since: this.wantedSince };
  }

  heartbeats(): { last?: HeartbeatReport; previous?: HeartbeatReport } {
    return {
      ...(this.last ? { last: this.last } : {}),
      ...(this.previous ? { previous: this.previous } : {}),
    };
  }

  /** Forget the page's heartbeats (the browser was restarted). */
  resetHeartbeats(): void {
    this.last = undefined;
    this.previous = undefined;
  }

  latestAlert(): { code: string; message: string; at: string } | undefined {
    return this.lastAlert;
  }

  emergencyUp(): boolean {
    return this.overlay !== null;
  }

  report(r: PageReport): void {
    const now = this.o.clock.now();
    this.emit('report', r);
    switch (r.type) {
      case 'heartbeat':
        this.previous = this.last;
        this.last = { at: now, key: r.key, frames: r.frames };
        return;
      case 'rendered':
        if (this.record.rendered(r.layer, r.key, r.at)) {
          this.o.logger.info({ key: r.key, layer: r.layer, pages: r.pages }, 'on screen');
          this.emit('rendered', { layer: r.layer, key: r.key, at: r.at });
        }
        return;
      case 'error':
        if (this.record.failed(r.layer, r.key, r.code, r.message, r.at))
          this.emit('rendered', { layer: r.layer, key: r.key, at: r.at, error: r.code });
        return;
      case 'alert':
        this.alert(r.code, r.key ? `${r.key}: ${r.message}` : r.message);
        return;
    }
  }

  private alert(code: string, message: string): void {
    this.lastAlert = { code, message, at: new Date(this.o.clock.now()).toISOString() };
    this.o.logger.warn({ code }, `display: ${message}`);
    this.o.onAlert(code, message);
  }

  private frameContext(): FrameContext {
    return {
      unit: this.o.unitName,
      utcOffset: this.o.policy.utcOffset ?? '+07:00',
      mediaUrl: (sha) => `/kiosk/media/${sha}`,
      videoSound: this.o.videoSound,
      defaultItemMs: this.o.defaultItemMs,
    };
  }

  /** Replans the display lane, picks the frame and the overlay, publishes, and sleeps until the next change. */
  private evaluate(): void {
    if (!this.running) return;
    this.o.timers.clearTimeout(this.timer);
    const now = this.o.clock.now();
    let wake = IDLE_WAKE_MS;
    try {
      wake = this.replan(now);
    } catch (err) {
      this.o.logger.error(
        { err, code: 'DISPLAY_PLAN_FAILED' },
        'display planning failed; keeping the screen',
      );
    }
    this.updateOverlay(now);
    this.publish(now);
    this.timer = this.o.timers.setTimeout(() => this.evaluate(), Math.max(20, Math.min(wake, IDLE_WAKE_MS)));
  }

  private replan(now: number): number {
    const cur = this.onAir;
    const plan = schedule({
      bundles: this.planBundles,
      policy: { ...this.o.policy, defaultItemMs: this.o.defaultItemMs },
      now,
      horizonMs: HORIZON_MS,
      clockTrusted: this.o.clock.trusted(),
      done: this.done,
      partial: this.partial,
      choices: this.choices,
      ...(cur
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
    for (const h of plan.held) if (h.final) this.done.set(h.itemKey, now);
    this.displaySlots = plan.slots.filter((s) => s.output === 'display' && s.kind === 'item');
    const slot = this.displaySlots.find((s) => s.start <= now + 20 && s.end > now);
    if (cur && cur.slot.itemKey !== slot?.itemKey) {
      // The item on screen ended or was cut: finished, or resumed later as its rule says.
      const shown = cur.slot.offsetMs + (now - cur.since);
      const mode = cur.slot.item.onInterrupt ?? (cur.slot.priorityClass === 'fill' ? 'skip' : 'resume');
      if (now >= cur.slot.end - 50 || mode === 'skip') {
        this.done.set(cur.slot.itemKey, now);
        this.partial.delete(cur.slot.itemKey);
      } else if (mode === 'resume') this.partial.set(cur.slot.itemKey, shown);
      else this.partial.delete(cur.slot.itemKey);
      this.onAir = undefined;
      void this.saveState();
    }
    if (slot && this.onAir?.slot.itemKey !== slot.itemKey) {
      this.onAir = { slot, since: now };
      this.partial.delete(slot.itemKey);
      void this.saveState();
    } else if (slot && this.onAir) this.onAir.slot = { ...slot, offsetMs: this.onAir.slot.offsetMs };
    const ctx = this.frameContext();
    const planned = slot
      ? frameFromSlot(slot, this.bundles, ctx)
      : loopFrameAt(this.bundles, now, ctx, this.choices);
    const next = this.sequenceSound(now, slot, planned);
    if (next?.link) {
      const svg = this.qr.get(next.link);
      if (svg) next.qrSvg = svg;
    }
    if ((next?.key ?? null) !== (this.frame?.key ?? null)) this.wantedSince = now;
    this.frame = next;
    const lead = this.o.gate && this.o.videoSound ? this.o.gate.warmupMs : 0;
    const upcoming = this.displaySlots.find((s) => s.start > now + 20)?.start ?? Number.POSITIVE_INFINITY;
    return Math.max(20, Math.min(upcoming - lead, next?.end ?? Number.POSITIVE_INFINITY) - now);
  }

  /**
   * A video with sound goes through the amplifier like an audio item: amplifier on (and the slot's
   * zones) before the sound, the screen keeping what it shows meanwhile; released when no video
   * with sound is on screen or due within the warm-up. An amplifier that cannot come up (fault,
   * unknown zone) raises DISPLAY_AMP_FAILED and the video plays muted rather than not at all.
   */
  private sequenceSound(now: number, slot: Slot | undefined, next: Frame | null): Frame | null {
    const gate = this.o.gate;
    if (!gate) return next;
    const soon = this.o.videoSound
      ? this.displaySlots.find(
          (s) => s.start > now + 20 && s.start - gate.warmupMs <= now && s.item.kind === 'video',
        )
      : undefined;
    const need = next?.sound === true || soon !== undefined;
    if (!need) {
      if (this.amp.held) gate.idle();
      this.amp = { held: false, ready: false, failed: false };
      return next;
    }
    if (!this.amp.held) {
      this.amp = { held: true, ready: false, failed: false };
      const zones = (next?.sound ? slot : soon)?.zones;
      gate.ready(zones).then(
        () => {
          if (!this.amp.held) return;
          this.amp.ready = true;
          this.evaluate();
        },
        (err: unknown) => {
          if (!this.amp.held) return;
          this.amp = { held: true, ready: true, failed: true };
          this.alert(
            'DISPLAY_AMP_FAILED',
            `amplifier not ready for a video with sound: ${(err as Error).message}`,
          );
          this.evaluate();
        },
      );
    }
    if (!next?.sound) return next;
    if (!this.amp.ready) return this.frame?.key === next.key ? next : this.frame;
    return this.amp.failed ? { ...next, sound: false } : next;
  }

  private updateOverlay(now: number): void {
    const slots = [...(this.o.audioSlots?.() ?? []), ...this.displaySlots];
    const { overlay, shown } = emergencyOverlay(slots, this.bundles, now, this.shownEmergencies);
    this.shownEmergencies = shown;
    const changed = (overlay?.key ?? null) !== (this.overlay?.key ?? null);
    if (changed && overlay)
      this.o.logger.warn({ key: overlay.key, title: overlay.title }, 'emergency on screen');
    this.overlay = overlay;
    if (changed) this.emit('overlay', overlay);
  }

  /** The overlay must come up within a second of an emergency: a short poll of both plans. */
  private poll(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    this.updateOverlay(now);
    this.publish(now);
    this.pollTimer = this.o.timers.setTimeout(() => this.poll(), OVERLAY_POLL_MS);
  }

  private build(rev: number): ScreenState {
    return {
      rev,
      layout: this.o.layout,
      unitName: this.o.unitName,
      utcOffset: this.o.policy.utcOffset ?? '+07:00',
      clockSkewMs: Math.round(this.o.clock.now() - Date.now()),
      frame: this.frame,
      ticker: tickerLines(this.bundles, this.o.clock.now(), this.choices),
      tickerSpeed: this.o.tickerSpeed,
      emergency: this.overlay,
      minFontPx: this.o.minFontPx,
    };
  }

  private publish(now: number): void {
    const next = this.build(this.current.rev + 1);
    const same =
      JSON.stringify({ ...next, rev: 0, clockSkewMs: 0 }) ===
      JSON.stringify({ ...this.current, rev: 0, clockSkewMs: 0 });
    if (same && Math.abs(next.clockSkewMs - this.current.clockSkewMs) < 1000) return;
    this.current = next;
    this.record.sentOverlay(next.emergency, now);
    this.record.sentFrame(next.frame, now);
    for (const l of this.subscribers) l(next);
  }

  private drawQrCodes(): void {
    const draw = this.o.qrSvg;
    if (!draw) return;
    for (const b of this.bundles)
      for (const it of b.manifest.items) {
        const link = it.link;
        if (!link || this.qr.has(link)) continue;
        draw(link)
          .then((svg) => {
            this.qr.set(link, svg);
            if (this.frame?.link === link) this.evaluate();
          })
          .catch((err: unknown) => this.o.logger.warn({ err, link }, 'QR code not drawn'));
      }
  }

  private async loadState(): Promise<void> {
    const file = this.o.stateFile;
    if (!file) return;
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.logger.warn(
          { err, code: 'DISPLAY_STATE_CORRUPT' },
          'display state unreadable; starting afresh',
        );
      return;
    }
    const r = LaneStateSchema.safeParse(raw);
    if (!r.success) {
      this.o.logger.warn({ code: 'DISPLAY_STATE_CORRUPT' }, 'display state unreadable; starting afresh');
      return;
    }
    for (const [k, at] of r.data.done) this.done.set(k, at);
    // After a power cut the item that was on screen continues where the programme is now.
    const a = r.data.onAir;
    if (a) this.partial.set(a.itemKey, a.offsetMs + Math.max(0, this.o.clock.now() - a.since));
  }

  private async saveState(): Promise<void> {
    const file = this.o.stateFile;
    if (!file) return;
    const cutoff = this.o.clock.now() - 2 * 24 * 3600_000;
    for (const [k, at] of this.done) if (at < cutoff) this.done.delete(k);
    const a = this.onAir;
    const state = {
      done: [...this.done],
      onAir: a ? { itemKey: a.slot.itemKey, since: a.since, offsetMs: a.slot.offsetMs } : null,
    };
    await writeJsonAtomic(file, state).catch((err: unknown) =>
      this.o.logger.error({ err }, 'display state not saved'),
    );
  }
}

/** Ticker items scroll in the ticker: they take no time in the main area's plan. */
function withoutTickerEntries(b: PlanBundle): PlanBundle {
  const tickers = new Set(b.manifest.items.filter(isTickerItem).map((i) => i.id));
  if (tickers.size === 0 || !b.manifest.schedule) return b;
  const schedule = b.manifest.schedule
    .map((e) => ({ ...e, items: e.items.filter((id) => !tickers.has(id)) }))
    .filter((e) => e.items.length > 0);
  return { ...b, manifest: { ...b.manifest, schedule } };
}
