/**
 * An emergency carried on a USB stick to a station with no network: the bundle as
 * `loa bundle build --priority emergency` makes it (no schedule), imported with the agent's own
 * import command, plays at the next start at once, after the station's configured chime.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publicKeyToPem } from '@loa/protocol';
import { packBundle } from '@loa/protocol/fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import type { SimAudioDriver } from '../../agent/src/drivers/audio/sim.js';
import { importBundle, startAgent } from '../../agent/src/main.js';
import { TrustStore } from '../../agent/src/services/content/trust-store.js';
import { ensureDir } from '../../agent/src/services/system/data-dir.js';
import { LogRing } from '../../agent/src/services/system/log-ring.js';
import { waitFor } from '../agent/player-harness.js';
import { makeBundleDir, makeTrust } from '../agent/services/bundle-fixtures.js';
import { cleanupTempDirs, silent, tempDir } from '../agent/services/helpers.js';

afterAll(cleanupTempDirs);
const fx = makeTrust();

describe('emergency from a USB stick, offline', () => {
  it('an emergency bundle without a schedule plays at once after import, chime first', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    const config = parseConfig(
      {
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17, warmupMs: 10 } },
        audio: { driver: 'sim', output: { type: 'null' } },
        station: { emergencyChime: { toneHz: 880, durationMs: 400 } },
      },
      dir,
    );
    // A station enrolled earlier keeps its trust policy; the network is gone now.
    await ensureDir(join(dir, 'data'));
    await new TrustStore({
      file: join(dir, 'data', 'trust.json'),
      pinned: { keys: [fx.root.publicKey] },
      clock: { now: () => Date.now() },
      logger: silent,
    }).install(fx.trust);
    await makeBundleDir(dir, join(dir, 'usb'), {
      version: 1,
      channel: 'canh-bao',
      priority: 'emergency',
      rule: null,
      durationMs: 600,
      signer: fx.emergency.privateKey,
      files: [{ name: 'lu.wav', data: Buffer.alloc(3000, 7) }],
    });
    await packBundle(join(dir, 'usb'), join(dir, 'usb.tar'));
    const imported = await importBundle(config, join(dir, 'usb.tar'), silent);
    expect(imported?.channel).toBe('canh-bao');

    const rt = await startAgent(config, { logger: silent, logRing: new LogRing(), env: {} });
    try {
      await waitFor(
        async () => (await rt.journal.read(1, 100)).some((p) => p.outcome === 'completed'),
        20_000,
      );
      const proofs = await rt.journal.read(1, 100);
      expect(proofs.map((p) => `${p.itemId}:${p.outcome}:${p.priority}`)).toEqual([
        'item-0:started:emergency',
        'item-0:completed:emergency',
      ]);
      // The chime (a generated tone) came first, then the emergency audio file.
      const audio = rt.audio as SimAudioDriver;
      expect(audio.history.map((s) => s.input.kind)).toEqual(['tone', 'file']);
      const tone = audio.history[0]!.input;
      expect(tone.kind === 'tone' && tone.frequencyHz).toBe(880);
    } finally {
      await rt.stop();
    }
  }, 60_000);
});
