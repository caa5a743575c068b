/**
 * A small Raspberry Pi–shaped disk image built with Debian's own tools, no root and no loop
 * device: an MBR with a FAT boot partition and an ext4 root (sfdisk), the FAT made with
 * mkfs.vfat --offset and filled with mtools, the ext4 made with mkfs.ext4 -E offset -d from a
 * directory tree. Readers give every file back (mtype/mdir for FAT, debugfs for ext4).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MT_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
const SECTOR = 512;

export interface DiskImage {
  path: string;
  bootOffset: number;
  rootOffset: number;
  /** What was put on each partition: path → content. */
  bootFiles: Record<string, Buffer>;
  rootFiles: Record<string, Buffer>;
}

/** Builds the image at `path` in `work` (a scratch directory). Sizes in MiB. */
export function buildDiskImage(
  path: string,
  work: string,
  opts: {
    bootMiB?: number;
    rootMiB?: number;
    bootFiles: Record<string, Buffer>;
    rootFiles: Record<string, Buffer>;
  },
): DiskImage {
  const bootMiB = opts.bootMiB ?? 8;
  const rootMiB = opts.rootMiB ?? 8;
  const bootStart = 2048;
  const bootSectors = (bootMiB * 1024 * 1024) / SECTOR;
  const rootStart = bootStart + bootSectors;
  const rootSectors = (rootMiB * 1024 * 1024) / SECTOR;
  const total = (rootStart + rootSectors) * SECTOR;
  writeFileSync(path, Buffer.alloc(0));
  execFileSync('truncate', ['-s', String(total), path]);
  execFileSync('sfdisk', ['-q', path], {
    input: `label: dos\nstart=${bootStart}, size=${bootSectors}, type=c, bootable\nstart=${rootStart}, size=${rootSectors}, type=83\n`,
  });
  // mkfs.vfat counts in 1 KiB blocks
  execFileSync('mkfs.vfat', ['-n', 'bootfs', '--offset', String(bootStart), path, String(bootMiB * 1024)], {
    stdio: 'ignore',
  });
  const img = `${path}@@${bootStart * SECTOR}`;
  const dirs = new Set<string>();
  for (const [name, data] of Object.entries(opts.bootFiles)) {
    const d = dirname(name);
    if (d !== '.' && !dirs.has(d)) {
      execFileSync('mmd', ['-i', img, `::/${d}`], { env: MT_ENV });
      dirs.add(d);
    }
    execFileSync('mcopy', ['-i', img, '-', `::/${name}`], { input: data, env: MT_ENV });
  }
  const tree = join(work, 'rootfs');
  for (const [name, data] of Object.entries(opts.rootFiles)) {
    mkdirSync(dirname(join(tree, name)), { recursive: true });
    writeFileSync(join(tree, name), data);
  }
  execFileSync(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-L',
      'rootfs',
      '-E',
      `offset=${rootStart * SECTOR}`,
      '-d',
      tree,
      path,
      `${rootMiB * 1024}k`,
    ],
    { stdio: 'ignore' },
  );
  return {
    path,
    bootOffset: bootStart * SECTOR,
    rootOffset: rootStart * SECTOR,
    bootFiles: opts.bootFiles,
    rootFiles: opts.rootFiles,
  };
}

/** One file from the FAT partition at `offset` of `path`. */
export function readFat(path: string, offset: number, name: string): Buffer {
  return execFileSync('mtype', ['-i', `${path}@@${offset}`, `::/${name}`], { env: MT_ENV });
}

/** Every file name on the FAT partition (recursive), e.g. "overlays/README". */
export function listFat(path: string, offset: number): string[] {
  const out = execFileSync('mdir', ['-i', `${path}@@${offset}`, '-/', '-b', '::/'], {
    env: MT_ENV,
  }).toString();
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^::\//, ''));
}

/** One file from the ext4 partition at `offset` of `path` (debugfs reads it without mounting). */
export function readExt4(path: string, offset: number, name: string): Buffer {
  return execFileSync('debugfs', ['-R', `cat /${name}`, `${path}?offset=${offset}`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
