/**
 * Puts files on the FAT boot partition of an image or card without mounting it: mtools
 * addresses a FAT file system inside a larger file or device as `IMAGE@@OFFSET`. The partition's
 * offset comes from the MBR read here (mbr.ts), so no loop device, no root and no mount.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import { bootPartition, type MbrPartition, parseMbr } from './mbr.js';

/** The MBR partitions of an image file or device. */
export async function readPartitions(path: string): Promise<MbrPartition[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    await fh.read(buf, 0, 512, 0);
    return parseMbr(buf);
  } finally {
    await fh.close();
  }
}

function mtools(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // no ~/.mtoolsrc, no geometry check against the partition table
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' },
    });
    const out: Buffer[] = [];
    let err = '';
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    p.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', (cause) =>
      reject(new LoaError('MTOOLS_MISSING', `không chạy được ${cmd} (cài gói Debian "mtools")`, { cause })),
    );
    p.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new LoaError('BOOT_PARTITION_WRITE_FAILED', `${cmd}: ${err.trim() || `mã ${code}`}`)),
    );
    if (input) p.stdin?.end(input);
  });
}

/** `PATH@@OFFSET` for mtools' -i. */
export function mtoolsImage(path: string, part: MbrPartition): string {
  return `${path}@@${part.offset}`;
}

/** Copies `data` to `::/name` on the boot partition (replacing it), then reads it back to check. */
export async function injectBootFile(target: string, name: string, data: Buffer): Promise<MbrPartition> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name))
    throw new LoaError('BOOT_FILE_NAME', `tên tệp "${name}" không hợp lệ cho phân vùng khởi động`);
  const part = bootPartition(await readPartitions(target));
  const img = mtoolsImage(target, part);
  // mcopy from stdin: "-" as source; -o overwrite without asking; -D o for name clashes
  await mtools('mcopy', ['-i', img, '-o', '-D', 'o', '-', `::/${name}`], data);
  const back = await mtools('mtype', ['-i', img, `::/${name}`]);
  if (!back.equals(data))
    throw new LoaError('BOOT_PARTITION_VERIFY_FAILED', `đọc lại ${name} trên phân vùng khởi động không khớp`);
  return part;
}

/** Reads a file from the boot partition (undefined when it is not there). */
export async function readBootFile(target: string, name: string): Promise<Buffer | undefined> {
  const part = bootPartition(await readPartitions(target));
  try {
    return await mtools('mtype', ['-i', mtoolsImage(target, part), `::/${name}`]);
  } catch (e) {
    if (e instanceof LoaError && /not found/i.test(e.message)) return undefined;
    throw e;
  }
}
