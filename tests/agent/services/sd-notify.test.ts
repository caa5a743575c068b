import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SdNotify } from '../../../agent/src/services/system/sd-notify.js';
import { cleanupTempDirs, silent, tempDir } from './helpers.js';

// A real unix datagram socket (Node cannot bind one; python3 can), standing in for systemd's.
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    sys.stdout.buffer.write(s.recv(4096) + b"\\n")
    sys.stdout.buffer.flush()
`;

const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  await cleanupTempDirs();
});

describe('SdNotify', () => {
  it('is a no-op without NOTIFY_SOCKET', async () => {
    const sd = new SdNotify({ env: {}, logger: silent });
    expect(sd.enabled).toBe(false);
    await sd.ready();
    await sd.stopping();
  });

  it('sends READY, watchdog pings and STOPPING to the notify socket', async () => {
    const sock = join(await tempDir(), 'notify.sock');
    const py = spawn('python3', ['-c', LISTENER, sock]);
    children.push(py);
    let out = '';
    const waiters: (() => void)[] = [];
    py.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const w of waiters.splice(0)) w();
    });
    const seen = async (re: RegExp) => {
      while (!re.test(out)) await new Promise<void>((r) => waiters.push(r));
    };
    await seen(/listening/);
    const sd = new SdNotify({
      env: {
        PATH: process.env.PATH,
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: '2000000',
        WATCHDOG_PID: String(process.pid),
      },
      logger: silent,
    });
    expect(sd.watchdogMs).toBe(2000);
    await sd.ready('Trạm sẵn sàng');
    await seen(/READY=1/);
    expect(out).toContain('STATUS=Trạm sẵn sàng');
    await seen(/WATCHDOG=1/);
    await sd.stopping();
    await seen(/STOPPING=1/);
  }, 30_000);
});
