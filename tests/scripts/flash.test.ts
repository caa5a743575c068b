/**
 * `loa flash` as a technician runs it, on real disk images built with sfdisk, mkfs.vfat,
 * mkfs.ext4 and mtools (no root, no loop device): written into a file target from .img, .img.xz
 * and .zip, verified, with the provisioning file put on the FAT boot partition, and every file of
 * both partitions read back. Refusals: the block device that holds `/` (found from
 * /proc/self/mountinfo: system disk, mounted, not removable), a character device, a partition,
 * a directory, and each bad argument with its code. A progress bar on a terminal (under
 * `script`, a real pty), a quiet log otherwise.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProvisioningFileSchema } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectTarget, parseMountinfo } from '../../scripts/src/flash/target.js';
import { buildDiskImage, type DiskImage, listFat, readExt4, readFat } from './helpers/disk-image.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(repo, 'scripts/src/cli/main.ts');
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
const T = 120_000;
const NODE_ARGS = ['--conditions=@loa/source', '--import', tsx, entry];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function loa(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return run(process.execPath, [...NODE_ARGS, ...args], env);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: dir, env: { ...process.env, LOA_LANG: '', ...env }, timeout: T, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let image: DiskImage;
const provision = {
  format: 'loa-provision/1',
  fleetUrl: 'https://loa.tuyenquang.example',
  enrolmentToken: 'loaenr_0123456789abcdefghijklmn',
  stationId: 'st-02500-cho',
  unit: '08/02500',
  label: 'Cụm loa chợ Sơn Dương',
  location: { lat: 21.7, lon: 105.4, place: 'Chợ trung tâm' },
  profile: 'pi4-relay-ec25',
  network: { apn: { name: 'v-internet' } },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-flash-'));
  const random = (n: number, seed: string) => {
    const out = Buffer.alloc(n);
    let h = createHash('sha256').update(seed).digest();
    for (let i = 0; i < n; i += 32) {
      h.copy(out, i);
      h = createHash('sha256').update(h).digest();
    }
    return out;
  };
  image = buildDiskImage(join(dir, 'station.img'), dir, {
    bootFiles: {
      'config.txt': Buffer.from('dtparam=audio=on\ndtoverlay=disable-bt\n'),
      'cmdline.txt': Buffer.from('console=serial0,115200 root=LABEL=rootfs rootwait\n'),
      'user-data': Buffer.from('#cloud-config\nhostname: loa\n'),
      'kernel8.img': random(300_000, 'kernel'),
      'overlays/README': Buffer.from('overlays\n'),
    },
    rootFiles: {
      'etc/hostname': Buffer.from('loa\n'),
      'opt/loa/agent/bin/loa-agent.js': Buffer.from('// agent\n'),
      'usr/lib/loa/blob.bin': random(1_000_000, 'blob'),
    },
  });
  execFileSync('xz', ['-k', '-T1', '-0', image.path]);
  execFileSync('zip', ['-q', '-j', join(dir, 'station.zip'), image.path]);
  writeFileSync(join(dir, 'prov.json'), JSON.stringify(provision));
}, T);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function checkEveryFile(target: string): void {
  expect(listFat(target, image.bootOffset).sort()).toEqual(
    [...Object.keys(image.bootFiles), 'loa-provision.json'].sort(),
  );
  for (const [name, data] of Object.entries(image.bootFiles))
    expect(sha(readFat(target, image.bootOffset, name)), name).toBe(sha(data));
  for (const [name, data] of Object.entries(image.rootFiles))
    expect(sha(readExt4(target, image.rootOffset, name)), name).toBe(sha(data));
}

describe('loa flash into a file target', () => {
  it(
    'writes a raw image, verifies it, puts the provisioning file on the boot partition',
    async () => {
      const target = join(dir, 'card-img.img');
      const r = await loa(['flash', '--image', image.path, '--target', target, '--provision', 'prov.json']);
      expect(r.stderr).not.toMatch(/LỖI/);
      expect(r.code).toBe(0);
      const imgSha = sha(readFileSync(image.path));
      expect(r.stdout).toContain(`sha256 ${imgSha}`);
      expect(r.stdout).toMatch(
        /đã đặt loa-provision\.json vào phân vùng khởi động \(phân vùng 1, byte 1048576\)/,
      );
      checkEveryFile(target);
      const written = ProvisioningFileSchema.parse(
        JSON.parse(readFat(target, image.bootOffset, 'loa-provision.json').toString()),
      );
      expect(written).toMatchObject(provision);
      // outside the FAT partition nothing differs from the image
      const a = readFileSync(target);
      const b = readFileSync(image.path);
      expect(a.length).toBe(b.length);
      expect(a.subarray(image.rootOffset).equals(b.subarray(image.rootOffset))).toBe(true);
      expect(a.subarray(0, 512).equals(b.subarray(0, 512))).toBe(true);
    },
    T,
  );

  it.each([
    ['img.xz', 'station.img.xz'],
    ['zip', 'station.zip'],
  ])(
    'streams a .%s image to the same bytes',
    async (_kind, file) => {
      const target = join(dir, `card-${file}.img`);
      const r = await loa(['flash', '--image', file, '--target', target, '--provision', 'prov.json']);
      expect(r.stderr).not.toMatch(/LỖI/);
      expect(r.code).toBe(0);
      checkEveryFile(target);
      // the stream gave the image's exact bytes (hashed while writing, and read back)
      const img = readFileSync(image.path);
      expect(r.stdout).toContain(`sha256 ${sha(img)}`);
      expect(readFileSync(target).subarray(image.rootOffset).equals(img.subarray(image.rootOffset))).toBe(
        true,
      );
    },
    T,
  );

  it(
    'overwrites an existing larger file target entirely (no stale tail)',
    async () => {
      const target = join(dir, 'old.img');
      writeFileSync(target, Buffer.alloc(statSync(image.path).size + 4096, 0x5a));
      const r = await loa(['flash', '--image', image.path, '--target', target]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/chưa có tệp cấp phát/);
      expect(sha(readFileSync(target))).toBe(sha(readFileSync(image.path)));
    },
    T,
  );
});

describe('progress', () => {
  it(
    'draws a bar on a terminal (a real pty under script)',
    async () => {
      const target = join(dir, 'tty.img');
      const quoted = [process.execPath, ...NODE_ARGS, 'flash', '--image', image.path, '--target', target]
        .map((a) => `'${a}'`)
        .join(' ');
      const r = await run('script', ['-qfec', quoted, '/dev/null']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\rGhi +\[#{30}\] 100% {2}17\.0 MiB \/ 17\.0 MiB/);
      expect(r.stdout).toMatch(/\rKiểm tra \[#{30}\] 100%/);
      expect(r.stdout).not.toContain('đang ghi ảnh');
    },
    T,
  );

  it(
    'logs one line per phase when not a terminal',
    async () => {
      const r = await loa(['flash', '--image', image.path, '--target', join(dir, 'log.img')]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('\r');
      expect(r.stderr.trim().split('\n')).toEqual([
        `ảnh ${image.path} → ${join(dir, 'log.img')}`,
        'đang ghi ảnh (17.0 MiB)…',
        'đang đọc lại để kiểm tra (17.0 MiB)…',
      ]);
    },
    T,
  );
});

/** The block device that holds `/`, from the kernel's mount table (undefined in a container on overlayfs). */
function rootDevice(): string | undefined {
  const root = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.mountPoint === '/')
    .at(-1);
  if (!root) return undefined;
  try {
    const name = readFileSync(`/sys/dev/block/${root.devno}/uevent`, 'utf8').match(/^DEVNAME=(.+)$/m)?.[1];
    return name && existsSync(`/dev/${name}`) ? `/dev/${name}` : undefined;
  } catch {
    return undefined;
  }
}

