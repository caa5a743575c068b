/**
 * The image recipe, as far as this machine allows without root, a loop device or an arm64
 * emulator: shellcheck on every script; customise.sh's dry run (prints every step, touches
 * nothing); its offline phase on a small Raspberry Pi–shaped image built here (data partition
 * appended, watchdog in config.txt, Loa's files, enabled units and fstab lines in the ext4 root,
 * all read back with debugfs and mtools), twice (idempotent); loa-configure on each hardware
 * profile: the agent config it writes is accepted by the agent's own config parser, and the
 * LTE/Wi-Fi connections are private keyfiles.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { parseMbr } from '../../scripts/src/flash/mbr.js';
import { buildDiskImage, type DiskImage, readExt4, readFat } from '../scripts/helpers/disk-image.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const images = join(repo, 'images');
const T = 120_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: dir, timeout: T, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let dir: string;
let image: DiskImage;
let rootKey: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-image-'));
  image = buildDiskImage(join(dir, 'raspios.img'), dir, {
    bootMiB: 8,
    rootMiB: 12,
    bootFiles: {
      'config.txt': Buffer.from('arm_64bit=1\ndtparam=audio=on\n'),
      'cmdline.txt': Buffer.from('root=LABEL=rootfs\n'),
    },
    rootFiles: {
      'etc/fstab': Buffer.from(
        'proc /proc proc defaults 0 0\nPARTUUID=ab-01 /boot/firmware vfat defaults 0 2\nPARTUUID=ab-02 / ext4 defaults,noatime 0 1\n',
      ),
      'etc/hostname': Buffer.from('raspberrypi\n'),
    },
  });
  rootKey = join(dir, 'province-root.pub');
  writeFileSync(rootKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
}, T);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hasShellcheck = (() => {
  try {
    execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('image recipe', () => {
  it.runIf(hasShellcheck)('every shell script passes shellcheck', async () => {
    const scripts = [
      'customise.sh',
      'chroot-install.sh',
      'build-agent.sh',
      'pi-gen/stage-loa/prerun.sh',
      'pi-gen/stage-loa/01-loa/00-run.sh',
    ].map((s) => join(images, s));
    for (const s of scripts) expect(statSync(s).mode & 0o111, s).not.toBe(0);
    const r = await run('shellcheck', ['-x', ...scripts]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it(
    'a dry run prints every step and touches nothing',
    async () => {
      const before = sha(image.path);
      const r = await run(join(images, 'customise.sh'), [
        '--image',
        image.path,
        '--out',
        'dry.img',
        '--root-key',
        rootKey,
        '--data-mib',
        '16',
        '--dry-run',
      ]);
      expect(r.stderr).not.toMatch(/customise: .*(missing|no |must)/);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('+ cp --sparse=always --');
      expect(r.stdout).toMatch(/\+ sfdisk --append dry\.img <<< start=\d+\\?,\\? size=32768/);
      expect(r.stdout).toContain('mkfs.ext4 -q -F -L loadata');
      expect(r.stdout).toMatch(
        /debugfs -w -R symlink\\ \/etc\/systemd\/system\/multi-user\.target\.wants\/loa-agent\.service/,
      );
      expect(existsSync(join(dir, 'dry.img'))).toBe(false);
      expect(sha(image.path)).toBe(before);
    },
    T,
  );

  it(
    'customises the image offline; a second run keeps its data partition',
    async () => {
      const out = join(dir, 'loa.img');
      const args = ['--image', image.path, '--out', out, '--root-key', rootKey, '--data-mib', '16'];
      const first = await run(join(images, 'customise.sh'), args);
      expect(first.stderr).toContain('customise: done');
      expect(first.code).toBe(0);
      const check = () => {
        const parts = parseMbr(readFileSync(out).subarray(0, 512));
        expect(parts.map((p) => p.index)).toEqual([1, 2, 3]);
        const data = parts[2] as (typeof parts)[number];
        expect(data.size).toBe(16 * 1024 * 1024);
        expect(data.offset % (1024 * 1024)).toBe(0);
        const label = execFileSync('dumpe2fs', ['-h', `${out}?offset=${data.offset}`], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }).toString();
        expect(label).toMatch(/Filesystem volume name:\s+loadata/);
        const config = readFat(out, image.bootOffset, 'config.txt').toString();
        expect(config.startsWith('arm_64bit=1\ndtparam=audio=on\n')).toBe(true);
        expect(config.match(/^dtparam=watchdog=on$/gm)).toHaveLength(1);
        const root = (p: string) => readExt4(out, image.rootOffset, p);
        for (const f of [
          'etc/loa/agent.base.json',
          'etc/systemd/journald.conf.d/loa.conf',
          'etc/systemd/system.conf.d/loa-watchdog.conf',
          'etc/udev/rules.d/77-loa-ec25.rules',
          'etc/NetworkManager/conf.d/loa.conf',
          'usr/lib/loa/loa-configure.mjs',
          'etc/systemd/system/loa-agent.service',
          'etc/systemd/system/loa-configure.service',
        ])
          expect(
            root(f).equals(
              readFileSync(
                join(
                  images,
                  f.startsWith('etc/systemd/system/') ? `systemd/${f.split('/').at(-1)}` : `rootfs/${f}`,
                ),
              ),
            ),
            f,
          ).toBe(true);
        for (const p of readdirSync(join(images, 'profiles')))
          expect(root(`usr/share/loa/profiles/${p}`).equals(readFileSync(join(images, 'profiles', p)))).toBe(
            true,
          );
        expect(root('etc/loa/root-keys/province-root.pub').toString()).toBe(readFileSync(rootKey, 'utf8'));
        const fstab = root('etc/fstab').toString();
        expect(fstab).toContain('PARTUUID=ab-02 / ext4 defaults,noatime 0 1');
        expect(fstab).not.toContain('PARTUUID=ab-01');
        expect(fstab.match(/^LABEL=loadata \/var\/lib\/loa ext4 /gm)).toHaveLength(1);
        expect(
          fstab.match(/^LABEL=bootfs \/boot\/firmware vfat defaults,gid=loa,fmask=0117,dmask=0007/gm),
        ).toHaveLength(1);
        const stat = (p: string) =>
          execFileSync('debugfs', ['-R', `stat ${p}`, `${out}?offset=${image.rootOffset}`], {
            stdio: ['ignore', 'pipe', 'ignore'],
          }).toString();
        expect(stat('/etc/systemd/system/multi-user.target.wants/loa-agent.service')).toContain(
          'Fast link dest: "/etc/systemd/system/loa-agent.service"',
        );
        expect(stat('/etc/systemd/system/multi-user.target.wants/loa-configure.service')).toContain(
          'loa-configure.service"',
        );
        expect(stat('/usr/lib/loa/loa-configure.mjs')).toMatch(/Mode:\s+0755[\s\S]*User:\s+0\s+Group:\s+0/);
        expect(stat('/etc/loa/agent.base.json')).toMatch(/Mode:\s+0644/);
        // the untouched files are still there
        expect(root('etc/hostname').toString()).toBe('raspberrypi\n');
      };
      check();
      const second = await run(join(images, 'customise.sh'), [
        '--image',
        out,
        '--out',
        join(dir, 'loa2.img'),
        '--root-key',
        rootKey,
        '--data-mib',
        '16',
      ]);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('a third partition exists already');
    },
    T,
  );

  it('loa-configure writes an agent config the agent accepts, for every hardware profile', () => {
    const profiles = readdirSync(join(images, 'profiles')).map((f) => f.replace(/\.json$/, ''));
    expect(profiles.sort()).toEqual(['noticeboard-pi4', 'pi4-relay-ec25', 'pi5-relay-ec25']);
    for (const profile of profiles) {
      const t = join(dir, `cfg-${profile}`);
      mkdirSync(join(t, 'boot'), { recursive: true });
      writeFileSync(
        join(t, 'boot', 'loa-provision.json'),
        JSON.stringify({
          format: 'loa-provision/1',
          fleetUrl: 'https://loa.example',
          stationId: 'st-02500-cho',
          unit: '08/02500',
          label: 'Cụm loa chợ',
          profile,
          network: {
            apn: { name: 'v-internet', username: 'u' },
            wifi: { ssid: 'UBND xã', psk: 'mat-khau-wifi', country: 'VN' },
          },
        }),
      );
      const out = execFileSync(process.execPath, [
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
      ]).toString();
      expect(out).toContain('loa-lte.nmconnection, loa-wifi.nmconnection');
      const json = JSON.parse(readFileSync(join(t, 'run-loa', 'agent.json'), 'utf8'));
      const config = parseConfig(json, '/');
      const p = JSON.parse(readFileSync(join(images, 'profiles', `${profile}.json`), 'utf8'));
      expect(config.hardware.amplifier.pin).toBe(p.agent.hardware.amplifier.pin);
      expect(config.hardware.gpio.driver).toBe('real');
      expect(config.device.dataDir).toBe('/var/lib/loa/agent');
      expect(config.fleet?.provisioningFile).toBe('/boot/firmware/loa-provision.json');
      expect(config.device.name).toBe('Cụm loa chợ');
      // every relay and input pin in the profile's wiring table drives what the config says
      const pins = (p.gpio as { bcm: number }[]).map((g) => g.bcm).sort();
      const used = [
        config.hardware.amplifier.pin,
        ...Object.values(config.hardware.zones).map((z) => z.pin),
        ...Object.values(config.hardware.inputSelect).map((z) => z?.pin),
        ...Object.values(config.hardware.inputs).map((z) => z?.pin),
      ].filter((x): x is number => x !== undefined);
      expect([...used].sort()).toEqual(pins);
      const lte = readFileSync(join(t, 'nm', 'loa-lte.nmconnection'), 'utf8');
      expect(lte).toContain('type=gsm');
      expect(lte).toContain('apn=v-internet');
      expect(statSync(join(t, 'nm', 'loa-lte.nmconnection')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(t, 'nm', 'loa-wifi.nmconnection'), 'utf8')).toContain('ssid=UBND xã');
    }
  });

  it('loa-configure without a provisioning file writes the base config; with a wrong profile it stops', async () => {
    const t = join(dir, 'cfg-none');
    mkdirSync(join(t, 'boot'), { recursive: true });
    const base = [
      '--profiles',
      join(images, 'profiles'),
      '--base',
      join(images, 'rootfs/etc/loa/agent.base.json'),
      '--out',
      join(t, 'run'),
      '--nm',
      join(t, 'nm'),
    ];
    const script = join(images, 'rootfs/usr/lib/loa/loa-configure.mjs');
    const ok = await run(process.execPath, [script, '--boot', join(t, 'boot'), ...base]);
    expect(ok.code).toBe(0);
    expect(
      parseConfig(JSON.parse(readFileSync(join(t, 'run', 'agent.json'), 'utf8')), '/').hardware.gpio.driver,
    ).toBe('sim');
    expect(existsSync(join(t, 'nm'))).toBe(false);
    writeFileSync(
      join(t, 'boot', 'loa-provision.json'),
      JSON.stringify({ format: 'loa-provision/1', profile: 'pi9-none' }),
    );
    const bad = await run(process.execPath, [script, '--boot', join(t, 'boot'), ...base]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('hardware profile "pi9-none" not in');
  });
});
