/**
 * A LineTransport whose far end is a simulated serial device (modem, FM module). The device's
 * bytes pass through the same bounded line splitter as the real transport, so garbage and
 * partial lines are handled by the same code. The port closes while the device is unpowered
 * and reopens after its boot time, as a USB device re-enumerates.
 */
import { globalTimers, LoaError, type Timers } from '@loa/protocol';
import { Emitter } from '../../events.js';
import { LineSplitter } from './lines.js';
import type { LineTransport, LineTransportEvents } from './types.js';

/** What the device sends back for one command: bytes after a delay, or a drop-out. */
export interface SimReply {
  delayMs: number;
  bytes: Buffer;
  dropout?: boolean;
}

export interface SimSerialDevice {
  /** Handles one command line (without '\r'); null: the device says nothing. */
  handle(line: string): SimReply | null;
  readonly isPowered: boolean;
  onPower(listener: (powered: boolean) => void): () => void;
  /** Bytes the device sends once booted. */
  bootBytes(): Buffer;
  readonly bootMs: number;
}

export interface SimSerialTransportOptions {
  device: SimSerialDevice;
  timers?: Timers;
  /** How long a drop-out lasts before the port comes back (ms). Default 100. */
  dropoutMs?: number;
}

export class SimSerialTransport extends Emitter<LineTransportEvents> implements LineTransport {
  private readonly device: SimSerialDevice;
  private readonly timers: Timers;
  private readonly dropoutMs: number;
  private readonly splitter = new LineSplitter(4096, (line) => this.emit('line', line));
  private open = false;
  private running = false;
  private readonly handles = new Set<unknown>();
  private unpower: (() => void) | null = null;

  constructor(options: SimSerialTransportOptions) {
    super();
    this.device = options.device;
    this.timers = options.timers ?? globalTimers;
    this.dropoutMs = options.dropoutMs ?? 100;
  }

  get isOpen(): boolean {
    return this.open;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unpower = this.device.onPower((on) => {
      if (!on) this.setOpen(false, new Error('simulated device powered off'));
      else this.later(this.device.bootMs, () => this.boot());
    });
    if (this.device.isPowered) this.setOpen(true);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unpower?.();
    this.unpower = null;
    for (const h of this.handles) this.timers.clearTimeout(h);
    this.handles.clear();
    this.setOpen(false);
  }

  async writeLine(line: string): Promise<void> {
    if (!this.open) throw new LoaError('SERIAL_CLOSED', 'Cổng nối tiếp (mô phỏng) chưa mở');
    const reply = this.device.handle(line);
    if (!reply) return;
    this.later(reply.delayMs, () => {
      if (!this.open) return;
      if (reply.dropout) {
        this.setOpen(false, new Error('simulated USB drop-out'));
        this.later(this.dropoutMs, () => this.boot());
        return;
      }
      this.splitter.push(reply.bytes);
    });
  }

  private boot(): void {
    if (!this.running || !this.device.isPowered || this.open) return;
    this.setOpen(true);
    this.splitter.push(this.device.bootBytes());
  }

  private setOpen(open: boolean, err?: Error): void {
    if (this.open === open) return;
    this.open = open;
    if (open) this.emit('open');
    else this.emit('close', err);
  }

  private later(ms: number, fn: () => void): void {
    const h = this.timers.setTimeout(() => {
      this.handles.delete(h);
      fn();
    }, ms);
    this.handles.add(h);
  }
}
