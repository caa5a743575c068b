/**
 * Screenshots for the fleet server: the screen is captured through the browser's DevTools
 * protocol and uploaded as the raw body of `POST {api}/ingest/screenshot` (device Basic auth),
 * on a signed `screenshot` command and, when the config asks, every `everyMs` (low rate: one
 * picture every few minutes is enough to see that a board shows what was published).
 */
import { type Clock, LoaError, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import { type HttpFetch, httpFetch } from '../../http/client.js';

/** The first periodic picture this long after start (ms), unless the period is shorter. */
const FIRST_MS = 20_000;

export interface ScreenshotUploaderOptions {
  /** Captures the screen; the bytes are PNG or JPEG as `format` says. */
  capture: () => Promise<Buffer>;
  format: 'png' | 'jpeg';
  /** The fleet server's API base, once enrolled. */
  api: () => string | undefined;
  /** Device credentials for the upload. */
  headers: () => Record<string, string>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Periodic uploads every this many ms (absent: only on command). */
  everyMs?: number;
  fetch?: HttpFetch;
}

export interface UploadedScreenshot {
  id: string;
  takenAt: string;
  size: number;
}

export class ScreenshotUploader {
  private timer: unknown;
  private running = false;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly o: ScreenshotUploaderOptions) {
    this.log = o.logger.child({ module: 'screenshots' });
  }

  start(): void {
    this.running = true;
    // the first picture soon after start (a board back from a power cut shows what it shows)
    const every = this.o.everyMs;
    if (every) this.schedule(Math.min(every, FIRST_MS));
  }

  stop(): void {
    this.running = false;
    this.o.timers.clearTimeout(this.timer);
  }

  /** Captures the screen now and uploads it; rejects with a coded error when either fails. */
  takeAndUpload(commandId?: string): Promise<UploadedScreenshot> {
    // one at a time: a command during a periodic capture waits for it
    const run = this.busy.then(
      () => this.once(commandId),
      () => this.once(commandId),
    );
    this.busy = run.catch(() => undefined);
    return run;
  }

  private schedule(ms = this.o.everyMs): void {
    if (!this.running || !ms) return;
    this.timer = this.o.timers.setTimeout(() => {
      if (!this.o.api()) return this.schedule(Math.min(this.o.everyMs ?? ms, FIRST_MS)); // not enrolled yet
      this.takeAndUpload()
        .catch((err: unknown) => this.log.warn({ err }, 'periodic screenshot not uploaded'))
        .finally(() => this.schedule());
    }, ms);
  }

  private async once(commandId?: string): Promise<UploadedScreenshot> {
    const api = this.o.api();
    if (!api) throw new LoaError('NOT_ENROLLED', 'Bảng tin chưa đăng ký nên chưa gửi được ảnh màn hình');
    const takenAt = new Date(this.o.clock.now()).toISOString();
    let bytes: Buffer;
    try {
      bytes = await this.o.capture();
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      throw new LoaError(
        typeof code === 'string' && code.startsWith('DISPLAY_') ? code : 'DISPLAY_SCREENSHOT_FAILED',
        `Không chụp được màn hình: ${(cause as Error).message}`,
        { cause },
      );
    }
    const f = this.o.fetch ?? httpFetch;
    const res = await f(`${api.replace(/\/+$/, '')}/ingest/screenshot`, {
      method: 'POST',
      headers: {
        ...this.o.headers(),
        'content-type': this.o.format === 'png' ? 'image/png' : 'image/jpeg',
        'x-loa-taken-at': takenAt,
        ...(commandId ? { 'x-loa-command-id': commandId } : {}),
      },
      body: bytes,
      signal: AbortSignal.timeout(60_000),
    }).catch((cause: unknown) => {
      throw new LoaError(
        'SCREENSHOT_UPLOAD_FAILED',
        `Không gửi được ảnh màn hình: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    });
    const body = (await res.json().catch(() => null)) as {
      id?: string;
      error?: { code?: string; message?: string };
    } | null;
    if (!res.ok)
      throw new LoaError(
        body?.error?.code ?? 'SCREENSHOT_UPLOAD_FAILED',
        `Máy chủ từ chối ảnh màn hình (HTTP ${res.status}): ${body?.error?.message ?? ''}`.trim(),
      );
    this.log.info({ id: body?.id, size: bytes.length, commandId }, 'screenshot uploaded');
    return { id: body?.id ?? '', takenAt, size: bytes.length };
  }
}
