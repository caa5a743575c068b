import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LINK_PROFILES, LinkProxy } from '../../scripts/src/sim/link-proxy.js';

let echo: Server | undefined;
let proxy: LinkProxy | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await proxy?.stop();
  proxy = undefined;
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  echo = undefined;
});

async function startEcho(): Promise<number> {
  echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo?.listen(0, '127.0.0.1', () => r()));
  return (echo.address() as AddressInfo).port;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    clients.push(s);
  });
}

function readBytes(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const on = (c: Buffer) => {
      parts.push(c);
      got += c.length;
      if (got >= n) {
        s.off('data', on);
        resolve(Buffer.concat(parts));
      }
    };
    s.on('data', on);
  });
}

describe('sim link proxy', () => {
  it('forwards bytes in order through a lossy, jittery profile', async () => {
    const port = await startEcho();
    proxy = new LinkProxy({
      targetHost: '127.0.0.1',
      targetPort: port,
      profile: { name: 't', latencyMs: 2, jitterMs: 5, loss: 0.3, retransmitMs: 20 },
    });
    await proxy.start();
    const s = await open(proxy.port);
    const sent: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const b = Buffer.from(`chunk-${i.toString().padStart(3, '0')};`);
      sent.push(b);
      s.write(b);
      await new Promise((r) => setTimeout(r, 1));
    }
    const all = Buffer.concat(sent);
    const back = await readBytes(s, all.length);
    expect(back.toString()).toBe(all.toString());
    expect(proxy.stats.bytesUp).toBe(all.length);
    expect(proxy.stats.bytesDown).toBe(all.length);
    expect(proxy.stats.lostChunks).toBeGreaterThan(0);
  });

  it('adds the profile latency in each direction (scheduled through the injected timer)', async () => {
    const port = await startEcho();
    const delays: number[] = [];
    proxy = new LinkProxy({
      targetHost: '127.0.0.1',
      targetPort: port,
      profile: LINK_PROFILES['4g-poor'] ?? {
        name: 'x',
        latencyMs: 90,
        jitterMs: 80,
        loss: 0,
        retransmitMs: 0,
      },
      random: () => 0.5,
      setTimer: (fn, ms) => {
        delays.push(ms);
        setTimeout(fn, 0);
      },
    });
    await proxy.start();
    const s = await open(proxy.port);
    s.write('ping');
    expect((await readBytes(s, 4)).toString()).toBe('ping');
    // random() = 0.5 → 90 + 40 ms, no loss (0.5 ≥ 0.03); one delay up, one down.
    expect(delays).toHaveLength(2);
    for (const d of delays) expect(d).toBeGreaterThan(120);
  });

  it('an outage cuts open connections and refuses new ones until it ends', async () => {
    const port = await startEcho();
    proxy = new LinkProxy({
      targetHost: '127.0.0.1',
      targetPort: port,
      profile: LINK_PROFILES.lan ?? { name: 'lan', latencyMs: 0, jitterMs: 0, loss: 0, retransmitMs: 0 },
    });
    await proxy.start();
    const s = await open(proxy.port);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    proxy.outage(300);
    await closed;
    const refused = await open(proxy.port).then(
      (c) => new Promise<boolean>((r) => c.once('close', () => r(true))),
      () => true,
    );
    expect(refused).toBe(true);
    expect(proxy.stats.cuts).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    const again = await open(proxy.port);
    again.write('back');
    expect((await readBytes(again, 4)).toString()).toBe('back');
  });
});
