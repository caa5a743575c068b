/**
 * `loa flash`: a station image onto an SD card (or an image file), verified, with the station's
 * provisioning file put on its boot partition. See scripts/src/flash/ for the parts.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LoaError, PROVISIONING_FILE_NAME, ProvisioningFileSchema } from '@loa/protocol';
import { openImage } from '../flash/image-source.js';
import { injectBootFile, readPartitions } from '../flash/inject.js';
import { bootPartition } from '../flash/mbr.js';
import { formatBytes, ProgressReporter } from '../flash/progress.js';
import { inspectTarget } from '../flash/target.js';
import { flushBuffers, hashTarget, writeImage } from '../flash/write.js';
import { type CommandSpec, str, tr } from './spec.js';

/** Reads and checks a provisioning file; every problem is PROVISION_INVALID with its path. */
export async function readProvisioningFile(path: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LoaError('PROVISION_NOT_FOUND', `không đọc được tệp cấp phát ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LoaError(
      'PROVISION_INVALID',
      `tệp cấp phát ${path} không phải JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const r = ProvisioningFileSchema.safeParse(json);
  if (!r.success)
    throw new LoaError(
      'PROVISION_INVALID',
      `tệp cấp phát ${path} sai: ${r.error.issues.map((i) => `${i.path.join('.') || '(gốc)'}: ${i.message}`).join('; ')}`,
      { cause: r.error },
    );
  return Buffer.from(`${JSON.stringify(r.data, null, 2)}\n`);
}

export const flash: CommandSpec = {
  name: 'flash',
  summary: {
    vi: 'ghi ảnh hệ điều hành vào thẻ SD (hoặc tệp ảnh), đọc lại để kiểm tra, đặt tệp cấp phát vào phân vùng khởi động',
    en: 'write an OS image to an SD card (or an image file), verify it by reading back, put the provisioning file on the boot partition',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    image: {
      type: 'string',
      value: 'IMG',
      required: true,
      help: { vi: 'ảnh: .img, .img.xz hoặc .zip', en: 'image: .img, .img.xz or .zip' },
    },
    target: {
      type: 'string',
      value: 'DEVICE|FILE',
      required: true,
      help: {
        vi: 'thẻ SD (/dev/sdX, /dev/mmcblk0) hoặc tệp',
        en: 'SD card (/dev/sdX, /dev/mmcblk0) or a file',
      },
    },
    provision: {
      type: 'string',
      value: 'FILE',
      help: {
        vi: `tệp cấp phát của trạm (ghi thành ${PROVISIONING_FILE_NAME})`,
        en: `the station's provisioning file (written as ${PROVISIONING_FILE_NAME})`,
      },
    },
    force: {
      type: 'boolean',
      help: {
        vi: 'ghi cả khi đích bị từ chối (ổ hệ thống, đang gắn, không tháo rời được) — nguy hiểm',
        en: 'write even to a refused target (system disk, mounted, not removable) — dangerous',
      },
    },
  },
  examples: [
    'loa flash --image loa-station-2026-12.img.xz --target /dev/sdb --provision tram/st-02500-cho.json',
    'loa flash --image raspios-lite-arm64.zip --target the-card.img',
  ],
  async run({ values, io }) {
    const imagePath = resolve(io.cwd, str(values, 'image') as string);
    const targetPath = resolve(io.cwd, str(values, 'target') as string);
    const provPath = str(values, 'provision');
    // every argument is checked before a byte is written
    const image = await openImage(imagePath);
    const provision = provPath ? await readProvisioningFile(resolve(io.cwd, provPath)) : undefined;
    const target = await inspectTarget(targetPath, imagePath);
    if (target.refusals.length > 0) {
      const force = values.force === true;
      for (const r of target.refusals)
        io.err(
          `${force ? tr(io, { vi: 'CẢNH BÁO (bỏ qua vì --force)', en: 'WARNING (overridden by --force)' }) : tr(io, { vi: 'TỪ CHỐI', en: 'REFUSED' })} ${r.code}: ${targetPath}: ${r.detail}`,
        );
      if (!force) {
        const first = target.refusals[0] as { code: string };
        throw new LoaError(
          first.code,
          tr(io, {
            vi: `không ghi vào ${targetPath}. Kiểm tra lại đúng thẻ SD (lsblk); nếu chắc chắn, thêm --force`,
            en: `not writing to ${targetPath}. Check it is the right SD card (lsblk); if you are sure, add --force`,
          }),
        );
      }
    }
    if (
      target.kind === 'block' &&
      image.size !== undefined &&
      target.size !== undefined &&
      image.size > target.size
    )
      throw new LoaError(
        'TARGET_TOO_SMALL',
        `ảnh ${formatBytes(image.size)} lớn hơn thẻ ${formatBytes(target.size)} (${targetPath})`,
      );
    io.err(
      tr(io, {
        vi: `ảnh ${imagePath}${image.entry ? ` (${image.entry})` : ''} → ${targetPath}`,
        en: `image ${imagePath}${image.entry ? ` (${image.entry})` : ''} → ${targetPath}`,
      }),
    );
    const progress = new ProgressReporter(io);
    const written = await writeImage(image.open(), targetPath, {
      block: target.kind === 'block',
      total: image.size,
      ...(target.kind === 'block' && target.size !== undefined ? { capacity: target.size } : {}),
      onProgress: (p) => progress.update(p),
    });
    const writeMs = progress.elapsedMs();
    if (target.kind === 'block') await flushBuffers(targetPath);
    const back = await hashTarget(targetPath, written.bytes, (p) => progress.update(p));
    progress.finishLine();
    if (back !== written.sha256)
      throw new LoaError(
        'FLASH_VERIFY_MISMATCH',
        `dữ liệu đọc lại khác dữ liệu đã ghi (sha256 ${back} ≠ ${written.sha256}): thẻ có thể hỏng, hãy thay thẻ`,
      );
    io.out(
      tr(io, {
        vi: `đã ghi và kiểm tra ${formatBytes(written.bytes)} (${written.bytes} byte) trong ${(writeMs / 1000).toFixed(1)} s; sha256 ${written.sha256}`,
        en: `wrote and verified ${formatBytes(written.bytes)} (${written.bytes} bytes) in ${(writeMs / 1000).toFixed(1)} s; sha256 ${written.sha256}`,
      }),
    );
    if (provision) {
      const part = await injectBootFile(targetPath, PROVISIONING_FILE_NAME, provision);
      io.out(
        tr(io, {
          vi: `đã đặt ${PROVISIONING_FILE_NAME} vào phân vùng khởi động (phân vùng ${part.index}, byte ${part.offset})`,
          en: `put ${PROVISIONING_FILE_NAME} on the boot partition (partition ${part.index}, byte ${part.offset})`,
        }),
      );
    } else {
      // say whether what was written looks bootable, so a wrong file is noticed now
      try {
        const part = bootPartition(await readPartitions(targetPath));
        io.out(
          tr(io, {
            vi: `phân vùng khởi động: phân vùng ${part.index} (FAT, ${formatBytes(part.size)}); chưa có tệp cấp phát`,
            en: `boot partition: partition ${part.index} (FAT, ${formatBytes(part.size)}); no provisioning file`,
          }),
        );
      } catch (e) {
        if (!(e instanceof LoaError)) throw e;
        io.err(`${tr(io, { vi: 'CẢNH BÁO', en: 'WARNING' })} ${e.code}: ${e.message}`);
      }
    }
    return 0;
  },
};
