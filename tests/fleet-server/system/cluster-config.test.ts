/**
 * Choosing the clustered broker from the environment (BROKER_CLUSTER=redis + REDIS_URL, read
 * only by cli.ts), its clear errors, and a start that fails cleanly when Redis is not there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoaError } from '@loa/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../fleet-server/src/cli.js';
import { startFleetServer } from '../../../fleet-server/src/main.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isLoaError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('cluster configuration', () => {
  it('reads BROKER_CLUSTER=redis with REDIS_URL; the embedded broker without them', () => {
    expect(configFromEnv({}).cluster).toBeUndefined();
    expect(configFromEnv({ BROKER_CLUSTER: 'redis', REDIS_URL: 'redis://10.0.0.5:6379/2' }).cluster).toEqual({
      kind: 'redis',
      redisUrl: 'redis://10.0.0.5:6379/2',
    });
  });

  it('refuses an unknown kind, a missing URL, and a URL without the cluster switch', () => {
    expect(code(() => configFromEnv({ BROKER_CLUSTER: 'mosquitto', REDIS_URL: 'redis://x:1' }))).toBe(
      'CONFIG_INVALID',
    );
    expect(code(() => configFromEnv({ BROKER_CLUSTER: 'redis' }))).toBe('CONFIG_INVALID');
    expect(code(() => configFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379' }))).toBe('CONFIG_INVALID');
  });

  it('a server pointed at a Redis that is not there fails to start with CLUSTER_REDIS_UNREACHABLE', async () => {
    // a port nobody listens on
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'loa-cluster-cfg-'));
    try {
      const err = await startFleetServer({
        config: {
          httpPort: 0,
          mqttPort: 0,
          dataDir: dir,
          cluster: { kind: 'redis', redisUrl: `redis://127.0.0.1:${port}` },
        },
        logger: pino({ level: 'silent' }),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLoaError(err) && err.code).toBe('CLUSTER_REDIS_UNREACHABLE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
