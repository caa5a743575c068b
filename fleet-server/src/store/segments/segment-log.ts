/**
 * Append-only NDJSON segments, one file per UTC day (`YYYY-MM-DD.ndjson`) in a directory.
 *
 * - Group commit: appends queue up and go to disk in one write; a durable append resolves only
 *   after fdatasync of the batch that holds it (one fsync serves every waiter of the batch).
 *   Buffered appends resolve after the write (those of one write share a promise); the file is
 *   fsync'd every `fsyncMs`. A log holds one kind of append (the health and presence logs are
 *   buffered, the proof and audit logs durable): within a write, buffered lines go first.
 * - A torn last line (power cut during a write) is cut off when the segment is reopened; it was
 *   never acknowledged durably because its fsync never completed.
 * - Retention: segments older than `retentionDays` are deleted on start and at each rotation.
 * - Positions ({file, offset}) let a snapshot say "replay from here" so a restart does not read
 *   days of segments.
 */
import { createReadStream, constants as fsc, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fsyncDir } from '@loa/protocol/fs';
import { decideRetention, type RetentionDecision } from '../../domain/retention.js';
import { type DamageReport, Quarantine } from './damage.js';
import { readRetentionMarker, writeRetentionMarker } from './retention-marker.js';

export interface SegmentPosition {
  file: string;
  offset: number;
}

export interface SegmentLogOptions {
  dir: string;
  now: () => number;
  retentionDays: number;
  /** Interval of the background fsync for buffered appends (0 = fsync every batch). */
  fsyncMs: number;
  /** Called with every error of the background writer (logged by the owner). */
  onError?: (err: unknown) => void;
  /** Called once per damaged line found (it is also copied to quarantine.ndjson). */
  onDamage?: (d: DamageReport) => void;
  /** Called when retention refuses to act on a doubted clock. */
  onRetentionDoubt?: (d: Extract<RetentionDecision, { trusted: false }> & { dir: string }) => void;
  /** Operator confirmed the clock: retention acts on it even after a large jump. */
  retentionTrustClock?: boolean;
  /** Largest believable clock step between retention runs (default 7 days). */
  maxClockJumpMs?: number;
}

