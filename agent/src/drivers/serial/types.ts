/**
 * Line-oriented serial transport and the AT command layer shared by the modem and the FM module.
 *
 * Layers: LineTransport (serialport + ReadlineParser, reconnects; or a simulated device)
 *   → AtChannel (one command at a time, reply matching, timeouts, URCs apart)
 *   → semantics (drivers/modem/quectel.ts, drivers/fm/rda5807.ts).
 */
import type { Listenable } from '../../events.js';

export type LineTransportEvents = {
  /** A complete line from the device, without its line ending. Empty lines are dropped. */
  line: string;
  /** The port is open (first time and after each reconnect). */
  open: undefined;
  /** The port closed (unplugged, error, or stop()): the error, if any. */
  close: Error | undefined;
};

export interface LineTransport extends Listenable<LineTransportEvents> {
  /** Opens the port and keeps it open (reconnecting) until stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly isOpen: boolean;
  /** Writes one line; the transport appends '\r'. Error SERIAL_CLOSED when not open. */
  writeLine(line: string): Promise<void>;
}

export interface AtReply {
  /** The command as sent, e.g. 'AT+CSQ'. */
  command: string;
  /** Information lines between the command and its final result code. */
  lines: string[];
  /** The final result code line, e.g. 'OK'. */
  final: string;
}

export interface AtSendOptions {
  /** Default per the channel (5000 ms). */
  timeoutMs?: number;
}

export interface AtChannel {
  /** Sends one AT command (queued behind any pending one) and resolves with its reply on OK.
   * Errors (LoaError codes): AT_TIMEOUT, AT_ERROR, AT_CME_ERROR, AT_CMS_ERROR, SERIAL_CLOSED,
   * AT_QUEUE_FULL, AT_STOPPED. */
  send(command: string, options?: AtSendOptions): Promise<AtReply>;
  /** Unsolicited result codes (lines not part of a reply). Returns an unsubscribe function. */
  onUrc(listener: (line: string) => void): () => void;
}

export const SERIAL_ERRORS = {
  SERIAL_UNAVAILABLE: 'SERIAL_UNAVAILABLE',
  SERIAL_CLOSED: 'SERIAL_CLOSED',
  AT_TIMEOUT: 'AT_TIMEOUT',
  AT_ERROR: 'AT_ERROR',
  AT_CME_ERROR: 'AT_CME_ERROR',
  AT_CMS_ERROR: 'AT_CMS_ERROR',
  AT_QUEUE_FULL: 'AT_QUEUE_FULL',
  AT_STOPPED: 'AT_STOPPED',
  AT_BAD_REPLY: 'AT_BAD_REPLY',
} as const;
