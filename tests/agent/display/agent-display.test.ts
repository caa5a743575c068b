/**
 * The whole agent as a noticeboard: startAgent() with a `display` section spawns Debian's
 * Chromium (headless) on its kiosk page; signed bundles imported through the real bundle store
 * (trust policy, signatures, blobs) reach the screen, proofs of display land in the journal,
 * health carries the screen, and a signed emergency bundle puts the overlay on top.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publicKeyToPem } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../agent/src/config.js';
import { startAgent } from '../../../agent/src/main.js';
import { TrustStore } from '../../../agent/src/services/content/trust-store.js';
import { ensureDir } from '../../../agent/src/services/system/data-dir.js';
import { LogRing } from '../../../agent/src/services/system/log-ring.js';
import { makeTrust } from '../services/bundle-fixtures.js';
import { silent, tempDir } from '../services/helpers.js';
import { signedBundle } from './harness.js';

describe('the agent as a noticeboard', () => {
  it('shows signed bulletins from the bundle store, proves them, reports the screen in health, overlays an emergency', async () => {
    const fx = makeTrust('08');
    const dir = await tempDir('loa-agent-board-');
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    const config = parseConfig(
      {
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17, warmupMs: 10 } },
        audio: { driver: 'sim', output: { type: 'null' } },
        display: {
          port: 0,
          unitName: 'UBND xã Sơn Dương',
          browser: { headless: true, width: 1280, height: 720 },
        },
      },
      dir,
    );
    expect(config.display?.fonts.regular).toBe('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf');
    await ensureDir(join(dir, 'data'));
    const ts = new TrustStore({
      file: join(dir, 'data', 'trust.json'),
      pinned: { keys: [fx.root.publicKey] },
      clock: { now: () => Date.now() },
      logger: silent,
    });
    await ts.install(fx.trust);
    const rt = await startAgent(config, { logger: silent, logRing: new LogRing(), env: {} });
    try {
      const display = rt.display;
      if (!display) throw new Error('no display service');
      const now = async () => (await fetch(display.url.replace('/kiosk/', '/kiosk/now'))).json();
      // Nothing installed yet: the idle card, nothing on screen.
      await expect.poll(() => display.health().heartbeatAgeMs, { timeout: 30_000 }).not.toBeNull();
      expect(await now()).toBeNull();

      await signedBundle(dir, {
        id: 'ban-tin-xa',
        channel: 'xa',
        signer: fx.content.privateKey,
        out: join(dir, 'v1'),
        items: [
          {
            id: 'hop-dan',
            kind: 'text',
            title: 'Họp dân thôn Đồng Chằm',
            text: 'Tối thứ Sáu lúc 19 giờ tại nhà văn hoá thôn: bàn về làm đường giao thông nông thôn.',
          },
        ],
      });
      await rt.bundles.importPath(join(dir, 'v1'));
      await expect
        .poll(now, { timeout: 20_000 })
        .toMatchObject({ bundleId: 'ban-tin-xa', itemId: 'hop-dan', kind: 'text' });
      const health = await rt.health.collect();
      expect(health.display).toMatchObject({
        onScreen: { bundleId: 'ban-tin-xa', itemId: 'hop-dan', kind: 'text' },
        restarts: 0,
      });

      await signedBundle(dir, {
        id: 'khan-cap-v1',
        channel: 'emergency',
        signer: fx.emergency.privateKey,
        out: join(dir, 'e1'),
        items: [
          {
            id: 'alert-text',
            kind: 'text',
            priority: 'emergency',
            title: 'Cảnh báo lũ quét',
            text: 'Người dân các thôn ven suối di chuyển ngay đến nơi an toàn.',
            durationMs: 30_000,
          },
        ],
        schedule: [{ id: 'now', items: ['alert-text'], rule: { type: 'immediate' } }],
      });
      await rt.bundles.importPath(join(dir, 'e1'));
      await expect
        .poll(now, { timeout: 5000, interval: 50 })
        .toMatchObject({ bundleId: 'khan-cap-v1', kind: 'emergency' });

      const proofs = await rt.journal.recent(20);
      const shown = proofs
        .filter((p) => p.kind === 'display' && p.outcome === 'started')
        .map((p) => p.itemId);
      expect(shown).toEqual(expect.arrayContaining(['hop-dan', 'alert-text']));
      const png = await display.screenshot();
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await rt.stop();
    }
  }, 90_000);
});