describe('refusals', () => {
  const root = rootDevice();
  // built by `npm ci` (prepare: tsc -b); tsx cannot run as another user (its esbuild binary is root's)
  const compiled = join(repo, 'scripts/dist/cli/main.js');
  it.runIf(root && existsSync(compiled))(
    'refuses the block device that holds / (system disk, mounted), without --force',
    async () => {
      // The compiled CLI as an unprivileged user: should the refusal ever fail, opening the disk
      // fails too, and this machine's disk stays untouched.
      const target = root as string;
      chmodSync(dir, 0o755); // the image must be readable by that user
      const r = await run('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        compiled,
        'flash',
        '--image',
        image.path,
        '--target',
        target,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`TỪ CHỐI TARGET_SYSTEM_DISK: ${target}`);
      expect(r.stderr).toMatch(/TỪ CHỐI TARGET_MOUNTED: .*: ổ đĩa đang được gắn \(mount\): \//);
      expect(r.stderr).toContain('LỖI TARGET_SYSTEM_DISK');
      expect(r.stderr).toContain('--force');
      const info = await inspectTarget(target, image.path);
      expect(info.refusals.map((x) => x.code)).toEqual(
        expect.arrayContaining(['TARGET_SYSTEM_DISK', 'TARGET_MOUNTED']),
      );
    },
    T,
  );

  it(
    'refuses a character device, and names the reason',
    async () => {
      const r = await loa(['flash', '--image', image.path, '--target', '/dev/null']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('TỪ CHỐI TARGET_NOT_BLOCK_OR_FILE: /dev/null');
    },
    T,
  );

  it('reads removable, mounted and partition facts from the kernel tables', async () => {
    // A prepared /sys and /proc (same layout as the kernel's) around device nodes made with mknod.
    const t = join(dir, 'kernel');
    const sys = join(t, 'sys');
    const proc = join(t, 'proc');
    const devs = join(t, 'dev');
    mkdirSync(join(sys, 'dev/block'), { recursive: true });
    mkdirSync(join(sys, 'block/sdz/sdz1'), { recursive: true });
    mkdirSync(join(proc, 'self'), { recursive: true });
    mkdirSync(devs, { recursive: true });
    execFileSync('ln', ['-s', '../../block/sdz', join(sys, 'dev/block/8:240')]);
    execFileSync('ln', ['-s', '../../block/sdz/sdz1', join(sys, 'dev/block/8:241')]);
    writeFileSync(join(sys, 'block/sdz/removable'), '1\n');
    writeFileSync(join(sys, 'block/sdz/size'), '62333952\n');
    writeFileSync(join(sys, 'block/sdz/sdz1/partition'), '1\n');
    writeFileSync(join(sys, 'block/sdz/sdz1/dev'), '8:241\n');
    execFileSync('mknod', [join(devs, 'sdz'), 'b', '8', '240']);
    execFileSync('mknod', [join(devs, 'sdz1'), 'b', '8', '241']);
    const rootLine = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n';
    writeFileSync(join(proc, 'self/mountinfo'), rootLine);
    writeFileSync(join(proc, 'swaps'), 'Filename Type Size Used Priority\n');
    const env = { sysRoot: sys, procRoot: proc };
    const card = await inspectTarget(join(devs, 'sdz'), image.path, env);
    expect(card).toMatchObject({ kind: 'block', disk: 'sdz', size: 62333952 * 512, refusals: [] });
    writeFileSync(
      join(proc, 'self/mountinfo'),
      `${rootLine}90 27 8:241 / /media/kt/bootfs rw,nosuid - vfat /dev/sdz1 rw\n`,
    );
    const mounted = await inspectTarget(join(devs, 'sdz'), image.path, env);
    expect(mounted.refusals).toEqual([
      { code: 'TARGET_MOUNTED', detail: 'ổ đĩa đang được gắn (mount): /media/kt/bootfs' },
    ]);
    writeFileSync(join(sys, 'block/sdz/removable'), '0\n');
    writeFileSync(join(proc, 'swaps'), 'Filename Type Size Used Priority\n/dev/sdz1 partition 1024 0 -2\n');
    const fixed = await inspectTarget(join(devs, 'sdz'), image.path, env);
    expect(fixed.refusals.map((x) => x.code)).toEqual([
      'TARGET_MOUNTED',
      'TARGET_IN_SWAP',
      'TARGET_NOT_REMOVABLE',
    ]);
    await expect(inspectTarget(join(devs, 'sdz1'), image.path, env)).rejects.toMatchObject({
      code: 'TARGET_IS_PARTITION',
    });
  });
});

describe('bad arguments', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['missing --target', () => ['flash', '--image', image.path], 2, /thiếu tùy chọn --target/],
    ['unknown option', () => ['flash', '--image', image.path, '--targt', 'x'], 2, /ý bạn là --target/],
    [
      'unknown image type',
      () => ['flash', '--image', 'a.iso', '--target', 'x.img'],
      1,
      /IMAGE_FORMAT_UNKNOWN/,
    ],
    ['missing image', () => ['flash', '--image', 'none.img', '--target', 'x.img'], 1, /IMAGE_NOT_FOUND/],
    ['directory target', () => ['flash', '--image', image.path, '--target', dir], 1, /TARGET_IS_DIRECTORY/],
    [
      'image as its own target',
      () => ['flash', '--image', image.path, '--target', image.path],
      1,
      /TARGET_IS_IMAGE/,
    ],
    [
      'bad provisioning file',
      () => ['flash', '--image', image.path, '--target', 'x.img', '--provision', 'bad-prov.json'],
      1,
      /PROVISION_INVALID.*unit/,
    ],
    [
      'missing provisioning file',
      () => ['flash', '--image', image.path, '--target', 'x.img', '--provision', 'none.json'],
      1,
      /PROVISION_NOT_FOUND/,
    ],
    [
      'zip with two files',
      () => ['flash', '--image', 'two.zip', '--target', 'x.img'],
      1,
      /IMAGE_ZIP_ENTRIES/,
    ],
    ['corrupt xz', () => ['flash', '--image', 'broken.img.xz', '--target', 'x.img'], 1, /IMAGE_CORRUPT/],
    [
      'no partition table, with a provisioning file',
      () => ['flash', '--image', 'blank.img', '--target', 'y.img', '--provision', 'prov.json'],
      1,
      /IMAGE_NO_PARTITION_TABLE/,
    ],
  ];
  beforeAll(() => {
    writeFileSync(join(dir, 'bad-prov.json'), JSON.stringify({ ...provision, unit: 'xã Sơn Dương' }));
    writeFileSync(join(dir, 'a.txt'), 'a');
    execFileSync('zip', ['-q', '-j', join(dir, 'two.zip'), image.path, join(dir, 'a.txt')]);
    const xz = readFileSync(`${image.path}.xz`);
    xz.fill(0x33, 2000, 4000);
    writeFileSync(join(dir, 'broken.img.xz'), xz);
    writeFileSync(join(dir, 'blank.img'), Buffer.alloc(1024 * 1024));
  });
  it.each(cases)(
    '%s',
    async (_name, args, code, message) => {
      const r = await loa(args());
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      if (code === 2 || !/IMAGE_CORRUPT|NO_PARTITION/.test(message.source))
        expect(existsSync(join(dir, 'x.img'))).toBe(false);
    },
    T,
  );
});
