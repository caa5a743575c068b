/**
 * FM receiver module: an RDA5807-class tuner behind a small MCU that speaks a line protocol
 * over serial (documented in agent/docs/hardware.md):
 *   AT            → OK
 *   AT+FRE=9870   → OK          (frequency in 10 kHz units, 8700–10800)
 *   AT+FRE?       → +FRE: 9870, OK
 *   AT+RSSI?      → +RSSI: 42, OK   (0–127, dBµV as the RDA5807 reports it)
 *   AT+ST?        → +ST: 1, OK      (1 = stereo pilot present)
 *   AT+VOL=12     → OK          (0–15)
 *   AT+MUTE=1     → OK
 * Its audio goes to the amplifier through the input-select relay (drivers/fm/source.ts).
 */

export interface FmSignal {
  /** Received level 0–127 (dBµV) as reported by the tuner. */
  rssi: number;
  stereo: boolean;
}

export interface FmTuner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Tunes to a frequency in MHz (87.0–108.0, 10 kHz steps). Error FM_FREQ_INVALID. */
  tune(mhz: number): Promise<void>;
  /** The frequency the module reports, in MHz. */
  frequency(): Promise<number>;
  signal(): Promise<FmSignal>;
  /** Module output volume 0–15. */
  setVolume(level: number): Promise<void>;
  setMute(muted: boolean): Promise<void>;
}

export const FM_ERRORS = {
  FM_FREQ_INVALID: 'FM_FREQ_INVALID',
  FM_BAD_REPLY: 'FM_BAD_REPLY',
  FM_NO_SIGNAL: 'FM_NO_SIGNAL',
} as const;
