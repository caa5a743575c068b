/** Starts a system under test in a child process (see child-host.ts) and talks to it over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ChildSpec =
  | { kind: 'aedes' }
  | { kind: 'static'; dir: string }
  | { kind: 'fleet'; options: Record<string, unknown> };

export interface ChildReady {
  type: 'ready';
  mqttPort?: number;
  httpPort?: number;
  info?: Record<string, unknown>;
}

export interface BenchChild {
  pid: number;
  ready: ChildReady;
  process: ChildProcess;
  stop(): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const hostFile = join(dirname(here), `child-host${extname(here)}`);

export async function startChild(spec: ChildSpec, timeoutMs = 60_000): Promise<BenchChild> {
  const child = fork(hostFile, [], {
    execArgv: ['--conditions=@loa/source', '--import', 'tsx', '--max-old-space-size=2048'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${spec.kind} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: ChildReady | { type: 'error'; message: string }) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve(m);
      else {
        child.kill('SIGKILL');
        reject(new Error(`child ${spec.kind} failed: ${m.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child ${spec.kind} exited with code ${code}`));
    });
    child.send({ type: 'start', spec });
  });
  const pid = child.pid as number;
  return {
    pid,
    ready,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'stop' });
      }),
  };
}
