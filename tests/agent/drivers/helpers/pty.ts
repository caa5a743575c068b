/**
 * A real pseudo-terminal with a simulated device on its far side, so the real serialport
 * bindings (bindings-cpp: open, termios, read/write on a tty) run in tests. A small Python
 * helper (pty-bridge.py) owns the pty; this side feeds the device model's replies to it.
 * Drop-outs are not modelled here (the pty path cannot come back); SerialPortMock covers those.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimSerialDevice } from '../../../../agent/src/drivers/serial/sim-transport.js';

const script = fileURLToPath(new URL('./pty-bridge.py', import.meta.url));

export interface PtyRig {
  path: string;
  close(): Promise<void>;
}

export async function createPtyRig(device: SimSerialDevice): Promise<PtyRig> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [script]);
  const path = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`pty-bridge.py (python3) exited with ${code} before opening a pty`)),
    );
    child.stderr.once('data', (d: Buffer) => {
      const line = d.toString().trim().split('\n')[0] ?? '';
      if (line.startsWith('/dev/')) resolve(line);
      else reject(new Error(`pty-bridge.py (python3) did not open a pty: ${d.toString().trim()}`));
    });
  });
  let pending = '';
  const timers = new Set<NodeJS.Timeout>();
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    let i = pending.indexOf('\r');
    while (i >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      const reply = device.handle(line);
      if (reply && !reply.dropout) {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!child.stdin.destroyed) child.stdin.write(reply.bytes);
        }, reply.delayMs);
        timers.add(t);
      }
      i = pending.indexOf('\r');
    }
  });
  return {
    path,
    async close() {
      for (const t of timers) clearTimeout(t);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    },
  };
}
