/**
 * Proof-of-play journal: every event is signed with the device key, chained to the previous one
 * (seq + prev hash), appended to an fsync'd NDJSON segment and kept until the server acknowledges
 * it. A torn last line after a power cut is truncated on start; an event whose record() resolved
 * is on disk. Memory stays flat: pending proofs are read back from disk in batches.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { type FileHandle, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addSignature,
  type Clock,
  GENESIS_PREV,
  LoaError,
  type Proof,
  type ProofBody,
  ProofBodySchema,
  ProofSchema,
  proofHash,
} from '@loa/protocol';
import { fsyncDir, writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Emitter } from '../../events.js';
import { ensureDir, readJsonFile, SerialQueue } from '../system/data-dir.js';
import type { ProofDraft, ProofSink } from './ports.js';

export interface ProofJournalOptions {
  dir: string;
  privateKey: KeyObject;
  /** The device id written into each proof (may change once, at enrolment). */
  deviceId: () => string;
  clock: Clock;
  logger: Logger;
  /** Start a new segment once the active one reaches this size (default 1 MiB). */
  segmentBytes?: number;
  /** Fully acknowledged segments kept for the technician page (default 2). */
  keepAckedSegments?: number;
}

const AckStateSchema = z.object({ upToSeq: z.number().int().min(0) });
const SEGMENT_RE = /^proofs-(\d{12})\.ndjson$/;
const segName = (firstSeq: number) => `proofs-${String(firstSeq).padStart(12, '0')}.ndjson`;

interface Segment {
  firstSeq: number;
  path: string;
}

