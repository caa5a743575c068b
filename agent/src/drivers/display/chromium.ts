/**
 * Chromium in kiosk mode, controlled over the DevTools protocol (CDP on 127.0.0.1).
 *   spawn  – the agent starts Chromium itself (development, tests, the demo; headless possible);
 *   attach – the browser runs under `cage` from loa-kiosk.service with a fixed DevTools port;
 *            a restart closes it over CDP (systemd brings it back), or runs `restartCommand`.
 * Screenshots are `Page.captureScreenshot` of the page target.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { DisplayDriver, ScreenshotOptions } from './types.js';

export interface ChromiumOptions {
  mode: 'spawn' | 'attach';
  /** Browser executable (spawn mode); default /usr/bin/chromium. */
  executable?: string;
  /** Headless (tests, a board without a screen); the kiosk is `--kiosk` full screen otherwise. */
  headless?: boolean;
  /** Window size in CSS pixels (default 1920×1080). */
  width?: number;
  height?: number;
  /** DevTools port on 127.0.0.1: fixed in attach mode; 0 = any (spawn mode, the default). */
  devtoolsPort?: number;
  /** Attach mode: run this when the browser cannot be closed over CDP (e.g. systemctl restart). */
  restartCommand?: string[];
  extraArgs?: string[];
  logger: Logger;
}

const COMMON_ARGS = [
  '--no-first-run',
  '--no-default-browser-check',
  '--noerrdialogs',
  '--disable-infobars',
  '--disable-session-crashed-bubble',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-translate',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
  '--autoplay-policy=no-user-gesture-required',
  '--password-store=basic',
  '--remote-debugging-address=127.0.0.1',
  // The kiosk page is the only page and must never be deprioritised: no renderer backgrounding,
  // no background timer throttling, no occlusion tracking (under cage or headless, Chromium may
  // take the window for hidden and slow its timers and frames, delaying an emergency overlay).
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

interface CdpTarget {
  type: string;
  url: string;
  webSocketDebuggerUrl?: string;
}

/** One CDP request over a fresh WebSocket (screenshots and closes are rare). */
export async function cdpCall<T>(
  wsUrl: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = 10_000,
): Promise<T> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  try {
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new LoaError('DISPLAY_CDP_TIMEOUT', `${method} timed out`)),
        timeoutMs,
      );
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(new LoaError('DISPLAY_CDP_FAILED', `DevTools: ${err.message}`, { cause: err }));
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new LoaError('DISPLAY_CDP_FAILED', `DevTools closed during ${method}`));
      });
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { id?: number; result?: T; error?: { message: string } };
        if (msg.id !== 1) return;
        clearTimeout(timer);
        if (msg.error) reject(new LoaError('DISPLAY_CDP_FAILED', `${method}: ${msg.error.message}`));
        else resolve(msg.result as T);
      });
    });
  } finally {
    ws.removeAllListeners('close');
    ws.terminate();
  }
}

