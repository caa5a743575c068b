/** Starts a system under test in a child process (see child-host.ts) and talks to it over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ChildSpec =
  | { kind: 'aedes' }
  | { kind: 'static'; dir: string }
  | { kind: 'fleet'; options: Record<string, unknown> }
  /** One plain mqtt.js subscriber; query 'arrivals' gives (and forgets) its arrival times. */
  | { kind: 'subscriber'; url: string; topic: string }
  /** One real agent (SimStation) in its own process; URLs as strings (IPC carries JSON). */
  | { kind: 'station'; spec: Record<string, unknown> & { server: string; mqtt: string } };

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
  /** Asks the child (the fleet server host) for counters; see fleet.ts query(). */
  query<T = unknown>(what: string, arg?: unknown): Promise<T>;
  stop(): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const hostFile = join(dirname(here), `child-host${extname(here)}`);

export async function startChild(spec: ChildSpec, timeoutMs = 60_000): Promise<BenchChild> {
  const child = fork(hostFile, [], {
    // LOA_BENCH_CHILD_ARGS adds Node flags to the system under test, e.g. "--cpu-prof" to profile it
    execArgv: [
      '--conditions=@loa/source',
      '--import',
      'tsx',
      '--max-old-space-size=2048',
      ...(process.env.LOA_BENCH_CHILD_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
  });
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${spec.kind} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: ChildReady | { type: 'error'; message: string } | { type: 'reply' }) => {
      if (m.type === 'reply') return;
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
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { type: string; id?: number; data?: unknown; error?: string }) => {
    if (m.type !== 'reply' || m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.data);
  });
  return {
    pid,
    ready,
    process: child,
    query: <T>(what: string, arg?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: 'query', id, what, arg });
      }),
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
