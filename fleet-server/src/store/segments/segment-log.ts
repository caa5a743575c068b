/**
 * Append-only NDJSON segments, one file per UTC day (`YYYY-MM-DD.ndjson`) in a directory.
 *
 * - Group commit: appends queue up and go to disk in one write; a durable append resolves only
 *   after fdatasync of the batch that holds it (one fsync serves every waiter of the batch).
 *   Buffered appends resolve after the write; the file is fsync'd every `fsyncMs`.
 * - A torn last line (power cut during a write) is cut off when the segment is reopened; it was
 *   never acknowledged durably because its fsync never completed.
 * - Retention: segments older than `retentionDays` are deleted on start and at each rotation.
 * - Positions ({file, offset}) let a snapshot say "replay from here" so a restart does not read
 *   days of segments.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fsyncDir } from '@loa/protocol/fs';

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
}

interface Pending {
  line: string;
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
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
  private pumping: Promise<void> | undefined;
  private unsynced = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bytes written since start (benchmarks, metrics). */
  bytesWritten = 0;
  linesWritten = 0;
  fsyncs = 0;

  constructor(private readonly opts: SegmentLogOptions) {}

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
    if (this.closed) return Promise.reject(new Error('segment log is closed'));
    const line = `${JSON.stringify(record)}\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({ line, durable, resolve, reject });
      this.kick();
    });
  }

  appendMany(records: readonly unknown[], durable: boolean): Promise<void> {
    return Promise.all(records.map((r) => this.append(r, durable))).then(() => undefined);
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.queue.length) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        const now = this.opts.now();
        if (dayOf(now) !== this.day) await this.rotate(now);
        const buf = Buffer.from(batch.map((p) => p.line).join(''));
        const fh = this.fh as FileHandle;
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, this.size + off);
          off += bytesWritten;
        }
        this.size += buf.length;
        this.bytesWritten += buf.length;
        this.linesWritten += batch.length;
        this.unsynced = true;
        if (batch.some((p) => p.durable) || this.opts.fsyncMs === 0) await this.syncNow();
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e);
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
    this.fh = await fsp.open(path, 'a+', 0o600);
    const st = await this.fh.stat();
    this.size = await repairTail(this.fh, st.size);
    if (!existed) await fsyncDir(this.opts.dir);
  }

  /** Segment file names, oldest first. */
  async files(): Promise<string[]> {
    const names = await fsp.readdir(this.opts.dir).catch(() => [] as string[]);
    return names.filter((n) => FILE_RE.test(n)).sort();
  }

  private async applyRetention(): Promise<void> {
    const cutoff = dayOf(this.opts.now() - this.opts.retentionDays * 86_400_000);
    for (const f of await this.files()) {
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

/** Truncates a torn last line; returns the new size. */
async function repairTail(fh: FileHandle, size: number): Promise<number> {
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
        await fh.truncate(keep);
        await fh.sync();
      }
      return keep;
    }
    end = start;
  }
  await fh.truncate(0);
  await fh.sync();
  return 0;
}
