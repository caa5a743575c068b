/**
 * What a flash target is and whether writing to it is safe. A target is a regular file (created
 * if missing) or a whole removable block device that nothing has mounted and that does not hold
 * the running system. Everything else is refused with every reason found; `--force` overrides
 * a refusal (the reasons are still printed), except for a directory, a partition of a disk, and
 * the image file itself, which no force makes sensible.
 *
 * Facts come from the kernel's own tables: `/proc/self/mountinfo` (major:minor of every mounted
 * file system, and of `/`), `/proc/swaps`, `/sys/dev/block/M:m` (which disk a device is, whether
 * it is a partition and of which disk) and `/sys/block/X/removable`. The roots are options so a
 * test can point them at a prepared tree.
 */
import { readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LoaError } from '@loa/protocol';

export type Refusal =
  | 'TARGET_SYSTEM_DISK'
  | 'TARGET_MOUNTED'
  | 'TARGET_NOT_REMOVABLE'
  | 'TARGET_IN_SWAP'
  | 'TARGET_NOT_BLOCK_OR_FILE';

export const REFUSAL_VI: Record<Refusal, string> = {
  TARGET_SYSTEM_DISK: 'đây là ổ đĩa chứa hệ điều hành đang chạy (/)',
  TARGET_MOUNTED: 'ổ đĩa đang được gắn (mount)',
  TARGET_NOT_REMOVABLE: 'không phải ổ đĩa tháo rời được (thẻ SD, USB)',
  TARGET_IN_SWAP: 'ổ đĩa đang dùng làm vùng swap',
  TARGET_NOT_BLOCK_OR_FILE: 'không phải thiết bị khối hay tệp thường',
};

export interface TargetInfo {
  path: string;
  kind: 'file' | 'new-file' | 'block' | 'other';
  /** Kernel name of the whole disk (sdb, mmcblk0) for a block device. */
  disk?: string;
  /** Size in bytes of an existing block device. */
  size?: number;
  refusals: { code: Refusal; detail: string }[];
}

export interface TargetEnv {
  /** Default "/proc". */
  procRoot?: string;
  /** Default "/sys". */
  sysRoot?: string;
}

interface MountLine {
  devno: string;
  mountPoint: string;
  source: string;
}

/** Parses /proc/self/mountinfo: "id parent major:minor root mountpoint opts … - fstype source superopts". */
export function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 10) continue;
    const sep = f.indexOf('-', 6);
    out.push({
      devno: f[2] as string,
      mountPoint: (f[4] as string).replace(/\\040/g, ' '),
      source: sep > 0 ? (f[sep + 2] ?? '') : '',
    });
  }
  return out;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The disk a block device number belongs to: itself, or the parent of a partition. */
async function diskOf(
  sysRoot: string,
  devno: string,
): Promise<{ name: string; partition: boolean } | undefined> {
  const link = join(sysRoot, 'dev/block', devno);
  let target: string;
  try {
    target = await readlink(link);
  } catch {
    return undefined;
  }
  const name = basename(target);
  const partition = (await readText(join(link, 'partition'))) !== undefined;
  if (!partition) return { name, partition };
  // …/block/sdb/sdb1 → sdb
  const parent = basename(target.slice(0, target.length - name.length - 1));
  return { name: parent, partition };
}

/** The device number "major:minor" of a block special file. */
function devnoOf(rdev: number): string {
  // Linux dev_t: major = bits 8–19 (and 32–43), minor = bits 0–7 and 20–31
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return `${major}:${minor}`;
}

