/**
 * Line transport over serialport: opens the port, splits input into lines, writes commands,
 * and reopens the port with backoff after it closes (USB modems re-enumerate after a reset).
 *
 * Lines are split here rather than with ReadlineParser: a device sending garbage without line
 * endings would grow ReadlineParser's buffer without bound; this splitter caps a line at
 * `maxLineBytes` and discards the excess.
 */
import { globalTimers, LoaError, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import { Emitter } from '../../events.js';
import { LineSplitter } from './lines.js';
import type { LineTransport, LineTransportEvents } from './types.js';

/** The part of a serialport stream the transport uses (SerialPort and SerialPortMock both fit). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback?: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  write(data: string | Buffer, callback?: (err: Error | null | undefined) => void): boolean;
  drain(callback?: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (err?: Error | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeAllListeners(): this;
}

export interface PortOpenOptions {
  path: string;
  baudRate: number;
  autoOpen: false;
}

export interface SerialLineTransportOptions {
  path: string;
  baudRate?: number;
  logger: Logger;
  /** Creates the port object; default `new SerialPort(options)`. Tests pass SerialPortMock. */
  openPort?: (options: PortOpenOptions) => SerialPortLike;
  /** Reconnect backoff (ms): doubles from min to max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  maxLineBytes?: number;
  timers?: Timers;
}

export class SerialLineTransport extends Emitter<LineTransportEvents> implements LineTransport {
  private readonly opts: Required<Omit<SerialLineTransportOptions, 'logger' | 'timers'>>;
  private readonly log: Logger;
  private readonly timers: Timers;
  private port: SerialPortLike | null = null;
  private running = false;
  private retryMs: number;
  private retryTimer: unknown = null;

  constructor(options: SerialLineTransportOptions) {
    super();
    this.opts = {
      path: options.path,
      baudRate: options.baudRate ?? 115_200,
      openPort: options.openPort ?? ((o) => new SerialPort(o)),
      reconnectMinMs: options.reconnectMinMs ?? 1000,
      reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
      maxLineBytes: options.maxLineBytes ?? 4096,
    };
    this.log = options.logger.child({ module: 'serial', path: options.path });
    this.timers = options.timers ?? globalTimers;
    this.retryMs = this.opts.reconnectMinMs;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Tries to open once; on failure keeps retrying in the background (never throws). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.port = null;
  }

  async writeLine(line: string): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) {
      throw new LoaError('SERIAL_CLOSED', `Cổng nối tiếp ${this.opts.path} chưa mở`, {
        details: { path: this.opts.path },
      });
    }
    await new Promise<void>((resolve, reject) => {
      port.write(`${line}\r`, (err) => {
        if (err)
          reject(new LoaError('SERIAL_CLOSED', `Không ghi được vào ${this.opts.path}`, { cause: err }));
        else port.drain(() => resolve());
      });
    });
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const port = this.opts.openPort({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    const splitter = new LineSplitter(this.opts.maxLineBytes, (line) => this.emit('line', line));
    port.on('data', (chunk) => splitter.push(chunk));
    port.on('error', (err) => this.log.warn({ err }, 'serial port error'));
    const opened = await new Promise<Error | null>((resolve) => port.open((err) => resolve(err)));
    if (opened) {
      port.removeAllListeners();
      this.log.warn({ err: opened, retryMs: this.retryMs }, 'serial port open failed');
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      port.close();
      return;
    }
    this.port = port;
    this.retryMs = this.opts.reconnectMinMs;
    port.on('close', (err) => {
      port.removeAllListeners();
      // A write in flight when the port vanished still reports its error: keep a listener.
      port.on('error', (e) => this.log.debug({ err: e }, 'serial error after close'));
      if (this.port === port) this.port = null;
      this.emit('close', err ?? undefined);
      if (this.running) {
        this.log.warn({ err }, 'serial port closed; reconnecting');
        this.scheduleReconnect();
      }
    });
    this.log.info('serial port open');
    this.emit('open');
  }

  private scheduleReconnect(): void {
    if (!this.running || this.retryTimer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.opts.reconnectMaxMs);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect().catch((err: unknown) => this.log.error({ err }, 'serial reconnect failed'));
    }, delay);
  }
}
