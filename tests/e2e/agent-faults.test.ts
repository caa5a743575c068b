/**
 * The agent process from the command line: a malformed config is refused with every bad path in
 * Vietnamese and a non-zero exit; SIGTERM stops it cleanly (amplifier off, exit 0); a corrupt
 * bundle on a USB stick is rejected and the old one keeps playing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publicKeyToPem } from '@loa/protocol';
import { packBundle } from '@loa/protocol/fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { startAgent } from '../../agent/src/main.js';
import { TrustStore } from '../../agent/src/services/content/trust-store.js';
import { ensureDir } from '../../agent/src/services/system/data-dir.js';
import { LogRing } from '../../agent/src/services/system/log-ring.js';
import { makeBundleDir, makeTrust } from '../agent/services/bundle-fixtures.js';
import {
  cleanupTempDirs,
  silent,
  spawnTs,
  tempDir,
  waitExit,
  waitForLine,
} from '../agent/services/helpers.js';

afterAll(cleanupTempDirs);
const fx = makeTrust();

function run(args: string[]) {
  const child = spawnTs('agent/src/main.ts', args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

describe('agent process', () => {
  it('refuses a malformed config with a Vietnamese list of errors and exit code 78', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        device: { dataDir: 'd' },
        trust: { rootKeys: ['r.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 99 }, zones: { cho: { pin: 'x' } } },
        audio: { driver: 'ffmpeg', output: { type: 'null' } },
      }),
    );
    const p = run(['--config', file]);
    expect(await p.exit).toBe(78);
    expect(p.err()).toContain('hardware.amplifier.pin: phải là số nguyên 0–27');
    expect(p.err()).toContain('hardware.zones.cho.pin: phải là số nguyên 0–27');
    expect(p.err()).toContain('audio.driver');
  }, 60_000);

  it('explains its usage and rejects a missing file', async () => {
    const help = run(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.out()).toContain('--config');
    const missing = run(['--config', '/nonexistent/loa.json']);
    expect(await missing.exit).toBe(66);
    expect(missing.err()).toContain('Không đọc được tệp cấu hình');
  }, 60_000);

  it('stops cleanly on SIGTERM: amplifier off, exit 0', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    await writeFile(
      join(dir, 'agent.json'),
      JSON.stringify({
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17 } },
        audio: { driver: 'sim', output: { type: 'null' } },
      }),
    );
    const p = run(['--config', join(dir, 'agent.json')]);
    await waitForLine(p.child, /"msg":"agent started"/);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    await waitExit(p.child);
    const lines = p
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; on?: boolean });
    const stopAt = lines.findIndex((l) => l.msg.startsWith('stopping'));
    expect(stopAt).toBeGreaterThan(0);
    expect(lines.slice(stopAt).some((l) => l.msg === 'amplifier relay' && l.on === false)).toBe(true);
  }, 60_000);

  it('rejects a corrupt or unauthorised USB bundle and keeps playing the old one', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    const config = parseConfig(
      {
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17, warmupMs: 10 } },
        audio: { driver: 'sim', output: { type: 'null' } },
      },
      dir,
    );
    // The trust policy normally comes at enrolment; install it directly here.
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
      await makeBundleDir(dir, join(dir, 'v1'), {
        version: 1,
        signer: fx.content.privateKey,
        files: [{ name: 'a.wav', data: Buffer.alloc(4000, 3) }],
      });
      await packBundle(join(dir, 'v1'), join(dir, 'v1.tar'));
      await rt.bundles.importPath(join(dir, 'v1.tar'));
      await makeBundleDir(dir, join(dir, 'v2'), {
        version: 2,
        signer: fx.outsider.privateKey,
        files: [{ name: 'b.wav', data: Buffer.alloc(4000, 4) }],
      });
      await expect(rt.bundles.importPath(join(dir, 'v2'))).rejects.toMatchObject({ code: 'KEY_UNKNOWN' });
      const h = await rt.health.collect();
      expect(h.bundles).toEqual([{ channel: 'main', id: 'b-main-1', version: 1 }]);
      expect(h.lastError?.code).toBe('KEY_UNKNOWN');
    } finally {
      await rt.stop();
    }
  }, 60_000);

  it('imports a USB bundle from the command line (loa-agent --import)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'root.pub'), publicKeyToPem(fx.root.publicKey));
    await writeFile(
      join(dir, 'agent.json'),
      JSON.stringify({
        device: { dataDir: 'data', unit: '08/02500' },
        trust: { rootKeys: ['root.pub'] },
        hardware: { gpio: { driver: 'sim' }, amplifier: { pin: 17 } },
      }),
    );
    await ensureDir(join(dir, 'data'));
    await new TrustStore({
      file: join(dir, 'data', 'trust.json'),
      pinned: { keys: [fx.root.publicKey] },
      clock: { now: () => Date.now() },
      logger: silent,
    }).install(fx.trust);
    await makeBundleDir(dir, join(dir, 'usb'), {
      version: 4,
      signer: fx.content.privateKey,
      files: [{ name: 'a.wav', data: Buffer.alloc(2000, 5) }],
    });
    await packBundle(join(dir, 'usb'), join(dir, 'usb.tar'));
    const ok = run(['--config', join(dir, 'agent.json'), '--import', join(dir, 'usb.tar')]);
    expect(await ok.exit).toBe(0);
    expect(ok.out()).toContain('Đã nhập: kênh main, phiên bản 4');
    await makeBundleDir(dir, join(dir, 'bad'), {
      version: 5,
      unit: '09',
      signer: fx.content.privateKey,
      files: [{ name: 'b.wav', data: Buffer.alloc(2000, 6) }],
    });
    const bad = run(['--config', join(dir, 'agent.json'), '--import', join(dir, 'bad')]);
    expect(await bad.exit).toBe(1);
    expect(bad.err()).toContain('SCOPE_NOT_COVERED');
  }, 60_000);
});
