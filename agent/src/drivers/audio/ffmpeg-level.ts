/**
 * The gain of a running ffmpeg process, changed through ffmpeg's command interface on stdin:
 * `c` followed by "volume -1 volume <gain>" sends the command to the volume filter, which
 * applies it to the next frame and answers "Command reply for stream N: ret:0" on stderr.
 * ffmpeg looks at stdin every 100 ms and drops commands until its filter graph is configured
 * (first decoded frame), so an unanswered command is resent, within a time limit.
 */
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';

/** Resend an unanswered command after this long (ffmpeg reads stdin every 100 ms). */
const RESEND_MS = 120;
/** Give up waiting for a command to be applied after this long. */
const TIMEOUT_MS = 600;
/**
 * Audio already past the volume filter when it applied a command (filter and output buffers,
 * with -re a frame or two) still reaches the output within this.
 */
const DRAIN_MS = 80;
const COMMAND_REPLY = /^Command reply for stream \d+: ret:(-?\d+)/;

export class FfmpegLevel {
  /** Linear gain of the volume and item gain. */
  private level: number;
  private muted = false;
  /** The gain the process runs with (undefined before it is built). */
  private applied: number | undefined;
  private pending: number | undefined;
  private stdin: Writable | undefined;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private firstSentAt = 0;
  private closed = false;

  constructor(
    level: number,
    private readonly log: Logger,
    private readonly label: string | undefined,
  ) {
    this.level = level;
  }

  /** The gain the process is built with (unmuted: its audio leaves only once unmuted). */
  initial(): number {
    this.applied = this.level;
    return this.level;
  }

  /** The process is running: commands go to its stdin (a change made meanwhile is sent). */
  attach(stdin: Writable | undefined): void {
    this.stdin = stdin;
    stdin?.on('error', () => undefined);
  }

  /** Whether a change is waiting for the process. */
  get dirty(): boolean {
    return this.applied !== undefined && this.applied !== this.wanted;
  }

  setLevel(level: number): Promise<void> {
    this.level = level;
    return this.sync();
  }

  setMuted(muted: boolean, send: boolean): Promise<void> {
    this.muted = muted;
    return send ? this.sync() : Promise.resolve();
  }

  /** Feeds a stderr line; true if it was a command reply. */
  line(line: string): boolean {
    const m = COMMAND_REPLY.exec(line);
    if (!m) return false;
    this.replied(m[1] === '0');
    return true;
  }

  /** Resolves every waiter: the process ended or was stopped. */
  close(): void {
    this.closed = true;
    this.settle();
  }

  /** Sends the wanted gain if it differs from the applied one; resolves once it is out. */
  sync(): Promise<void> {
    if (this.closed || !this.dirty) {
      if (!this.dirty) this.settle();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => {
      this.waiters.push(resolve);
    });
    this.send();
    return done;
  }

  private get wanted(): number {
    return this.muted ? 0 : this.level;
  }

  private send(): void {
    const stdin = this.stdin;
    if (!stdin?.writable || this.closed) {
      // Not running yet: attach() comes with the process and the caller syncs then.
      if (this.closed) this.settle();
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.firstSentAt === 0) this.firstSentAt = performance.now();
    this.pending = this.wanted;
    stdin.write(`cvolume -1 volume ${this.wanted.toFixed(6)}\n`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (performance.now() - this.firstSentAt > TIMEOUT_MS) {
        this.log.warn({ label: this.label }, 'ffmpeg did not confirm a volume change');
        this.settle();
      } else this.send();
    }, RESEND_MS);
    this.timer.unref();
  }

  private replied(ok: boolean): void {
    if (this.pending === undefined) return;
    if (ok) this.applied = this.pending;
    this.pending = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstSentAt = 0;
    if (this.dirty && !this.closed) {
      this.send();
      return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length > 0)
      setTimeout(() => {
        for (const w of waiters) w();
      }, DRAIN_MS).unref();
  }

  private settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.firstSentAt = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
