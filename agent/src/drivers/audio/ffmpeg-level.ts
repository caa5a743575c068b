/**
 * The gain of a running ffmpeg process, changed through ffmpeg's command interface on stdin:
 * `c` followed by "volume -1 volume <gain>" sends the command to the volume filter, which
 * applies it to the next frame and answers "Command reply for stream N: ret:0" on stderr.
 * ffmpeg reads one command from stdin every 100 ms, in order, and drops commands until its
 * filter graph is configured (first decoded frame): until then an unanswered command is resent;
 * once the graph answers, every command written is read in turn (late when the process is
 * starved of CPU or stopped), so replies are counted against the commands written.
 *
 * A change that is not confirmed within a time limit resolves `false`: the gain the process
 * runs with is then unknown (the commands still queued on its stdin are applied when it gets to
 * them), and the next change is always sent.
 */
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';

/** Resend an unanswered command after this long while the filter graph may not exist yet. */
const RESEND_MS = 120;
/** Give up waiting for a command to be applied after this long. */
export const LEVEL_TIMEOUT_MS = 600;
/**
 * Audio already past the volume filter when it applied a command (filter and output buffers,
 * with -re a frame or two) still reaches the output within this.
 */
export const DRAIN_MS = 80;
const COMMAND_REPLY = /^Command reply for stream \d+: ret:(-?\d+)/;

export class FfmpegLevel {
  /** Linear gain of the volume and item gain. */
  private level: number;
  private muted = false;
  /** The gain the process runs with (undefined before it is built). */
  private applied: number | undefined;
  /** A change timed out: what the process runs with is not known until it answers again. */
  private unknown = false;
  /** Commands written and not answered yet (once the graph answers). */
  private inFlight = 0;
  /** The gain of the last command written. */
  private lastSent: number | undefined;
  /** The filter graph exists: it answered a command (or its output was seen). */
  private configured = false;
  private stdin: Writable | undefined;
  private waiters: ((confirmed: boolean) => void)[] = [];
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

  /**
   * The process will build its filter graph with this gain (a waiting decoder reads it from its
   * level file on its first audio): it becomes the gain applied, without a command.
   */
  startWith(level: number): void {
    this.level = level;
    if (this.applied !== undefined) this.applied = level;
  }

  /** The process is running: commands go to its stdin (a change made meanwhile is sent). */
  attach(stdin: Writable | undefined): void {
    this.stdin = stdin;
    stdin?.on('error', () => undefined);
  }

  /** The process's output was seen: its filter graph exists, commands are no longer dropped. */
  flowing(): void {
    this.configured = true;
  }

  /** Whether a change is waiting for the process. */
  get dirty(): boolean {
    return this.applied !== undefined && (this.unknown || this.applied !== this.wanted);
  }

  /** The output is wanted muted now. */
  get mutedWanted(): boolean {
    return this.muted;
  }

  setLevel(level: number): Promise<boolean> {
    this.level = level;
    return this.sync();
  }

  setMuted(muted: boolean, send: boolean): Promise<boolean> {
    this.muted = muted;
    return send ? this.sync() : Promise.resolve(true);
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
    this.settle(true);
  }

  /**
   * Sends the wanted gain if it differs from the applied one; resolves true once it is out,
   * false if ffmpeg did not confirm it within the time limit.
   */
  sync(): Promise<boolean> {
    if (this.closed || !this.dirty) {
      if (!this.dirty) this.settle(true);
      return Promise.resolve(true);
    }
    const done = new Promise<boolean>((resolve) => {
      this.waiters.push(resolve);
    });
    // A command already out for the same gain is waited for, not repeated (a starved process
    // would apply every copy in turn, 100 ms apart).
    if (!(this.timer !== undefined && this.lastSent === this.wanted)) this.send();
    return done;
  }

  private get wanted(): number {
    return this.muted ? 0 : this.level;
  }

  /** Writes the wanted gain; the time limit counts from the first copy of a command. */
  private send(resend = false): void {
    const stdin = this.stdin;
    if (this.closed) {
      this.settle(true);
      return;
    }
    // Not running yet: attach() comes with the process and the caller syncs then.
    if (!stdin) return;
    if (!stdin.writable) {
      // The process no longer reads commands (its stdin broke): the change cannot be confirmed.
      this.log.warn({ label: this.label }, 'ffmpeg takes no commands: volume change not sent');
      this.unknown = true;
      this.settle(false);
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!resend || this.firstSentAt === 0) this.firstSentAt = performance.now();
    this.lastSent = this.wanted;
    this.inFlight++;
    stdin.write(`cvolume -1 volume ${this.wanted.toFixed(6)}\n`);
    this.arm();
  }

  private arm(): void {
    const left = LEVEL_TIMEOUT_MS - (performance.now() - this.firstSentAt);
    // Before the graph exists a command may be dropped: resend it. After, wait for the answer.
    const wait = this.configured ? Math.max(0, left) : Math.min(RESEND_MS, Math.max(0, left));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (performance.now() - this.firstSentAt >= LEVEL_TIMEOUT_MS) {
        this.log.warn({ label: this.label }, 'ffmpeg did not confirm a volume change');
        this.unknown = true;
        this.settle(false);
      } else if (this.configured) this.arm();
      else this.send(true);
    }, wait);
    this.timer.unref();
  }

  private replied(ok: boolean): void {
    if (!this.configured) {
      // The first answer: commands written before the graph existed were dropped.
      this.configured = true;
      this.inFlight = 1;
    }
    this.inFlight = Math.max(0, this.inFlight - 1);
    // Commands are applied in order: the state is known once the last one written is answered.
    if (this.inFlight > 0) return;
    if (ok && this.lastSent !== undefined) this.applied = this.lastSent;
    this.unknown = false;
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
        for (const w of waiters) w(true);
      }, DRAIN_MS).unref();
  }

  private settle(confirmed: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstSentAt = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(confirmed);
  }
}
