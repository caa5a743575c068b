/**
 * The trusted clock service's surface (implemented by services/clock.ts).
 * It implements Clock (contracts.ts) and PlayerClock (player-api.ts).
 */
import type { ClockState } from '@loa/protocol';

export interface TrustedClockOptions {
  /** Directory for the persisted `clock.json` (last trusted time, fsync'd). */
  dataDir: string;
  /** Poll NTP sync state (`timedatectl show -p NTPSynchronized`) this often; default 60 s. 0 disables. */
  ntpPollMs?: number;
  /** The modem's network time (AT+CCLK via the modem supervisor); null when unknown. */
  modemTime?: () => Promise<{ timeMs: number } | null>;
  /** Poll the modem time this often; default 10 min. */
  modemPollMs?: number;
  /** Persist the last trusted time this often; default 60 s. */
  checkpointMs?: number;
}

export interface TrustedClockApi {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Agent time, ms since epoch (trusted anchor + monotonic elapsed, never before the persisted time). */
  now(): number;
  trusted(): boolean;
  state(): ClockState;
  /** The fleet server's time (e.g. HTTP Date header or an MQTT message), with the round trip. */
  reportServerTime(timeMs: number, rttMs?: number): void;
  onChange(listener: () => void): () => void;
}
