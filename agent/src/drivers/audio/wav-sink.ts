/**
 * A WAV file that behaves like a sound card: it starts its clock at open(), and each playback's
 * PCM is placed where it came out in time (silence fills the gaps). Tests read the file and find
 * a sound at the position it was played. PCM: signed 16-bit little-endian.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export const SINK_RATE = 48_000;
export const SINK_CHANNELS = 2;
const BYTES_PER_FRAME = 2 * SINK_CHANNELS;
/** Only pad when the output is this far behind the clock (jitter of ffmpeg's first chunk). */
const PAD_SLACK_MS = 5;

export function wavHeader(dataBytes: number, rate = SINK_RATE, channels = SINK_CHANNELS): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export class WavSink {
  private fh: FileHandle | undefined;
  private t0 = 0;
  private written = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async open(): Promise<void> {
    this.fh = await open(this.path, 'w');
    await this.fh.write(wavHeader(0), 0, 44, 0);
    this.t0 = this.now();
    this.written = 0;
  }

  /** Milliseconds since open (the sink's clock). */
  clockMs(): number {
    return this.now() - this.t0;
  }

  /** Audio written so far, ms. */
  writtenMs(): number {
    return ((this.written / BYTES_PER_FRAME) * 1000) / SINK_RATE;
  }

  /** Marks the start of a playback: silence up to now, so its audio lands where it came out. */
  beginSegment(): void {
    this.enqueue(() => this.padToNow());
  }

  write(chunk: Buffer): void {
    this.enqueue(async () => {
      const fh = this.fh;
      if (!fh) return;
      // Keep whole frames only (ffmpeg writes whole frames; this guards odd chunking).
      await fh.write(chunk, 0, chunk.length, 44 + this.written);
      this.written += chunk.length;
    });
  }

  /**
   * How far the audio written so far runs ahead of the clock, ms (what a sound card would still
   * have to play), once the queued writes are done.
   */
  async aheadMs(): Promise<number> {
    await this.chain;
    return Math.max(0, this.writtenMs() - this.clockMs());
  }

  /** Waits for queued writes; throws the first write error. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.enqueue(() => this.padToNow());
    await this.chain;
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return;
    // An odd byte count would break frame alignment: trim to whole frames.
    this.written -= this.written % BYTES_PER_FRAME;
    await fh.write(wavHeader(this.written), 0, 44, 0);
    await fh.truncate(44 + this.written);
    await fh.sync();
    await fh.close();
    if (this.failure) throw this.failure;
  }

  private async padToNow(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    const behindMs = this.clockMs() - this.writtenMs();
    if (behindMs <= PAD_SLACK_MS) return;
    const frames = Math.round((behindMs * SINK_RATE) / 1000);
    let bytes = frames * BYTES_PER_FRAME;
    // Align the file to whole frames before padding.
    bytes += (BYTES_PER_FRAME - (this.written % BYTES_PER_FRAME)) % BYTES_PER_FRAME;
    const zeros = Buffer.alloc(Math.min(bytes, 1 << 20));
    while (bytes > 0) {
      const n = Math.min(bytes, zeros.length);
      await fh.write(zeros, 0, n, 44 + this.written);
      this.written += n;
      bytes -= n;
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
  }
}