interface Pending {
  /** One or more lines, each ending with a line break. */
  line: string;
  /** How many lines `line` holds. */
  count: number;
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Buffered appends waiting for the same write share one promise (health arrives by the thousand
 * per second; a promise and its closures per line cost more than the line's part of the write).
 */
class SharedWait {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // a caller that drops the promise must not turn a failed write into an unhandled rejection
    // (the failure reaches onError too)
    this.promise.catch(() => undefined);
  }
}

const FILE_RE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class SegmentLog {
  private fh: FileHandle | undefined;
  private day = '';
  private size = 0;
  private queue: Pending[] = [];
  /** Buffered lines waiting for the next write, and the promise they share. */
  private buffered: string[] = [];
  private bufferedWait: SharedWait | undefined;
  private pumping: Promise<void> | undefined;
  private unsynced = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bytes written since start (benchmarks, metrics). */
  bytesWritten = 0;
  linesWritten = 0;
  fsyncs = 0;
  /** Damaged lines are copied here and reported, never skipped silently. */
  readonly quarantine: Quarantine;
  /** Set after a failed write until the file is cut back to `size`. */
  private needsTruncate = false;

  constructor(private readonly opts: SegmentLogOptions) {
    this.quarantine = new Quarantine(opts.dir, opts.onDamage);
  }

  async start(): Promise<void> {
    await fsp.mkdir(this.opts.dir, { recursive: true });
    await this.applyRetention();
    await this.openFor(this.opts.now());
    if (this.opts.fsyncMs > 0) {
      this.timer = setInterval(() => {
        if (this.unsynced && !this.pumping) void this.syncNow().catch((e) => this.opts.onError?.(e));
      }, this.opts.fsyncMs);
      this.timer.unref();
    }
  }

  /** Current end of the log (where the next append lands). */
  position(): SegmentPosition {
    return { file: `${this.day}.ndjson`, offset: this.size };
  }

  append(record: unknown, durable: boolean): Promise<void> {
    return this.appendLine(JSON.stringify(record), durable);
  }

  /**
   * Appends one record already serialised as a JSON text of one line (no line break inside:
   * the caller checks). Buffered appends of one batch share a promise.
   */
  appendLine(json: string, durable: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('segment log is closed'));
    const line = `${json}\n`;
    if (!durable) {
      this.buffered.push(line);
      this.bufferedWait ??= new SharedWait();
      const p = this.bufferedWait.promise;
      this.kick();
      return p;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ line, count: 1, durable, resolve, reject });
      this.kick();
    });
  }

  /** Appends several records in one piece (one waiter for all of them). */
  appendMany(records: readonly unknown[], durable: boolean): Promise<void> {
    const lines: string[] = [];
    for (const r of records) lines.push(JSON.stringify(r));
    return this.appendLines(lines, durable);
  }

  /**
   * Appends several records already serialised, each a JSON text of one line (no line break
   * inside: the caller checks), in one piece (one waiter for all of them).
   */
  appendLines(jsons: readonly string[], durable: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('segment log is closed'));
    if (jsons.length === 0) return Promise.resolve();
    let line = '';
    for (const j of jsons) line += `${j}\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({ line, count: jsons.length, durable, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.queue.length || this.buffered.length) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length || this.buffered.length) {
      const batch = this.queue;
      this.queue = [];
      const lines = this.buffered;
      const wait = this.bufferedWait;
      this.buffered = [];
      this.bufferedWait = undefined;
      try {
        const now = this.opts.now();
        if (dayOf(now) !== this.day) await this.rotate(now);
        let text = lines.join('');
        let count = lines.length;
        for (const p of batch) {
          text += p.line;
          count += p.count;
        }
        const buf = Buffer.from(text);
        const fh = this.fh as FileHandle;
        // a failed write (ENOSPC) may have left a fragment past `size`: cut it before writing on
        if (this.needsTruncate) {
          await fh.truncate(this.size);
          this.needsTruncate = false;
        }
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, this.size + off);
          off += bytesWritten;
        }
        this.size += buf.length;
        this.bytesWritten += buf.length;
        this.linesWritten += count;
        this.unsynced = true;
        if (batch.some((p) => p.durable) || this.opts.fsyncMs === 0) await this.syncNow();
        for (const p of batch) p.resolve();
        wait?.resolve();
      } catch (e) {
        // nothing of this batch is acknowledged; the next write starts at `size` again (explicit
        // offsets: the file is not in append mode) and cuts any fragment first
        this.needsTruncate = true;
        await this.fh?.truncate(this.size).then(
          () => {
            this.needsTruncate = false;
          },
          () => undefined,
        );
        for (const p of batch) p.reject(e);
        wait?.reject(e);
        this.opts.onError?.(e);
      }
    }
  }

  private async syncNow(): Promise<void> {
    if (!this.fh) return;
    this.unsynced = false;
    await this.fh.datasync();
    this.fsyncs++;
  }

  private async rotate(now: number): Promise<void> {
    if (this.fh) {
      await this.fh.sync();
      await this.fh.close();
      this.fh = undefined;
    }
    await this.applyRetention();
    await this.openFor(now);
  }

  private async openFor(now: number): Promise<void> {
    this.day = dayOf(now);
    const path = join(this.opts.dir, `${this.day}.ndjson`);
    const existed = await fsp
      .stat(path)
      .then(() => true)
      .catch(() => false);
    // read-write at explicit offsets, never append mode: after a failed write the next batch
    // must land at `size`, not after a fragment (Linux ignores the position in append mode)
    this.fh = await fsp.open(path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
    const st = await this.fh.stat();
    this.size = await repairTail(this.fh, st.size, (offset, cut) =>
      this.quarantine.report(`${this.day}.ndjson`, offset, cut, 'torn-tail'),
    );
    if (!existed) await fsyncDir(this.opts.dir);
  }

  /** Segment file names, oldest first. */
  async files(): Promise<string[]> {
    const names = await fsp.readdir(this.opts.dir).catch(() => [] as string[]);
    return names.filter((n) => FILE_RE.test(n)).sort();
  }

  private async applyRetention(): Promise<void> {
    const files = await this.files();
    const marker = await readRetentionMarker(this.opts.dir);
    const now = this.opts.now();
    const decision = decideRetention({
      now,
      retentionDays: this.opts.retentionDays,
      ...(marker ? { lastRunAt: marker.lastRunAt } : {}),
      ...(files.length ? { newestDay: (files[files.length - 1] as string).slice(0, 10) } : {}),
      ...(this.opts.maxClockJumpMs ? { maxJumpMs: this.opts.maxClockJumpMs } : {}),
      ...(this.opts.retentionTrustClock ? { confirmed: true } : {}),
    });
    if (!decision.trusted) this.opts.onRetentionDoubt?.({ ...decision, dir: this.opts.dir });
    const cutoff = decision.cutoffDay;
    if (decision.trusted) await writeRetentionMarker(this.opts.dir, now);
    for (const f of files) {
      const day = (FILE_RE.exec(f) as RegExpExecArray)[1] as string;
      if (day < cutoff) await fsp.rm(join(this.opts.dir, f), { force: true });
    }
  }

  /**
   * Reads records in file order from `from` (or the oldest file) to the end. Unparsable lines
   * (a torn tail of an older crash) are skipped and counted. `filter` sees the raw line first
   * (cheap substring checks) before JSON parsing. Return false from `onRecord` to stop.
   */
  async scan(
    onRecord: (rec: unknown, pos: SegmentPosition) => boolean | undefined,
    opts: {
      from?: SegmentPosition;
      fromDay?: string;
      toDay?: string;
      filter?: (line: string) => boolean;
    } = {},
  ): Promise<{ records: number; skipped: number }> {
    let records = 0;
    let skipped = 0;
    for (const f of await this.files()) {
      const day = f.slice(0, 10);
      if (opts.from && f < opts.from.file) continue;
      if (opts.fromDay && day < opts.fromDay) continue;
      if (opts.toDay && day > opts.toDay) break;
      const start = opts.from && f === opts.from.file ? opts.from.offset : 0;
      const stream = createReadStream(join(this.opts.dir, f), { start, encoding: 'utf8' });
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      let offset = start;
      let stop = false;
      for await (const line of rl) {
        offset += Buffer.byteLength(line) + 1;
        if (!line || (opts.filter && !opts.filter(line))) continue;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          skipped++;
          await this.quarantine.report(f, offset - Buffer.byteLength(line) - 1, line, 'unparsable');
          continue;
        }
        records++;
        if (onRecord(rec, { file: f, offset }) === false) {
          stop = true;
          break;
        }
      }
      rl.close();
      stream.destroy();
      if (stop) break;
    }
    return { records, skipped };
  }

  /** Waits for queued appends, fsyncs, closes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.pumping) await this.pumping;
    this.closed = true;
    if (this.fh) {
      await this.fh.sync();
      await this.fh.close();
      this.fh = undefined;
    }
  }

  /** Waits for queued appends and fsyncs them. */
  async flush(): Promise<void> {
    while (this.pumping) await this.pumping;
    if (this.unsynced) await this.syncNow();
  }
}

/** Truncates a torn last line (handing the cut bytes to `keepCut` first); returns the new size. */
async function repairTail(
  fh: FileHandle,
  size: number,
  keepCut: (offset: number, cut: Buffer) => Promise<void>,
): Promise<number> {
  if (size === 0) return 0;
  const chunk = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(chunk);
  let end = size;
  // walk back until a newline is found (lines are far shorter than a few chunks)
  while (end > 0) {
    const start = Math.max(0, end - chunk);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const idx = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (idx >= 0) {
      const keep = start + idx + 1;
      if (keep !== size) {
        await keepCut(keep, await readRange(fh, keep, size));
        await fh.truncate(keep);
        await fh.sync();
      }
      return keep;
    }
    end = start;
  }
  await keepCut(0, await readRange(fh, 0, size));
  await fh.truncate(0);
  await fh.sync();
  return 0;
}

async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const len = Math.min(to - from, 1024 * 1024);
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, from);
  return buf.subarray(0, bytesRead);
}
