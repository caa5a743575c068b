import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { documentDigest, manifestBlobs } from '@loa/protocol';
import { verifyBlobFile } from '@loa/protocol/fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleStore } from '../../../agent/src/services/content/bundle-store.js';
import { makeBundleDir, makeTrust, startBlobServer } from './bundle-fixtures.js';
import { cleanupTempDirs, silent, spawnTs, tempDir, waitExit, waitForLine } from './helpers.js';

afterAll(cleanupTempDirs);

describe('BundleStore under kill -9', () => {
  it('always leaves a complete bundle active, whatever the moment of the kill', async () => {
    const fx = makeTrust();
    const work = await tempDir('loa-kill-');
    const server = await startBlobServer();
    try {
      const MAX = 6;
      let shared = randomBytes(200_000);
      for (let v = 1; v <= MAX; v++) {
        if (v % 2 === 1) shared = randomBytes(200_000);
        await makeBundleDir(work, join(work, `v${v}`), {
          version: v,
          signer: fx.content.privateKey,
          files: [
            { name: 's.wav', data: shared },
            { name: 'u.wav', data: randomBytes(300_000) },
          ],
        });
        server.bundles.set(`v${v}`, join(work, `v${v}`));
      }
      server.throttle = { chunk: 16 * 1024, delayMs: 3 };
      const trustPath = join(work, 'trust.json');
      await writeFile(trustPath, JSON.stringify(fx.trust));
      const dir = join(work, 'store');
      const args = [dir, trustPath, server.url, String(MAX)];
      let lastVersion = 0;
      const check = async () => {
        const s = new BundleStore({
          dir,
          trust: () => fx.trust,
          device: () => ({ unit: '08/02500' }),
          clock: { now: () => Date.parse('2026-11-26T05:00:00Z') },
          logger: silent,
        });
        await s.start();
        const active = s.active();
        if (active.length > 0) {
          const b = active[0];
          expect(b?.channel).toBe('main');
          expect(documentDigest(b?.manifest ?? {})).toBe(b?.digest);
          for (const blob of manifestBlobs(b?.manifest ?? { items: [] }))
            await verifyBlobFile(s.blobFile(blob.sha256), blob);
          expect(b?.version ?? 0).toBeGreaterThanOrEqual(lastVersion);
          lastVersion = b?.version ?? 0;
        }
        await s.stop();
      };
      const delays = [15, 60, 120, 200, 35, 90, 300, 10, 150, 250];
      for (const delay of delays) {
        const child = spawnTs('tests/agent/services/fixtures/bundle-worker.ts', args);
        const ready = await waitForLine(child, /^ready (\d+)$/);
        expect(Number(ready[1])).toBeGreaterThanOrEqual(lastVersion);
        if (Number(ready[1]) >= MAX) {
          child.kill('SIGKILL');
          await waitExit(child);
          break;
        }
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
        await waitExit(child);
        await check();
      }
      // Finally let it run to the end: the newest bundle becomes active.
      const child = spawnTs('tests/agent/services/fixtures/bundle-worker.ts', args);
      await waitForLine(child, /^done$/);
      await waitExit(child);
      await check();
      expect(lastVersion).toBe(MAX);
    } finally {
      await server.close();
    }
  }, 180_000);
});