function parseLine(line: string): Proof | undefined {
  if (!line) return undefined;
  try {
    const r = ProofSchema.safeParse(JSON.parse(line));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** What the journal tells: a proof is on disk; the server stored everything up to a seq. */
export type ProofJournalEvents = { appended: Proof; acked: number };

export class ProofJournal extends Emitter<ProofJournalEvents> implements ProofSink {
  private readonly opts: Required<ProofJournalOptions>;
  private readonly queue = new SerialQueue();
  private segments: Segment[] = [];
  private fh: FileHandle | undefined;
  private activeSize = 0;
  private seq = 0;
  private prev = GENESIS_PREV;
  private acked = 0;
  private started = false;

  constructor(opts: ProofJournalOptions) {
    super();
    this.opts = { segmentBytes: 1024 * 1024, keepAckedSegments: 2, ...opts };
  }

  get lastSeq(): number {
    return this.seq;
  }
  get ackedSeq(): number {
    return this.acked;
  }
  /** Proofs written but not acknowledged. */
  get backlog(): number {
    return Math.max(0, this.seq - this.acked);
  }

  async start(): Promise<void> {
    await ensureDir(this.opts.dir);
    this.acked = (await readJsonFile(this.ackPath, AckStateSchema))?.upToSeq ?? 0;
    this.segments = await this.listSegments();
    // Recover from the newest segment that still holds a valid line, truncating torn tails.
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i] as Segment;
      const last = await this.recoverSegment(seg.path);
      if (last) {
        this.seq = last.seq;
        this.prev = proofHash(last);
        break;
      }
      if (i > 0) {
        await rm(seg.path, { force: true });
        this.segments.splice(i, 1);
      }
    }
    if (this.seq === 0 && this.acked > 0) this.seq = this.acked;
    if (this.acked > this.seq) this.acked = this.seq;
    await this.openActive();
    this.started = true;
    this.opts.logger.info({ lastSeq: this.seq, acked: this.acked }, 'proof journal ready');
  }

  async stop(): Promise<void> {
    await this.queue.run(async () => {
      this.started = false;
      await this.fh?.close();
      this.fh = undefined;
    });
  }

  /** Signs, chains and durably appends the event; resolves once it is on disk. */
  record(draft: ProofDraft): Promise<void> {
    return this.queue.run(async () => {
      if (!this.started || !this.fh) throw new LoaError('JOURNAL_CLOSED', 'the proof journal is not open');
      const body: ProofBody = {
        ...draft,
        type: 'loa-proof',
        format: 1,
        eventId: randomUUID(),
        deviceId: this.opts.deviceId(),
        seq: this.seq + 1,
        prev: this.prev,
        at: new Date(this.opts.clock.now()).toISOString(),
      };
      if (body.reason && body.reason.length > 500) body.reason = `${body.reason.slice(0, 499)}…`;
      const checked = ProofBodySchema.safeParse(body);
      if (!checked.success)
        throw new LoaError('PROOF_INVALID', 'the proof event does not match the proof schema', {
          cause: checked.error,
        });
      const proof = ProofSchema.parse(
        addSignature({ ...checked.data, signatures: [] }, this.opts.privateKey),
      );
      if (this.activeSize >= this.opts.segmentBytes) await this.rotate(proof.seq);
      const line = Buffer.from(`${JSON.stringify(proof)}\n`);
      await this.fh.write(line);
      await this.fh.datasync();
      this.activeSize += line.length;
      this.seq = proof.seq;
      this.prev = proofHash(proof);
      this.emit('appended', proof);
    });
  }

  /** The server stored every proof up to and including `upToSeq`. */
  ack(upToSeq: number): Promise<void> {
    return this.queue.run(async () => {
      const upTo = Math.min(upToSeq, this.seq);
      if (upTo <= this.acked) return;
      this.acked = upTo;
      await writeJsonAtomic(this.ackPath, { upToSeq: upTo }, 0o600);
      await this.pruneSegments();
      this.emit('acked', upTo);
    });
  }

  /** Up to `limit` proofs with seq ≥ fromSeq, in order, read from disk. */
  async read(fromSeq: number, limit: number): Promise<Proof[]> {
    const out: Proof[] = [];
    const segs = this.segments;
    let idx = segs.length - 1;
    while (idx > 0 && (segs[idx] as Segment).firstSeq > fromSeq) idx--;
    for (let i = Math.max(0, idx); i < segs.length && out.length < limit; i++) {
      let text: string;
      try {
        text = await readFile((segs[i] as Segment).path, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const p = parseLine(line);
        if (p && p.seq >= fromSeq && p.seq <= this.seq) {
          out.push(p);
          if (out.length >= limit) break;
        }
      }
    }
    return out;
  }

  /** Proofs not yet acknowledged, oldest first, at most `limit`. */
  pending(limit = 50): Promise<Proof[]> {
    return this.read(this.acked + 1, limit);
  }

  /** The latest `n` proofs (for the technician page). */
  recent(n = 20): Promise<Proof[]> {
    return this.read(Math.max(1, this.seq - n + 1), n);
  }

  private get ackPath(): string {
    return join(this.opts.dir, 'acked.json');
  }

  private async listSegments(): Promise<Segment[]> {
    const names = await readdir(this.opts.dir);
    return names
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ firstSeq: Number(m[1]), path: join(this.opts.dir, m[0]) }))
      .sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** Truncates a segment after its last valid line; returns that line's proof. */
  private async recoverSegment(path: string): Promise<Proof | undefined> {
    const buf = await readFile(path);
    let end = buf.length;
    let last: Proof | undefined;
    while (end > 0) {
      const nl = buf.lastIndexOf(0x0a, end - 1);
      if (nl === end - 1) {
        // A complete line ends at `end`: check it.
        const start = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) + 1 : 0;
        const p = parseLine(buf.subarray(start, end - 1).toString('utf8'));
        if (p) {
          last = p;
          break;
        }
        end = start;
      } else {
        end = nl + 1; // torn tail without newline
      }
    }
    if (end < buf.length) {
      this.opts.logger.warn({ path, dropped: buf.length - end }, 'proof journal: torn tail truncated');
      await truncate(path, end);
      const fh = await open(path, 'r+');
      await fh.sync();
      await fh.close();
    }
    return last;
  }

  private async openActive(): Promise<void> {
    let seg = this.segments.at(-1);
    if (!seg) {
      seg = { firstSeq: this.seq + 1, path: join(this.opts.dir, segName(this.seq + 1)) };
      this.segments.push(seg);
    }
    this.fh = await open(seg.path, 'a', 0o600);
    this.activeSize = (await stat(seg.path)).size;
    await fsyncDir(this.opts.dir);
  }

  private async rotate(firstSeq: number): Promise<void> {
    await this.fh?.sync();
    await this.fh?.close();
    const seg = { firstSeq, path: join(this.opts.dir, segName(firstSeq)) };
    this.fh = await open(seg.path, 'a', 0o600);
    this.activeSize = 0;
    this.segments.push(seg);
    await fsyncDir(this.opts.dir);
    await this.pruneSegments();
  }

  /** Deletes fully acknowledged segments beyond the few kept for display; never the active one. */
  private async pruneSegments(): Promise<void> {
    const done: Segment[] = [];
    for (let i = 0; i < this.segments.length - 1; i++) {
      const next = this.segments[i + 1] as Segment;
      if (next.firstSeq - 1 <= this.acked) done.push(this.segments[i] as Segment);
    }
    const drop = done.slice(0, Math.max(0, done.length - this.opts.keepAckedSegments));
    for (const seg of drop) await rm(seg.path, { force: true });
    if (drop.length) {
      this.segments = this.segments.filter((s) => !drop.includes(s));
      await fsyncDir(this.opts.dir);
    }
  }
}
