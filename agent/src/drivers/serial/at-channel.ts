/**
 * AT command layer: one command at a time over a LineTransport, a bounded queue, reply matching
 * (OK / ERROR / +CME ERROR / +CMS ERROR), a timeout per command, and unsolicited result codes
 * (URCs) kept apart from replies.
 *
 * After a timeout the device may still answer late; the channel then waits `recoveryMs` before
 * the next command and drops any stray lines that arrive meanwhile, so a late "OK" is never
 * taken as the answer to the next command.
 */
import { globalTimers, LoaError, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { AtChannel, AtReply, AtSendOptions, LineTransport } from './types.js';

export interface AtChannelOptions {
  transport: LineTransport;
  logger: Logger;
  /** Default per-command timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Quiet period after a timeout before the next command. Default 300 ms. */
  recoveryMs?: number;
  /** Commands waiting behind the current one. Default 16. */
  maxQueue?: number;
  /** Line prefixes always treated as URCs unless they answer the pending command. */
  urcPrefixes?: readonly string[];
  timers?: Timers;
}

/** URCs of 3GPP 27.007 and Quectel EC2x modems. */
export const DEFAULT_URC_PREFIXES = [
  'RDY',
  'RING',
  'NO CARRIER',
  'POWERED DOWN',
  '+CPIN:',
  '+CFUN:',
  '+CREG:',
  '+CGREG:',
  '+CEREG:',
  '+CTZV:',
  '+CTZE:',
  '+CMTI:',
  '+CDS:',
  '+CRING:',
  '+QIND:',
  '+QUSIM:',
  '+QNITZ:',
  '+QSTAT:',
] as const;

const FINAL_ERROR = new Set(['ERROR', 'NO CARRIER', 'NO DIALTONE', 'BUSY', 'NO ANSWER']);

interface Job {
  command: string;
  timeoutMs: number;
  resolve: (reply: AtReply) => void;
  reject: (err: Error) => void;
}

interface Pending extends Job {
  lines: string[];
  prefix: string | null;
  timer: unknown;
}

export class AtCommandChannel implements AtChannel {
  private readonly transport: LineTransport;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly recoveryMs: number;
  private readonly maxQueue: number;
  private readonly urcPrefixes: readonly string[];
  private readonly timers: Timers;
  private readonly queue: Job[] = [];
  private pending: Pending | null = null;
  private recovering: unknown = null;
  private readonly urcListeners = new Set<(line: string) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private stopped = true;
  /** Lines received that matched nothing (garbage, late replies): for health and tests. */
  strayLines = 0;

  constructor(options: AtChannelOptions) {
    this.transport = options.transport;
    this.log = options.logger.child({ module: 'at' });
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.recoveryMs = options.recoveryMs ?? 300;
    this.maxQueue = options.maxQueue ?? 16;
    this.urcPrefixes = options.urcPrefixes ?? DEFAULT_URC_PREFIXES;
    this.timers = options.timers ?? globalTimers;
  }

  /** Subscribes to the transport (does not start it: the owner does). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe.push(
      this.transport.on('line', (line) => this.onLine(line)),
      this.transport.on('close', () => this.failAll('SERIAL_CLOSED', 'Cổng nối tiếp đã đóng')),
      this.transport.on('open', () => this.pump()),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.recovering !== null) this.timers.clearTimeout(this.recovering);
    this.recovering = null;
    this.failAll('AT_STOPPED', 'Kênh lệnh AT đã dừng');
  }

  onUrc(listener: (line: string) => void): () => void {
    this.urcListeners.add(listener);
    return () => this.urcListeners.delete(listener);
  }

  send(command: string, options: AtSendOptions = {}): Promise<AtReply> {
    if (this.stopped) return Promise.reject(new LoaError('AT_STOPPED', 'Kênh lệnh AT đã dừng'));
    if (!/^AT[\x20-\x7e]*$/i.test(command)) {
      return Promise.reject(
        new LoaError('AT_BAD_COMMAND', 'Lệnh AT không hợp lệ', {
          details: { command: command.slice(0, 64) },
        }),
      );
    }
    if (!this.transport.isOpen) {
      return Promise.reject(
        new LoaError('SERIAL_CLOSED', 'Cổng nối tiếp chưa mở; không gửi được lệnh', { details: { command } }),
      );
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new LoaError('AT_QUEUE_FULL', 'Hàng đợi lệnh AT đã đầy', { details: { command } }),
      );
    }
    return new Promise<AtReply>((resolve, reject) => {
      this.queue.push({ command, timeoutMs: options.timeoutMs ?? this.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.pending || this.recovering !== null || this.stopped || !this.transport.isOpen) return;
    const job = this.queue.shift();
    if (!job) return;
    const pending: Pending = { ...job, lines: [], prefix: expectedPrefix(job.command), timer: null };
    this.pending = pending;
    pending.timer = this.timers.setTimeout(() => this.onTimeout(pending), job.timeoutMs);
    this.transport.writeLine(job.command).catch((err: unknown) => {
      if (this.pending !== pending) return;
      this.finish(pending);
      pending.reject(
        err instanceof LoaError
          ? err
          : new LoaError('SERIAL_CLOSED', 'Không ghi được lệnh AT', { cause: err }),
      );
    });
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p) {
      if (this.recovering !== null || isFinal(line)) {
        this.strayLines++;
        this.log.debug({ line: line.slice(0, 80) }, 'stray line dropped');
        return;
      }
      this.emitUrc(line);
      return;
    }
    if (line === p.command) return; // echo (ATE1)
    if (line === 'OK') {
      this.finish(p);
      p.resolve({ command: p.command, lines: p.lines, final: line });
      return;
    }
    const cme = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(line);
    if (cme || FINAL_ERROR.has(line)) {
      this.finish(p);
      const code = cme ? (cme[1] === 'CME' ? 'AT_CME_ERROR' : 'AT_CMS_ERROR') : 'AT_ERROR';
      p.reject(
        new LoaError(code, `Thiết bị trả lỗi cho ${p.command}: ${line}`, {
          details: { command: p.command, reply: line, ...(cme ? { deviceCode: cme[2] } : {}) },
        }),
      );
      return;
    }
    if (p.prefix !== null && line.startsWith(p.prefix)) {
      p.lines.push(line);
      return;
    }
    if (this.urcPrefixes.some((u) => line.startsWith(u))) {
      this.emitUrc(line);
      return;
    }
    p.lines.push(line);
  }

  private onTimeout(p: Pending): void {
    if (this.pending !== p) return;
    this.pending = null;
    this.log.warn({ command: p.command, timeoutMs: p.timeoutMs }, 'AT command timed out');
    this.recovering = this.timers.setTimeout(() => {
      this.recovering = null;
      this.pump();
    }, this.recoveryMs);
    p.reject(
      new LoaError('AT_TIMEOUT', `Thiết bị không trả lời lệnh ${p.command} sau ${p.timeoutMs} ms`, {
        details: { command: p.command, timeoutMs: p.timeoutMs, partial: p.lines.slice(0, 8) },
      }),
    );
  }

  private finish(p: Pending): void {
    this.timers.clearTimeout(p.timer);
    if (this.pending === p) this.pending = null;
    queueMicrotask(() => this.pump());
  }

  private failAll(code: string, message: string): void {
    const jobs: Job[] = this.queue.splice(0);
    if (this.pending) {
      this.timers.clearTimeout(this.pending.timer);
      jobs.unshift(this.pending);
      this.pending = null;
    }
    for (const j of jobs) j.reject(new LoaError(code, message, { details: { command: j.command } }));
  }

  private emitUrc(line: string): void {
    for (const l of this.urcListeners) l(line);
  }
}

/** 'AT+CSQ' → '+CSQ:', 'AT+COPS?' → '+COPS:', 'AT+FRE=9870' → '+FRE:', 'ATI' → null. */
export function expectedPrefix(command: string): string | null {
  const m = /^AT(\+[A-Z0-9]+)/i.exec(command);
  return m?.[1] ? `${m[1].toUpperCase()}:` : null;
}

function isFinal(line: string): boolean {
  return line === 'OK' || FINAL_ERROR.has(line) || /^\+CM[ES] ERROR:/.test(line);
}
