/**
 * `lineOut` in the provisioning file: loa-configure (the real script, run with node) writes the
 * agent config with that output profile, the agent accepts it, the provisioning schema knows the
 * field, and a bad value stops the boot step with a clear message.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisioningFileSchema } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const images = join(repo, 'images');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-lineout-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const provisioning = (extra: Record<string, unknown>, profile = 'pi4-relay-ec25') => ({
  format: 'loa-provision/1',
  fleetUrl: 'https://loa.example',
  stationId: 'st-02500-dai-cu',
  unit: '08/02500',
  label: 'Đài truyền thanh xã cũ',
  profile,
  ...extra,
});

function configure(name: string, prov: unknown): Promise<{ code: number; stderr: string; out: string }> {
  const t = join(dir, name);
  mkdirSync(join(t, 'boot'), { recursive: true });
  writeFileSync(join(t, 'boot', 'loa-provision.json'), JSON.stringify(prov));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        join(images, 'rootfs/usr/lib/loa/loa-configure.mjs'),
        '--boot',
        join(t, 'boot'),
        '--profiles',
        join(images, 'profiles'),
        '--base',
        join(images, 'rootfs/etc/loa/agent.base.json'),
        '--out',
        join(t, 'run-loa'),
        '--nm',
        join(t, 'nm'),
      ],
      (err, _stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? -1) : 0, stderr, out: join(t, 'run-loa', 'agent.json') }),
    );
  });
}

describe('lineOut in the provisioning file', () => {
  it.each(['fm-exciter', 'wired-line'] as const)(
    '%s: the agent config carries that output profile',
    async (lineOut) => {
      const prov = provisioning({ lineOut });
      expect(ProvisioningFileSchema.parse(prov).lineOut).toBe(lineOut);
      const r = await configure(lineOut, prov);
      expect(r.code, r.stderr).toBe(0);
      const config = parseConfig(JSON.parse(readFileSync(r.out, 'utf8')), '/');
      expect(config.audio.profile.kind).toBe(lineOut);
      expect(config.audio.profile.preEmphasisUs).toBe(lineOut === 'fm-exciter' ? 50 : 0);
      // The hardware profile's output stays.
      expect(config.audio.output).toEqual({ type: 'alsa', device: 'plughw:CARD=Headphones,DEV=0' });
    },
  );

  it('absent: the loudspeaker profile, as before', async () => {
    const r = await configure('none', provisioning({}));
    expect(r.code, r.stderr).toBe(0);
    expect(parseConfig(JSON.parse(readFileSync(r.out, 'utf8')), '/').audio.profile.kind).toBe('loudspeaker');
  });

  it('a bad value stops loa-configure with a clear message and writes nothing', async () => {
    expect(ProvisioningFileSchema.safeParse(provisioning({ lineOut: 'fm' })).success).toBe(false);
    const bad = await configure('bad', provisioning({ lineOut: 'fm' }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('lineOut must be "loudspeaker", "fm-exciter" or "wired-line"');
    // Nothing written: the station keeps no half-made config.
    expect(() => readFileSync(bad.out, 'utf8')).toThrow();
  });
});
