/**
 * Disk images as a technician downloads them: a raw `.img`, an `.img.xz` (decompressed as a
 * stream by Debian's `xz`), or a `.zip` holding a single image (the entry is inflated as a
 * stream; ZIP64 archives, as images past 4 GiB need, are read too). Nothing is unpacked to disk.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { LoaError } from '@loa/protocol';

export type ImageFormat = 'img' | 'xz' | 'zip';

export interface ImageSource {
  path: string;
  format: ImageFormat;
  /** Uncompressed size in bytes, when the container says it (always for img and zip). */
  size: number | undefined;
  /** The name of the image inside a zip. */
  entry?: string;
  /** A fresh stream of the uncompressed image. */
  open(): Readable;
}

export function formatOf(path: string): ImageFormat {
  const p = path.toLowerCase();
  if (p.endsWith('.img.xz') || p.endsWith('.xz')) return 'xz';
  if (p.endsWith('.zip')) return 'zip';
  if (p.endsWith('.img') || p.endsWith('.bin') || p.endsWith('.raw')) return 'img';
  throw new LoaError(
    'IMAGE_FORMAT_UNKNOWN',
    `không nhận ra loại ảnh "${path}": chỉ nhận .img, .img.xz hoặc .zip`,
  );
}

/** Opens an image file of any accepted format (checks it exists and its container is sound). */
export async function openImage(path: string): Promise<ImageSource> {
  const format = formatOf(path);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (cause) {
    throw new LoaError('IMAGE_NOT_FOUND', `không đọc được tệp ảnh ${path}`, { cause });
  }
  if (!st.isFile()) throw new LoaError('IMAGE_NOT_FILE', `${path} không phải là tệp`);
  if (st.size === 0) throw new LoaError('IMAGE_EMPTY', `tệp ảnh ${path} rỗng`);
  if (format === 'img') return { path, format, size: st.size, open: () => createReadStream(path) };
  if (format === 'xz') return { path, format, size: await xzSize(path), open: () => xzStream(path) };
  return zipImage(path, st.size);
}

/** Runs a tool and returns stdout; a missing tool is XZ_MISSING-style (`code`). */
function run(cmd: string, args: string[], missingCode: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', (cause) =>
      reject(new LoaError(missingCode, `không chạy được ${cmd} (cài gói Debian "${cmd}")`, { cause })),
    );
    p.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new LoaError('IMAGE_CORRUPT', `${cmd}: ${err.trim() || `mã ${code}`}`)),
    );
  });
}

/** `xz --robot --list` gives the uncompressed size without decompressing. */
async function xzSize(path: string): Promise<number | undefined> {
  const out = await run('xz', ['--robot', '--list', '--', path], 'XZ_MISSING');
  const total = out.split('\n').find((l) => l.startsWith('totals\t'));
  const n = Number(total?.split('\t')[4]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function xzStream(path: string): Readable {
  const p = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  p.on('error', (cause) =>
    p.stdout.destroy(new LoaError('XZ_MISSING', 'không chạy được xz (cài gói Debian "xz-utils")', { cause })),
  );
  p.on('close', (code) => {
    if (code !== 0)
      p.stdout.destroy(new LoaError('IMAGE_CORRUPT', `giải nén xz lỗi: ${err.trim() || `mã ${code}`}`));
  });
  return p.stdout;
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function corrupt(path: string, why: string): LoaError {
  return new LoaError('IMAGE_ZIP_CORRUPT', `tệp zip ${path} hỏng: ${why}`);
}

/** Reads the central directory of a zip (ZIP64 aware). */
export async function zipEntries(path: string, fileSize: number): Promise<ZipEntry[]> {
  const tailLen = Math.min(fileSize, 65_557);
  const tail = await readAt(path, fileSize - tailLen, tailLen);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  if (at < 0) throw corrupt(path, 'không thấy thư mục trung tâm');
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (at >= 20 && tail.readUInt32LE(at - 20) === EOCD64_LOCATOR) {
    const eocd64At = Number(tail.readBigUInt64LE(at - 20 + 8));
    const e = await readAt(path, eocd64At, 56);
    if (e.readUInt32LE(0) !== EOCD64) throw corrupt(path, 'bản ghi ZIP64 sai');
    count = Number(e.readBigUInt64LE(32));
    cdSize = Number(e.readBigUInt64LE(40));
    cdOffset = Number(e.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > fileSize) throw corrupt(path, 'thư mục trung tâm vượt quá tệp');
  const cd = await readAt(path, cdOffset, cdSize);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw corrupt(path, 'mục thư mục sai');
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // ZIP64 extended information: the 0xFFFFFFFF fields, in order, as 64-bit values
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
      }
      x += 4 + len;
    }
    out.push({ name, method, compressedSize, size, localHeaderOffset });
    p = xEnd + commentLen;
  }
  return out;
}

async function zipImage(path: string, fileSize: number): Promise<ImageSource> {
  const files = (await zipEntries(path, fileSize)).filter((e) => !e.name.endsWith('/'));
  if (files.length !== 1)
    throw new LoaError(
      'IMAGE_ZIP_ENTRIES',
      `tệp zip phải chứa đúng một ảnh đĩa (có ${files.length} tệp: ${files
        .slice(0, 5)
        .map((f) => f.name)
        .join(', ')})`,
    );
  const entry = files[0] as ZipEntry;
  if (entry.method !== 0 && entry.method !== 8)
    throw new LoaError(
      'IMAGE_ZIP_METHOD',
      `ảnh trong zip nén bằng phương pháp ${entry.method}; chỉ nhận deflate hoặc không nén`,
    );
  const local = await readAt(path, entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw corrupt(path, 'phần đầu của ảnh sai');
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataStart + entry.compressedSize > fileSize) throw corrupt(path, 'dữ liệu ảnh vượt quá tệp');
  return {
    path,
    format: 'zip',
    size: entry.size,
    entry: entry.name,
    open: () => {
      const raw = createReadStream(path, {
        start: dataStart,
        end: dataStart + Math.max(entry.compressedSize, 1) - 1,
      });
      if (entry.method === 0) return raw;
      const inflate = createInflateRaw();
      raw.on('error', (e) => inflate.destroy(e));
      return raw.pipe(inflate);
    },
  };
}
