import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealthSchema } from '@loa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuTemperatureC, HealthCollector } from '../../../agent/src/services/fleet/health.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

describe('HealthCollector', () => {
  it('collects a schema-valid report from the station sources', async () => {
    const dir = await tempDir();
    const thermal = join(dir, 'temp');
    await writeFile(thermal, '51234\n');
    let t = Date.parse('2026-11-26T05:00:00Z');
    const clock = { now: () => t };
    const h = new HealthCollector({
      agentVersion: '0.1.0',
      clock,
      dataDir: dir,
      thermalFile: thermal,
      relays: () => ({ amplifier: true, zones: { cho: true } }),
      inputs: () => ({ mains: false, door: 'open', ampFault: null }),
      modem: () => ({ rssiDbm: -91, operator: 'VNPT', registration: 'roaming' }),
      player: () => ({
        onAir: { itemId: 'x', kind: 'audio', since: '2026-11-26T04:59:00Z' },
        volume: 70,
        deadAir: false,
      }),
      bundles: () => [{ channel: 'main', id: 'b1', version: 7 }],
      trustVersion: () => 2,
      clockState: () => ({ trusted: true, source: 'modem' }),
      proofBacklog: () => 12,
      lastError: () => ({ code: 'KEY_UNKNOWN', message: 'a', at: '2026-11-26T04:00:00Z' }),
    });
    t += 90_000;
    const r = await h.collect();
    expect(HealthSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({
      seq: 1,
      uptimeS: 90,
      cpuTempC: 51.2,
      inputs: { mains: false, door: 'open' },
      relays: { amplifier: true },
      modem: { rssiDbm: -91 },
      volume: 70,
      bundles: [{ version: 7 }],
      trustVersion: 2,
      proofBacklog: 12,
      lastError: { code: 'KEY_UNKNOWN' },
    });
    expect(r.diskFreeMb).toBeGreaterThan(0);
    expect(r.memTotalMb).toBeGreaterThan(0);
    // A newer failure reported by the agent wins over an older one from a service.
    h.reportError('AUDIO_FAILED', 'ffmpeg died');
    const r2 = await h.collect();
    expect(r2.seq).toBe(2);
    expect(r2.lastError?.code).toBe('AUDIO_FAILED');
  });

  it('reports no temperature where the board has no thermal zone', async () => {
    expect(await cpuTemperatureC('/nonexistent/temp')).toBeUndefined();
  });
});
