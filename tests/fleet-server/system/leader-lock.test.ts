import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../../fleet-server/src/broker/cluster.js';
import { LeaderLock } from '../../../fleet-server/src/services/leader-lock.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../app/harness.js';

describe('leader lock with fencing (Redis)', () => {
  let redis: TestRedis;
  const conns: Awaited<ReturnType<typeof connectRedis>>[] = [];
  const logger = pino({ level: 'silent' });
  const lock = async (nodeId: string, ttlMs = 400, now = () => Date.now()) => {
    const r = await connectRedis(redis.url, nodeId);
    conns.push(r);
    return new LeaderLock({ redis: r, nodeId, logger, now, ttlMs, prefix: `t${conns.length}:` });
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });

  it('one leader at a time; a clean stop hands over at once with a larger token', async () => {
    const r = await connectRedis(redis.url, 'shared');
    conns.push(r);
    const mk = (id: string) =>
      new LeaderLock({ redis: r, nodeId: id, logger, now: Date.now, ttlMs: 400, prefix: 'h:' });
    const a = mk('a');
    const b = mk('b');
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    const first = a.token();
    expect(first).toBeGreaterThan(0);
    expect(await a.confirm(first)).toBe(true);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await b.round();
    expect(b.isLeader()).toBe(true);
    expect(b.token()).toBeGreaterThan(first);
    expect(await a.confirm(first)).toBe(false);
    await b.stop();
  });

  it('a leader that stops renewing (paused, killed) loses the lease; it knows before another can lead', async () => {
    const r = await connectRedis(redis.url, 'paused');
    conns.push(r);
    const a = new LeaderLock({ redis: r, nodeId: 'a', logger, now: Date.now, ttlMs: 300, prefix: 'p:' });
    const b = new LeaderLock({ redis: r, nodeId: 'b', logger, now: Date.now, ttlMs: 300, prefix: 'p:' });
    // a takes the lease by one round and then never renews (as a process stopped by SIGSTOP)
    await a.round();
    const t1 = a.token();
    expect(t1).toBeGreaterThan(0);
    await b.start();
    expect(b.isLeader()).toBe(false);
    const changes: boolean[] = [];
    b.onChange((leader) => changes.push(leader));
    await waitFor(() => b.isLeader(), 5000);
    // whenever b leads, a's own lease time is over: a no longer calls itself leader
    expect(a.isLeader()).toBe(false);
    expect(a.token()).toBe(0);
    expect(b.token()).toBeGreaterThan(t1);
    expect(changes).toEqual([true]);
    // a wakes up: its renewal fails (the key holds b's value) and b stays the leader
    await a.round();
    expect(a.isLeader()).toBe(false);
    expect(await b.confirm(b.token())).toBe(true);
    await b.stop();
  });

  it('without Redis a leader keeps the lease only as long as it surely holds', async () => {
    let t = 1_000_000;
    const a = await lock('solo', 1000, () => t);
    await a.round();
    expect(a.isLeader()).toBe(true);
    await redis.stop();
    await a.round();
    expect(a.isLeader()).toBe(true); // the lease taken at t holds until t + 1000
    t += 1000;
    await a.round();
    expect(a.isLeader()).toBe(false);
    redis = await startRedis();
  });
});
