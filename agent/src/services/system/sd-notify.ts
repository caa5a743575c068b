/**
 * systemd integration without native modules: READY/STATUS/STOPPING and watchdog pings sent with
 * the `systemd-notify` tool when NOTIFY_SOCKET is set (Node has no unix datagram sockets). The
 * unit needs NotifyAccess=all, since the message comes from a child process. Without
 * NOTIFY_SOCKET every call is a no-op.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export interface SdNotifyOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Path of the tool; default `systemd-notify`. */
  command?: string;
  /** Returns false when the watchdog ping should be withheld (the agent is unhealthy). */
  alive?: () => boolean;
}

export class SdNotify {
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  constructor(private readonly o: SdNotifyOptions) {
    this.log = o.logger.child({ module: 'sd-notify' });
  }

  get enabled(): boolean {
    return !!this.o.env.NOTIFY_SOCKET;
  }

  /** Watchdog period from WATCHDOG_USEC (only when meant for this process), in ms. */
  get watchdogMs(): number | undefined {
    const usec = Number(this.o.env.WATCHDOG_USEC);
    const pid = this.o.env.WATCHDOG_PID;
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    if (pid && Number(pid) !== process.pid) return undefined;
    return usec / 1000;
  }

  send(...assignments: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve) => {
      execFile(
        this.o.command ?? 'systemd-notify',
        assignments,
        { env: { ...this.o.env }, timeout: 5000 },
        (err) => {
          if (err) this.log.warn({ err: err.message }, 'systemd-notify failed');
          resolve();
        },
      );
    });
  }

  async ready(status = 'Đang chạy'): Promise<void> {
    await this.send('READY=1', `STATUS=${status}`);
    const ms = this.watchdogMs;
    if (ms && !this.timer) {
      this.timer = setInterval(
        () => {
          if (this.o.alive?.() ?? true) void this.send('WATCHDOG=1');
        },
        Math.max(1000, ms / 2),
      );
      this.timer.unref();
    }
  }

  async stopping(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.send('STOPPING=1');
  }
}