export class ChromiumDisplay implements DisplayDriver {
  readonly name = 'chromium';
  private proc: ChildProcess | undefined;
  private profile: string | undefined;
  private url: string | undefined;
  private port: number | undefined;
  private stopped = false;
  /** A restart under way (spawn mode): screenshots wait for it rather than reach a dead port. */
  private relaunching: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly o: ChromiumOptions) {
    this.log = o.logger.child({ module: 'chromium' });
  }

  /** The DevTools port (after start). */
  get devtoolsPort(): number | undefined {
    return this.port;
  }

  async start(url: string): Promise<void> {
    this.url = url;
    this.stopped = false;
    if (this.o.mode === 'attach') {
      this.port = this.o.devtoolsPort ?? 9222;
      return;
    }
    await this.launch(url);
  }

  running(): boolean {
    if (this.o.mode === 'attach') return true;
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async restart(): Promise<void> {
    const url = this.url;
    if (!url) throw new LoaError('DISPLAY_NOT_STARTED', 'the browser was never started');
    if (this.o.mode === 'attach') {
      try {
        const v = await this.json<{ webSocketDebuggerUrl: string }>('/json/version');
        await cdpCall(v.webSocketDebuggerUrl, 'Browser.close').catch(() => undefined);
        return;
      } catch (err) {
        const cmd = this.o.restartCommand;
        if (!cmd?.[0]) throw err;
        await new Promise<void>((resolve, reject) =>
          execFile(cmd[0] as string, cmd.slice(1), (e) => (e ? reject(e) : resolve())),
        );
        return;
      }
    }
    const relaunch = (async () => {
      await this.kill();
      if (this.stopped) return;
      await this.launch(url);
    })();
    this.relaunching = relaunch;
    try {
      await relaunch;
    } finally {
      if (this.relaunching === relaunch) this.relaunching = undefined;
    }
  }

  async screenshot(options: ScreenshotOptions = {}): Promise<Buffer> {
    await this.relaunching?.catch(() => undefined);
    try {
      return await this.capture(options);
    } catch (err) {
      // The watchdog restarted the browser between our look at it and the capture (its DevTools
      // port is gone, or the page closed mid-call): wait for the new browser and try once more.
      if (this.o.mode !== 'spawn' || (!this.relaunching && this.running())) throw err;
      this.log.info({ err }, 'screenshot during a browser restart: retrying on the new browser');
      await this.relaunching?.catch(() => undefined);
      return await this.capture(options);
    }
  }

  private async capture(options: ScreenshotOptions): Promise<Buffer> {
    const targets = await this.json<CdpTarget[]>('/json/list');
    const page = targets.find((t) => t.type === 'page' && t.webSocketDebuggerUrl);
    if (!page?.webSocketDebuggerUrl) throw new LoaError('DISPLAY_NO_PAGE', 'the browser shows no page');
    const format = options.format ?? 'png';
    const r = await cdpCall<{ data: string }>(page.webSocketDebuggerUrl, 'Page.captureScreenshot', {
      format,
      ...(format === 'jpeg' ? { quality: options.quality ?? 75 } : {}),
    });
    return Buffer.from(r.data, 'base64');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.o.mode === 'spawn') await this.kill();
  }

  private async json<T>(path: string): Promise<T> {
    if (!this.port) throw new LoaError('DISPLAY_NOT_STARTED', 'the browser was never started');
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`).catch((err: unknown) => {
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new LoaError(
        'DISPLAY_CDP_FAILED',
        `DevTools ${path}: ${cause?.code ?? (err as Error).message} on 127.0.0.1:${this.port}`,
        { cause: err },
      );
    });
    if (!res.ok) throw new LoaError('DISPLAY_CDP_FAILED', `DevTools ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  private async launch(url: string): Promise<void> {
    this.profile = await mkdtemp(join(tmpdir(), 'loa-kiosk-'));
    const w = this.o.width ?? 1920;
    const h = this.o.height ?? 1080;
    const args = [
      ...(this.o.headless
        ? ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--mute-audio']
        : ['--kiosk', '--start-fullscreen']),
      ...COMMON_ARGS,
      `--remote-debugging-port=${this.o.devtoolsPort ?? 0}`,
      `--user-data-dir=${this.profile}`,
      `--window-size=${w},${h}`,
      ...(this.o.extraArgs ?? []),
      url,
    ];
    const proc = spawn(this.o.executable ?? '/usr/bin/chromium', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    this.port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => reject(new LoaError('DISPLAY_START_FAILED', 'Chromium did not start')),
        30_000,
      );
      proc.stderr?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
        if (buf.length > 65_536) buf = buf.slice(-4096);
      });
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(new LoaError('DISPLAY_START_FAILED', `Chromium: ${err.message}`, { cause: err }));
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new LoaError('DISPLAY_START_FAILED', `Chromium exited (${code})`));
      });
    });
    proc.stderr?.resume();
    if (this.stopped) {
      // stop() ran while this browser was starting.
      await this.kill();
      return;
    }
    proc.once('exit', (code, signal) => this.log.warn({ code, signal }, 'browser exited'));
    this.log.info({ pid: proc.pid, port: this.port }, 'browser started');
  }

  private async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    if (this.profile) await rm(this.profile, { recursive: true, force: true }).catch(() => undefined);
    this.profile = undefined;
  }
}
