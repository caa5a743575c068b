/**
 * A noticeboard's screen as one service: the display lane (what to show), the kiosk server on
 * 127.0.0.1 (the page, its font and media, `GET /kiosk/now`), the browser (driver), the
 * watchdog that keeps the screen alive, and screen power on a schedule. main.ts builds it when
 * the config has a `display` section and hands it the bundles as it does the player.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import type { Health, RelayState, Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { DisplayConfig } from '../../config-display.js';
import {
  mayTryPower,
  POWER_RETRY_START,
  powerFailed,
  powerSucceeded,
} from '../../domain/display/power-retry.js';
import { screenShouldBeOn } from '../../domain/display/screen-schedule.js';
import type { PlanBundle, Slot, StationPolicy } from '../../domain/scheduler/types.js';
import type { DisplayDriver, ScreenPower, ScreenshotOptions } from '../../drivers/display/types.js';
import type { OutputGate, PlayerClock, ProgrammeSource, ProofSink } from '../playback/ports.js';
import { DisplayLane } from './display-lane.js';
import { createKioskApp } from './kiosk-app.js';
import { DisplayWatchdog } from './watchdog.js';

/** The longest pause between two tries of a screen-power control that keeps failing. */
const POWER_RETRY_MAX_MS = 3_600_000;

export interface DisplayServiceOptions {
  config: DisplayConfig;
  clock: PlayerClock;
  timers: Timers;
  logger: Logger;
  policy: StationPolicy;
  proofs: ProofSink;
  relays: () => RelayState;
  audioSlots?: () => readonly Slot[];
  /** The programme (content/bundle-store.ts): what the screen shows, re-read on every activation. */
  programme?: ProgrammeSource;
  driver: DisplayDriver;
  power: ScreenPower;
  stateFile?: string;
  /** The page's files (default: protocol/kiosk, see defaultAssetsDir). */
  assetsDir?: string;
  /** The amplifier shared with the player: videos with sound are sequenced through it. */
  gate?: OutputGate;
  /** A display alert for health and the technician page. */
  onAlert?: (code: string, message: string) => void;
  /** Draws a QR code (SVG) for an item's public page. */
  qrSvg?: (url: string) => Promise<string>;
}

/**
 * The kiosk page's own files (index.html, kiosk.css, kiosk.js): they live in protocol/kiosk/,
 * shared with the fleet server's live preview, which renders with the same page code.
 */
export function defaultAssetsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@loa/protocol/kiosk/index.html'));
}

/** QR codes with the `qrcode` package (SVG, medium error correction). */
export async function qrcodeSvg(url: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
}

export class DisplayService {
  readonly lane: DisplayLane;
  readonly watchdog: DisplayWatchdog;
  private server: ServerType | undefined;
  private powerTimer: unknown;
  /** Failed switches in a row and when the next may be tried; whether one is under way. */
  private powerRetry = POWER_RETRY_START;
  private powerBusy = false;
  private readonly log: Logger;
  private started = false;
  private offProgramme: (() => void) | undefined;

