/**
 * Runs an external tool (ffmpeg, ffprobe, espeak-ng) with a timeout and a bounded capture of its
 * output. Never rejects with an unhandled error: failures become a LoaError with the tool's tail.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { LoaError } from '@loa/protocol';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 256 * 1024;

function append(buf: string, chunk: Buffer): string {
  const next = buf + chunk.toString('utf8');
  return next.length > MAX_CAPTURE ? next.slice(next.length - MAX_CAPTURE) : next;
}

/** Runs `cmd args`; resolves with its exit code and output (tail-bounded), or rejects on spawn error/timeout. */
export function runProcess(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new LoaError('TOOL_TIMEOUT', `${cmd} did not finish within ${opts.timeoutMs} ms`)));
    }, opts.timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(() => reject(new LoaError('TOOL_ABORTED', `${cmd} was aborted`)));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => {
      stdout = append(stdout, c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = append(stderr, c);
    });
    child.on('error', (cause: NodeJS.ErrnoException) => {
      // Not installed: say which Debian package brings it (ffprobe comes with ffmpeg).
      const hint =
        cause.code === 'ENOENT'
          ? ` (install it: apt-get install -y ${basename(cmd) === 'ffprobe' ? 'ffmpeg' : basename(cmd)})`
          : '';
      finish(() =>
        reject(new LoaError('TOOL_UNAVAILABLE', `cannot run ${cmd}: ${cause.message}${hint}`, { cause })),
      );
    });
    child.on('close', (code, sig) =>
      finish(() => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr })),
    );
  });
}

/** The last lines of a tool's stderr, for error messages and logs. */
export function tail(text: string, lines = 4): string {
  return text.trim().split('\n').slice(-lines).join(' | ').slice(0, 500);
}
