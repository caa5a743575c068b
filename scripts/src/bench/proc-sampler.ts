/**
 * CPU and RSS sampling of a process: this one (process.cpuUsage / memoryUsage) or a child
 * (/proc/<pid>/stat for CPU ticks, /proc/<pid>/status for VmRSS). Linux only for children.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields after the closing parenthesis.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Live descendants of a process (children, grandchildren…), from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(statFields(Number(name))[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(name));
      byParent.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * A process with its children: CPU includes children it has waited for (cutime/cstime) and live
 * descendants; RSS sums the process and its live descendants (e.g. the agent and its ffmpeg).
 */
export function readProcessTree(pid: number): ProcReading {
  const f = statFields(pid);
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  let rss = rssOf(pid);
  for (const d of descendants(pid)) {
    try {
      const g = statFields(d);
      ticks += Number(g[11]) + Number(g[12]);
      rss += rssOf(d);
    } catch {
      // exited meanwhile: its CPU shows up in the parent's cutime once reaped
    }
  }
  return { cpuMs: (ticks * 1000) / clockTicks(), rssBytes: rss };
}

/** Reads the CPU time and RSS of a process; `self` reads this process without /proc. */
export function readProcess(pid: number | 'self'): ProcReading {
  if (pid === 'self' || pid === process.pid) {
    const u = process.cpuUsage();
    return { cpuMs: (u.user + u.system) / 1000, rssBytes: process.memoryUsage().rss };
  }
  const f = statFields(pid);
  return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks(), rssBytes: rssOf(pid) };
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
  private last: ProcReading | undefined;
  /**
   * Highest CPU total seen. A tree's total can dip for a moment: a child that has exited is no
   * longer a live descendant, and its CPU reaches the parent's cutime only once it is reaped.
   */
  private maxCpuMs = 0;

  constructor(
    private readonly pid: number | 'self',
    private readonly intervalMs = 250,
    /** Count the process's children too (agent + ffmpeg). */
    private readonly tree = false,
  ) {}

  private read(): ProcReading {
    return this.tree && this.pid !== 'self' ? readProcessTree(this.pid) : readProcess(this.pid);
  }

  start(): void {
    this.startReading = this.read();
    this.startWall = performance.now();
    this.rss = [this.startReading.rssBytes];
    this.last = this.startReading;
    this.maxCpuMs = this.startReading.cpuMs;
    this.timer = setInterval(() => {
      try {
        this.last = this.read();
        this.maxCpuMs = Math.max(this.maxCpuMs, this.last.cpuMs);
        this.rss.push(this.last.rssBytes);
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
      end = this.read();
      this.rss.push(end.rssBytes);
    } catch {
      // the process ended: the last periodic reading is the best we have
      end = this.last ?? { cpuMs: begin.cpuMs, rssBytes: this.rss.at(-1) ?? 0 };
    }
    const wallMs = performance.now() - this.startWall;
    const cpuMs = Math.max(end.cpuMs, this.maxCpuMs) - begin.cpuMs;
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
