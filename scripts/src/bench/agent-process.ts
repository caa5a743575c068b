/**
 * One real agent process as a station runs it (the compiled build, agent/bin/loa-agent.js, with
 * the flags of its systemd unit), for the benchmarks: simulated GPIO and modem, the real ffmpeg
 * audio driver into a null sink paced in real time. Optionally pinned to one core.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the compiled agent (incremental, quick when up to date); the error text when tsc failed. */
export function buildAgent(): string | undefined {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-b', 'agent'], { cwd: repoRoot, stdio: 'pipe' });
    return undefined;
  } catch (err) {
    // tsc still emits; a type error elsewhere in the tree must not hide the agent's figures
    return String((err as { stdout?: Buffer }).stdout ?? err).slice(0, 300);
  }
}

export interface AgentProc {
  proc: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<void>;
  /** readyMs from the agent's "agent started" line, and the wall time from spawn to it. */
  ready(): { readyMs: number; wallMs: number } | undefined;
  /** The agent logged "fleet link up" (connected; it publishes its first health right then). */
  linkUp(): boolean;
  /** The last lines it wrote (stdout and stderr), for a failure's note. */
  tail(): string;
  stop(): Promise<void>;
}

/**
 * The compiled build with the flags images/systemd/loa-agent.service gives it on a station (keep
 * the two in step); LOA_BENCH_AGENT_FLAGS replaces them to try others, e.g. "--lite-mode".
 */
export const COMPILED = [
  ...(process.env.LOA_BENCH_AGENT_FLAGS?.split(' ').filter(Boolean) ?? [
    '--max-semi-space-size=1',
    '--single-threaded',
  ]),
  'agent/bin/loa-agent.js',
];
/** The development entry (npm run agent): TypeScript sources through tsx. */
export const DEV_TSX = ['--conditions=@loa/source', '--import', 'tsx', 'agent/src/main.ts'];

export function spawnAgent(
  entry: string[],
  cfgPath: string,
  opts: {
    cpu?: number;
    /** Every JSON log line the agent writes (pino: `time` in epoch ms, `msg`). */
    onLog?: (line: Record<string, unknown>) => void;
  } = {},
): AgentProc {
  const spawnedAt = performance.now();
  const args = [...entry, '--config', cfgPath];
  // pinned to one core (util-linux taskset): a Pi-class board's CPU, not the machine's
  const [cmd, argv] =
    opts.cpu === undefined
      ? [process.execPath, args]
      : ['taskset', ['-c', String(opts.cpu), process.execPath, ...args]];
  const proc = spawn(cmd, argv, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '' },
  });
  let ready: { readyMs: number; wallMs: number } | undefined;
  let linkUp = false;
  let buf = '';
  const lines: string[] = [];
  const keep = (l: string) => {
    lines.push(l.slice(0, 300));
    if (lines.length > 8) lines.shift();
  };
  proc.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      keep(line);
      try {
        const j = JSON.parse(line) as { msg?: string; readyMs?: number };
        opts.onLog?.(j);
        if (j.msg === 'agent started' && ready === undefined)
          ready = { readyMs: j.readyMs ?? Number.NaN, wallMs: performance.now() - spawnedAt };
        if (j.msg === 'fleet link up') linkUp = true;
      } catch {
        // not a log line
      }
    }
  });
  proc.stderr.on('data', (c: Buffer) => keep(c.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    exited,
    ready: () => ready,
    linkUp: () => linkUp,
    tail: () => lines.join('\n'),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/**
 * Waits until the agent logged "agent started" and "fleet link up" and the server counts
 * `want` devices online (enrolled, connected, first health on its way).
 */
export async function waitReady(a: AgentProc, online: () => Promise<number>, want: number): Promise<void> {
  const end = performance.now() + 90_000;
  while ((a.ready() === undefined || !a.linkUp() || (await online()) < want) && performance.now() < end)
    await sleep(100);
  if (a.ready() === undefined) throw new Error(`the agent did not log "agent started"; last:\n${a.tail()}`);
  if (!a.linkUp()) throw new Error(`the agent did not log "fleet link up"; last:\n${a.tail()}`);
}

export function agentConfig(
  dataDir: string,
  url: string,
  token: string,
  rootPem: string,
  opts: { warmupMs?: number } = {},
) {
  return {
    device: { dataDir, name: 'bench agent' },
    fleet: { url, enrolmentToken: token, healthIntervalS: 60 },
    trust: { rootKeys: [rootPem] },
    hardware: {
      gpio: { driver: 'sim' },
      amplifier: { pin: 17, warmupMs: opts.warmupMs ?? 1000, idleTailMs: 5000 },
      inputs: { mains: { pin: 5, activeLow: true } },
      modem: { driver: 'sim', path: '/dev/ttyUSB2', powerPin: 24 },
    },
    // LOA_BENCH_AGENT_WARM=0: no decoder kept waiting while idle (audio.warmDecoder off)
    audio: {
      driver: 'real',
      output: { type: 'null' },
      ...(process.env.LOA_BENCH_AGENT_WARM === '0' ? { warmDecoder: false } : {}),
    },
    technician: { enabled: false },
    log: { level: 'info' },
  };
}
