/**
 * CPU and RSS sampling of a process: this one (process.cpuUsage / memoryUsage) or a child
 * (/proc/<pid>/stat for CPU ticks, /proc/<pid>/status for VmRSS). Linux only for children.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcReading {
  /** User + system CPU time consumed so far, in milliseconds. */
  cpuMs: number;
  rssBytes: number;
}

/** Reads the CPU time and RSS of a process; `self` reads this process without /proc. */
export function readProcess(pid: number | 'self'): ProcReading {
  if (pid === 'self' || pid === process.pid) {
    const u = process.cpuUsage();
    return { cpuMs: (u.user + u.system) / 1000, rssBytes: process.memoryUsage().rss };
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields after the closing parenthesis.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuMs: ((utime + stime) * 1000) / clockTicks(), rssBytes: m ? Number(m[1]) * 1024 : 0 };
}

export interface ProcProfile {
  /** Average CPU use over the window, in percent of one core. */
  cpuPercent: number;
  cpuMs: number;
  wallMs: number;
  rssPeakMb: number;
  rssMeanMb: number;
  rssEndMb: number;
  samples: number;
}

/** Samples a process every `intervalMs` between start() and stop(). */
export class ProcessSampler {
  private timer: NodeJS.Timeout | undefined;
  private startReading: ProcReading | undefined;
  private startWall = 0;
  private rss: number[] = [];

  constructor(
    private readonly pid: number | 'self',
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.startReading = readProcess(this.pid);
    this.startWall = performance.now();
    this.rss = [this.startReading.rssBytes];
    this.timer = setInterval(() => {
      try {
        this.rss.push(readProcess(this.pid).rssBytes);
      } catch {
        // the process ended: stop() reports what was seen
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): ProcProfile {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const begin = this.startReading ?? { cpuMs: 0, rssBytes: 0 };
    let end: ProcReading;
    try {
      end = readProcess(this.pid);
      this.rss.push(end.rssBytes);
    } catch {
      end = { cpuMs: begin.cpuMs, rssBytes: this.rss.at(-1) ?? 0 };
    }
    const wallMs = performance.now() - this.startWall;
    const cpuMs = end.cpuMs - begin.cpuMs;
    const mb = (b: number) => b / (1024 * 1024);
    return {
      cpuPercent: wallMs > 0 ? (100 * cpuMs) / wallMs : 0,
      cpuMs,
      wallMs,
      rssPeakMb: mb(Math.max(...this.rss)),
      rssMeanMb: mb(this.rss.reduce((a, b) => a + b, 0) / this.rss.length),
      rssEndMb: mb(end.rssBytes),
      samples: this.rss.length,
    };
  }
}
