/**
 * The noticeboard's browser and screen, as the display service sees them. The real driver
 * (chromium.ts) runs Chromium in kiosk mode and talks to it over the DevTools protocol; the
 * simulated one (sim.ts) keeps the same state without a browser, for demos and the simulator.
 */

export interface DisplayDriver {
  readonly name: string;
  /** Opens `url` full screen (starts the browser). */
  start(url: string): Promise<void>;
  /** Restarts the browser on the same page (the watchdog's remedy). */
  restart(): Promise<void>;
  /** A picture of what the page shows (DevTools `Page.captureScreenshot`), PNG by default. */
  screenshot(options?: ScreenshotOptions): Promise<Buffer>;
  /** Whether the browser process is running. */
  running(): boolean;
  stop(): Promise<void>;
}

export interface ScreenshotOptions {
  format?: 'png' | 'jpeg';
  /** JPEG quality 0–100. */
  quality?: number;
}

export type PowerControl = 'cec' | 'wlr-randr' | 'none';

/** The panel's power: HDMI-CEC when `cec-client` is present, else the Wayland output, else none. */
export interface ScreenPower {
  readonly control: PowerControl;
  set(on: boolean): Promise<void>;
  state(): 'on' | 'off' | 'unknown';
}