  constructor(private readonly o: DisplayServiceOptions) {
    this.log = o.logger.child({ module: 'display' });
    const c = o.config;
    const alert = (code: string, message: string) => o.onAlert?.(code, message);
    this.lane = new DisplayLane({
      clock: o.clock,
      timers: o.timers,
      logger: this.log,
      policy: o.policy,
      proofs: o.proofs,
      relays: o.relays,
      ...(o.audioSlots ? { audioSlots: o.audioSlots } : {}),
      layout: c.layout,
      unitName: c.unitName,
      defaultItemMs: c.defaultItemS * 1000,
      videoSound: c.videoSound,
      tickerSpeed: c.tickerSpeed,
      minFontPx: c.minFontPx,
      ...(o.stateFile ? { stateFile: o.stateFile } : {}),
      qrSvg: o.qrSvg ?? qrcodeSvg,
      onAlert: alert,
      ...(o.gate ? { gate: o.gate } : {}),
    });
    this.watchdog = new DisplayWatchdog({
      driver: o.driver,
      clock: o.clock,
      timers: o.timers,
      logger: this.log,
      heartbeats: () => this.lane.heartbeats(),
      wanted: () => this.lane.wanted(),
      onRestarted: () => this.lane.resetHeartbeats(),
      onAlert: alert,
      limits: {
        heartbeatMs: c.watchdog.heartbeatS * 1000,
        stuckMs: c.watchdog.stuckS * 1000,
        startGraceMs: c.watchdog.startGraceS * 1000,
      },
    });
    // An emergency switches the screen on at once.
    this.lane.on('overlay', () => {
      if (this.started) this.applyPower();
    });
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port ?? this.o.config.port}/kiosk/`;
  }

  async start(): Promise<void> {
    const programme = this.o.programme;
    if (programme) {
      this.lane.setChoices(programme.choices?.() ?? []);
      this.setBundles(programme.planBundles());
      const offActivated = programme.on('activated', () => this.setBundles(programme.planBundles()));
      // a commune's choices changed: what it refuses leaves the screen as it leaves the loudspeakers
      const offChoices = programme.on('choices', () => this.lane.setChoices(programme.choices?.() ?? []));
      this.offProgramme = () => {
        offActivated();
        offChoices();
      };
    }
    await this.lane.start();
    const app = createKioskApp({
      assetsDir: this.o.assetsDir ?? defaultAssetsDir(),
      fonts: this.o.config.fonts,
      state: () => this.lane.state(),
      subscribe: (l) => this.lane.subscribe(l),
      onScreen: () => this.lane.onScreen(),
      report: (r) => this.lane.report(r),
      media: (sha) => this.media(sha),
    });
    await new Promise<void>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: this.o.config.port }, () => resolve());
      s.once('error', reject);
      this.server = s;
    });
    this.log.info({ url: this.url }, 'kiosk page served');
    await this.o.driver.start(this.url);
    this.watchdog.start();
    this.started = true;
    this.applyPower();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.offProgramme?.();
    this.o.timers.clearTimeout(this.powerTimer);
    await this.watchdog.stop();
    await this.o.driver.stop().catch((err: unknown) => this.log.warn({ err }, 'browser stop failed'));
    const s = this.server;
    this.server = undefined;
    if (s)
      await new Promise<void>((r) => {
        if ('closeAllConnections' in s) s.closeAllConnections();
        s.close(() => r());
      });
    await this.lane.stop();
  }

  setBundles(bundles: readonly PlanBundle[]): void {
    this.bundles = [...bundles];
    this.lane.setBundles(bundles);
    if (this.started) this.applyPower();
  }

  /** A picture of the screen (DevTools): PNG unless asked otherwise. */
  screenshot(options?: ScreenshotOptions): Promise<Buffer> {
    return this.o.driver.screenshot(options);
  }

  /** The screen's part of health. */
  health(): NonNullable<Health['display']> {
    const last = this.lane.heartbeats().last;
    const alert = this.lane.latestAlert();
    return {
      onScreen: this.lane.onScreen(),
      heartbeatAgeMs: last ? Math.max(0, Math.round(this.o.clock.now() - last.at)) : null,
      restarts: this.watchdog.restarts,
      screen: this.o.power.state(),
      powerControl: this.o.power.control,
      ...(alert ? { alert } : {}),
    };
  }

  private bundles: PlanBundle[] = [];

  private media(sha: string): { path: string; mediaType: string } | undefined {
    for (const b of this.bundles)
      for (const it of b.manifest.items)
        if (it.blob?.sha256 === sha)
          return { path: `${b.blobDir.replace(/\/+$/, '')}/${sha}`, mediaType: it.blob.mediaType };
    return undefined;
  }

  /**
   * Screen on or off by the configured hours (on during an emergency); checked every minute. A
   * control that fails (no CEC adapter, a broken HDMI-CEC link) is said once, as one warning and one
   * SCREEN_POWER_FAILED alert, and then tried again after a pause that doubles up to an hour, in
   * silence, until it works again (said once too).
   */
  private applyPower(): void {
    this.o.timers.clearTimeout(this.powerTimer);
    const on = screenShouldBeOn(
      this.o.config.screen.hours,
      this.o.clock.now(),
      this.o.policy.utcOffset ?? '+07:00',
      this.lane.emergencyUp(),
    );
    const want = on ? 'on' : 'off';
    if (
      this.o.power.state() !== want &&
      !this.powerBusy &&
      mayTryPower(this.powerRetry, this.o.clock.now())
    ) {
      this.powerBusy = true;
      const control = this.o.power.control;
      this.o.power.set(on).then(
        () => {
          this.powerBusy = false;
          const r = powerSucceeded(this.powerRetry);
          if (r.say)
            this.log.info({ control, failures: this.powerRetry.failures }, 'screen power switches again');
          this.powerRetry = r.state;
        },
        (err: unknown) => {
          this.powerBusy = false;
          const r = powerFailed(this.powerRetry, this.o.clock.now(), POWER_RETRY_MAX_MS);
          this.powerRetry = r.state;
          const reason = err instanceof Error ? err.message : String(err);
          const pauseMin = Math.round(r.pauseMs / 60_000);
          if (r.say) {
            // the reason in words, no stack: this is the board's hardware, not a bug
            this.log.warn(
              { control, reason },
              `screen power unavailable, the screen stays as it is; tried again in ${pauseMin} min, then less and less often (at most hourly) without further warnings`,
            );
            this.o.onAlert?.('SCREEN_POWER_FAILED', reason);
          } else
            this.log.debug(
              { control, reason, failures: r.state.failures, pauseMin },
              'screen power still unavailable',
            );
        },
      );
    }
    this.powerTimer = this.o.timers.setTimeout(() => this.applyPower(), 60_000);
  }
}
