/**
 * The MBR partition table of a disk image (what Raspberry Pi OS images use): four primary
 * entries at byte 446 of the first sector, signature 0x55AA at 510. A GPT disk shows a single
 * protective entry of type 0xEE; Loa's images are MBR, so that is reported, not parsed.
 */
import { LoaError } from '@loa/protocol';

export interface MbrPartition {
  /** 1–4, as Linux numbers them (…p1 is the FAT boot partition on a Pi image). */
  index: number;
  type: number;
  bootable: boolean;
  /** Byte offset of the first sector (LBA × 512). */
  offset: number;
  /** Size in bytes. */
  size: number;
}

/** FAT partition types: FAT12, FAT16 (<32M, ≥32M, LBA), FAT32 (CHS, LBA). */
export const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e]);

/** Parses the primary partitions from the first 512 bytes of a disk image. */
export function parseMbr(sector: Uint8Array): MbrPartition[] {
  if (sector.length < 512)
    throw new LoaError('IMAGE_NO_PARTITION_TABLE', 'ảnh đĩa ngắn hơn một sector (512 byte)');
  const b = Buffer.from(sector.buffer, sector.byteOffset, 512);
  if (b[510] !== 0x55 || b[511] !== 0xaa)
    throw new LoaError('IMAGE_NO_PARTITION_TABLE', 'ảnh đĩa không có bảng phân vùng MBR (thiếu chữ ký 55AA)');
  const parts: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    const type = b[e + 4] as number;
    const lba = b.readUInt32LE(e + 8);
    const sectors = b.readUInt32LE(e + 12);
    if (type === 0 || sectors === 0) continue;
    if (type === 0xee)
      throw new LoaError('IMAGE_GPT', 'ảnh đĩa dùng bảng phân vùng GPT; ảnh Raspberry Pi dùng MBR');
    parts.push({ index: i + 1, type, bootable: b[e] === 0x80, offset: lba * 512, size: sectors * 512 });
  }
  return parts;
}

/** The boot partition: the first FAT partition. */
export function bootPartition(parts: readonly MbrPartition[]): MbrPartition {
  const p = parts.find((x) => FAT_TYPES.has(x.type));
  if (!p)
    throw new LoaError('IMAGE_NO_BOOT_PARTITION', 'ảnh đĩa không có phân vùng khởi động FAT', {
      details: { types: parts.map((x) => x.type.toString(16)) },
    });
  return p;
}
