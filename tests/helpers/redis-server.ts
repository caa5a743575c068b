/**
 * A real redis-server (Debian's) for a test: 127.0.0.1, a free port, no persistence, its own
 * temp directory; `stop()` ends it (SIGTERM, then SIGKILL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startOnce(port: number, dir: string): Promise<ChildProcess | undefined> {
  const p = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      resolve(undefined);
    }, 10_000);
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-redis-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const p = await startOnce(port, dir);
    if (!p) continue; // the port was taken in between: try another
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      process: p,
      async stop() {
        if (p.exitCode === null) {
          const exited = new Promise((r) => p.once('exit', r));
          p.kill('SIGTERM');
          const t = setTimeout(() => p.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start (is the Debian package redis-server installed?)');
}
