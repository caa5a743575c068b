/**
 * What a noticeboard's page shows, as data: the agent computes a ScreenState from the plan and
 * pushes it to the kiosk page, which renders it and reports back what it actually showed.
 * Pure types, shared by the display service, the kiosk server and the tests.
 */
import type { PriorityClass } from '../scheduler/types.js';

export type FrameKind = 'image' | 'video' | 'text';
export type ScreenLayout = 'zone' | 'fullscreen';

/** One item in the main area (or the whole screen in the fullscreen layout). */
export interface Frame {
  /** Unique per showing: the slot's item key plus part, or `loop/<bundle>/<item>/<n>`. */
  key: string;
  bundleId?: string;
  channel?: string;
  bundleVersion?: number;
  itemId: string;
  entryId: string;
  kind: FrameKind;
  priorityClass: PriorityClass;
  title: string;
  /** Body of a text bulletin (NFC-normalised). */
  text?: string;
  lang: string;
  /** Local URL of the image or video on the kiosk server. */
  mediaUrl?: string;
  mediaType?: string;
  contentSha256?: string;
  /** Video with its sound (otherwise muted). */
  sound: boolean;
  /** Issuing unit shown under a bulletin. */
  unit: string;
  /** Date line of a bulletin, e.g. "07/12/2026". */
  dateLabel: string;
  /** Public page of the item, drawn as a QR code (SVG markup) when present. */
  link?: string;
  qrSvg?: string;
  /** ms since epoch (agent clock) */
  start: number;
  end: number;
  scheduledAt: number;
}

export interface TickerLine {
  key: string;
  bundleId?: string;
  itemId: string;
  text: string;
}

/** The emergency overlay: on top of everything until the emergency ends. */
export interface EmergencyOverlay {
  key: string;
  bundleId?: string;
  itemId: string;
  title: string;
  text?: string;
  lang: string;
  /** When the agent accepted it (ms since epoch). */
  since: number;
}

export interface ScreenState {
  /** Increases with every change; the page ignores older states. */
  rev: number;
  layout: ScreenLayout;
  unitName: string;
  utcOffset: string;
  /** Agent clock minus the system clock (ms): the page's clock and date follow the agent's. */
  clockSkewMs: number;
  frame: Frame | null;
  ticker: TickerLine[];
  /** Ticker speed in CSS pixels per second. */
  tickerSpeed: number;
  emergency: EmergencyOverlay | null;
  /** Minimum body text size in CSS px before a bulletin is paginated. */
  minFontPx: number;
}

/** `GET /kiosk/now`: what the page reported it is showing (the overlay when one is up). */
export interface OnScreen {
  bundleId?: string;
  itemId?: string;
  kind: FrameKind | 'emergency' | 'fallback';
  /** ISO instant of the first frame shown. */
  since: string;
}
