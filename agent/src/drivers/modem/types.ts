/**
 * Modem semantics: what the agent wants to know from an LTE modem (Quectel EC2x-class).
 * Implementations sit on an AtChannel (drivers/serial), whose transport is either the real
 * serial port or the simulated modem (modem/sim.ts). See agent/docs/hardware.md.
 */

export type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'unknown' | 'not-registered';

export interface Signal {
  /** Raw AT+CSQ rssi index 0–31, or null for 99 (not known or not detectable). */
  csq: number | null;
  /** Received signal strength in dBm per 3GPP TS 27.007 (0 → -113, 31 → -51), or null. */
  dbm: number | null;
}

export interface Operator {
  /** Operator name as the modem reports it (alphanumeric or numeric MCC/MNC), or null. */
  name: string | null;
  /** Access technology: 'gsm', 'umts', 'lte', … or undefined when not reported. */
  tech?: string;
}

export interface NetworkTime {
  /** The instant the modem reported, in milliseconds since the epoch (UTC). */
  utcMs: number;
  /** Time zone offset reported by the network, in quarter-hours (Vietnam: +28). */
  tzQuarterHours: number;
  /**
   * True when the time plausibly comes from the network (NITZ): the modem is registered and
   * the year is not the modem's power-on default (e.g. 1980/2000/2070).
   */
  trusted: boolean;
}

export interface ModemStatus {
  signal: Signal;
  operator: Operator;
  registration: Registration;
  iccid: string | null;
}

export interface Modem {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Errors: the AtChannel codes plus MODEM_BAD_REPLY when a reply cannot be parsed. */
  signal(): Promise<Signal>;
  operator(): Promise<Operator>;
  /** Combines CREG (circuit) and CEREG (LTE): registered if either is. */
  registration(): Promise<Registration>;
  iccid(): Promise<string>;
  networkTime(): Promise<NetworkTime>;
}

export const MODEM_ERRORS = {
  MODEM_BAD_REPLY: 'MODEM_BAD_REPLY',
} as const;
