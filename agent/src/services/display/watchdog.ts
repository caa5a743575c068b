/**
 * Never black: checks the page's heartbeats every couple of seconds and restarts the browser
 * when the page stopped beating, stopped painting, or keeps a frame past its item's time
 * (domain/display/watchdog-rules.ts). Each restart raises an alert; restarts back off so a page
 * that cannot load does not restart the browser in a tight loop.
 */
import type { Clock, Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import {
  DEFAULT_WATCHDOG_LIMITS,
  type PageReport,
  type WatchdogLimits,
  watchdogVerdict,
} from '../../domain/display/watchdog-rules.js';
import type { DisplayDriver } from '../../drivers/display/types.js';

export interface WatchdogOptions {
  driver: DisplayDriver;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  heartbeats: () => { last?: PageReport; previous?: PageReport };
  wanted: () => { key: string | null; since: number };
  /** The browser was restarted: forget its old heartbeats. */
  onRestarted: () => void;
  onAlert: (code: string, message: string) => void;
  limits?: Partial<WatchdogLimits>;
  intervalMs?: number;
}

export class DisplayWatchdog {
  private timer: unknown;
  private running = false;
  private startedAt = 0;
  private restarting = false;
  restarts = 0;
  private recent: number[] = [];
  private inflight: Promise<void> | undefined;

  constructor(private readonly o: WatchdogOptions) {}

  start(): void {
    this.running = true;
    this.startedAt = this.o.clock.now();
    this.arm();
  }

  /** Stops checking; waits for a restart under way. */
  async stop(): Promise<void> {
    this.running = false;
    this.o.timers.clearTimeout(this.timer);
    await this.inflight;
  }

  /** Checks once now (tests, and the timer). */
  async check(): Promise<void> {
    if (!this.running || this.restarting) return;
    const now = this.o.clock.now();
    const limits = { ...DEFAULT_WATCHDOG_LIMITS, ...this.o.limits };
    const { last, previous } = this.o.heartbeats();
    const processGone = !this.o.driver.running();
    const verdict = processGone
      ? ({ action: 'restart', code: 'DISPLAY_BROWSER_EXITED', detail: 'the browser process exited' } as const)
      : watchdogVerdict(
          {
            now,
            startedAt: this.startedAt,
            ...(last ? { last } : {}),
            ...(previous ? { previous } : {}),
            wanted: this.o.wanted(),
          },
          limits,
        );
    if (verdict.action === 'ok') return;
    // Back off: at most 3 restarts in 5 minutes, then one a minute.
    this.recent = this.recent.filter((t) => now - t < 5 * 60_000);
    if (this.recent.length >= 3 && now - (this.recent.at(-1) ?? 0) < 60_000) return;
    this.recent.push(now);
    this.restarting = true;
    this.restarts++;
    this.o.logger.warn({ code: verdict.code, detail: verdict.detail }, 'restarting the browser');
    this.o.onAlert(verdict.code, `Khởi động lại trình duyệt bảng tin: ${verdict.detail}`);
    // Heartbeats of the old page say nothing about the new one.
    this.o.onRestarted();
    const restart = this.o.driver.restart();
    this.inflight = restart.catch(() => undefined);
    try {
      await restart;
    } catch (err) {
      this.o.logger.error({ err }, 'browser restart failed');
      this.o.onAlert(
        'DISPLAY_RESTART_FAILED',
        `Không khởi động lại được trình duyệt: ${(err as Error).message}`,
      );
    } finally {
      this.startedAt = this.o.clock.now();
      this.o.onRestarted();
      this.restarting = false;
      this.inflight = undefined;
    }
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.o.timers.setTimeout(() => {
      void this.check().finally(() => this.arm());
    }, this.o.intervalMs ?? 2000);
  }
}