/** Inspects a target path and lists every reason not to write to it. */
export async function inspectTarget(
  path: string,
  imagePath: string,
  env: TargetEnv = {},
): Promise<TargetInfo> {
  const procRoot = env.procRoot ?? '/proc';
  const sysRoot = env.sysRoot ?? '/sys';
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, kind: 'new-file', refusals: [] };
    throw new LoaError('TARGET_UNREADABLE', `không đọc được ${path}`, { cause: e });
  }
  if (st.isDirectory())
    throw new LoaError('TARGET_IS_DIRECTORY', `${path} là một thư mục, không ghi ảnh vào đó được`);
  if (st.isFile()) {
    const img = await stat(imagePath).catch(() => undefined);
    if (img && img.ino === st.ino && img.dev === st.dev)
      throw new LoaError('TARGET_IS_IMAGE', `${path} chính là tệp ảnh nguồn`);
    return { path, kind: 'file', size: st.size, refusals: [] };
  }
  if (!st.isBlockDevice())
    return {
      path,
      kind: 'other',
      refusals: [{ code: 'TARGET_NOT_BLOCK_OR_FILE', detail: REFUSAL_VI.TARGET_NOT_BLOCK_OR_FILE }],
    };

  const devno = devnoOf(st.rdev);
  const disk = await diskOf(sysRoot, devno);
  if (!disk)
    throw new LoaError(
      'TARGET_UNKNOWN_DEVICE',
      `không tìm thấy ${path} (${devno}) trong ${sysRoot}/dev/block`,
    );
  if (disk.partition)
    throw new LoaError(
      'TARGET_IS_PARTITION',
      `${path} là một phân vùng; hãy ghi vào cả ổ đĩa /dev/${disk.name}`,
      { details: { disk: disk.name } },
    );
  const refusals: TargetInfo['refusals'] = [];
  const sizeSectors = Number((await readText(join(sysRoot, 'block', disk.name, 'size')))?.trim());
  // every device number on this disk: the disk and its partitions
  const onDisk = new Set<string>([devno]);
  const partNames: string[] = [];
  try {
    const { readdir } = await import('node:fs/promises');
    for (const d of await readdir(join(sysRoot, 'block', disk.name))) {
      const dev = await readText(join(sysRoot, 'block', disk.name, d, 'dev'));
      if (dev && (await readText(join(sysRoot, 'block', disk.name, d, 'partition'))) !== undefined) {
        onDisk.add(dev.trim());
        partNames.push(d);
      }
    }
  } catch {
    // no sysfs directory for the disk: only its own number is known
  }
  const mounts = parseMountinfo((await readText(join(procRoot, 'self/mountinfo'))) ?? '');
  const root = mounts.filter((m) => m.mountPoint === '/').at(-1);
  if (root) {
    const rootDisk = await diskOf(sysRoot, root.devno);
    if (root.devno && (onDisk.has(root.devno) || rootDisk?.name === disk.name))
      refusals.push({
        code: 'TARGET_SYSTEM_DISK',
        detail: `${REFUSAL_VI.TARGET_SYSTEM_DISK}: ${root.source}`,
      });
  }
  const mounted = mounts.filter((m) => onDisk.has(m.devno));
  if (mounted.length > 0)
    refusals.push({
      code: 'TARGET_MOUNTED',
      detail: `${REFUSAL_VI.TARGET_MOUNTED}: ${[...new Set(mounted.map((m) => m.mountPoint))].join(', ')}`,
    });
  const swaps = ((await readText(join(procRoot, 'swaps'))) ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter(Boolean);
  const names = new Set([disk.name, ...partNames].map((n) => `/dev/${n}`));
  const realTarget = await realpath(path).catch(() => path);
  if (swaps.some((s) => names.has(s) || s === realTarget))
    refusals.push({ code: 'TARGET_IN_SWAP', detail: REFUSAL_VI.TARGET_IN_SWAP });
  const removable = (await readText(join(sysRoot, 'block', disk.name, 'removable')))?.trim();
  if (removable !== '1')
    refusals.push({
      code: 'TARGET_NOT_REMOVABLE',
      detail: `${REFUSAL_VI.TARGET_NOT_REMOVABLE} (${sysRoot}/block/${disk.name}/removable = ${removable ?? '?'})`,
    });
  return {
    path,
    kind: 'block',
    disk: disk.name,
    ...(Number.isFinite(sizeSectors) && sizeSectors > 0 ? { size: sizeSectors * 512 } : {}),
    refusals,
  };
}
