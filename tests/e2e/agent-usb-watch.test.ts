/**
 * A USB stick with no shell: a running station (sim audio, offline, trust policy from an earlier
 * enrolment) watches its USB mount root. A tampered bundle tar dropped there is refused and
 * reported (health usbImport + lastError, a long low tone); a good one is imported and plays,
 * with a short high tone as the technician's confirmation. The station has no clock source at
 * all (no server, no NTP): the tones play all the same, and their proofs say the clock was not
 * trusted. The technician page takes an upload of the same tar and reports its result.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publicKeyToPem } from '@loa/protocol';
import { packBundle } from '@loa/protocol/fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import type { SimAudioDriver } from '../../agent/src/drivers/audio/sim.js';
import { hashPassword } from '../../agent/src/http/password.js';
import { startAgent } from '../../agent/src/main.js';
import { TrustStore } from '../../agent/src/services/content/trust-store.js';
import { ensureDir } from '../../agent/src/services/system/data-dir.js';
import { LogRing } from '../../agent/src/services/system/log-ring.js';
import { waitFor } from '../agent/player-harness.js';
import { makeBundleDir, makeTrust } from '../agent/services/bundle-fixtures.js';
import { cleanupTempDirs, silent, tempDir } from '../agent/services/helpers.js';

afterAll(cleanupTempDirs);
const fx = makeTrust();

describe('USB stick import while the station runs', () => {
  it('refuses and reports a tampered tar, imports and plays a good one', async () => {
    const dir = await tempDir();
    const usb = join(dir, 'run-loa-usb');
    await mkdir(usb);
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    const config = parseConfig(
      {
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17, warmupMs: 10 } },
        audio: { driver: 'sim', output: { type: 'null' } },
        usb: { dir: usb, pollS: 0.2 },
        technician: {
          enabled: true,
          listen: '127.0.0.1',
          port: 0,
          passwordHash: await hashPassword('ky-thuat-vien-1'),
        },
      },
      dir,
    );
    await ensureDir(join(dir, 'data'));
    await new TrustStore({
      file: join(dir, 'data', 'trust.json'),
      pinned: { keys: [fx.root.publicKey] },
      clock: { now: () => Date.now() },
      logger: silent,
    }).install(fx.trust);
    await makeBundleDir(dir, join(dir, 'bundle'), {
      version: 1,
      channel: 'canh-bao',
      priority: 'emergency',
      rule: null,
      durationMs: 600,
      signer: fx.emergency.privateKey,
      files: [{ name: 'lu.wav', data: Buffer.alloc(3000, 7) }],
    });
    const good = join(dir, 'good.tar');
    await packBundle(join(dir, 'bundle'), good);
    const bytes = await readFile(good);
    const tampered = Buffer.from(bytes);
    const at = tampered.indexOf(Buffer.alloc(64, 7));
    tampered[at + 10] = 8; // one byte of the audio changed after signing

    const rt = await startAgent(config, { logger: silent, logRing: new LogRing(), env: {} });
    try {
      const audio = rt.audio as SimAudioDriver;
      // offline: no fleet server, no NTP, no modem time; the clock is not trusted and the
      // confirmation tones play all the same (a signal for the technician, not a programme)
      expect(rt.clock.trusted()).toBe(false);
      // the stick is mounted as a folder under the watched root
      await mkdir(join(usb, 'sda1'));
      await writeFile(join(usb, 'sda1', 'tin-sua.tar'), tampered);
      const refused = await waitFor(async () => (await rt.health.collect()).usbImport, 20_000);
      expect(refused).toMatchObject({ ok: false, code: 'BLOB_HASH_MISMATCH' });
      expect((await rt.health.collect()).lastError?.code).toBe('BLOB_HASH_MISMATCH');
      expect(rt.bundles.active()).toEqual([]);
      await waitFor(
        async () => audio.history.some((s) => s.input.kind === 'tone' && s.input.frequencyHz === 330),
        20_000,
      );

      await writeFile(join(usb, 'sda1', 'tin.tar'), bytes);
      await waitFor(async () => (await rt.health.collect()).usbImport?.ok === true, 20_000);
      expect((await rt.health.collect()).usbImport).toMatchObject({
        ok: true,
        channel: 'canh-bao',
        version: 1,
      });
      // the emergency's own end (the refusal tone before it may have completed already)
      await waitFor(
        async () =>
          (await rt.journal.read(1, 100)).some(
            (p) => p.outcome === 'completed' && p.priority === 'emergency',
          ),
        20_000,
      );
      const played = (await rt.journal.read(1, 100)).filter((p) => p.priority === 'emergency');
      expect(played.map((p) => p.outcome)).toEqual(['started', 'completed']);
      await waitFor(
        async () => audio.history.some((s) => s.input.kind === 'tone' && s.input.frequencyHz === 1320),
        20_000,
      );
      expect(audio.history.some((s) => s.input.kind === 'file')).toBe(true);
      // the tones' proofs say honestly that the clock was not trusted when they played
      const tones = await waitFor(async () => {
        const t = (await rt.journal.read(1, 100)).filter(
          (p) => p.itemId === 'test-tone' && p.outcome === 'completed',
        );
        return t.length === 2 ? t : undefined;
      }, 20_000);
      expect(tones.map((p) => p.clockTrusted)).toEqual([false, false]);
      expect(rt.clock.trusted()).toBe(false);

      // the technician page takes the same tar as an upload: refused when tampered, reported
      const base = `http://127.0.0.1:${rt.technician?.port}`;
      const login = await fetch(`${base}/login`, {
        method: 'POST',
        body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
        redirect: 'manual',
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const form = new FormData();
      form.set('bundle', new File([tampered], 'tin-sua.tar'));
      const page = await fetch(`${base}/import`, { method: 'POST', body: form, headers: { cookie } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Từ chối tin-sua.tar: BLOB_HASH_MISMATCH');
      expect((await rt.health.collect()).usbImport).toMatchObject({ ok: false, code: 'BLOB_HASH_MISMATCH' });
    } finally {
      await rt.stop();
    }
  }, 90_000);
});
