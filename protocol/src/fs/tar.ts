import type { FileHandle } from 'node:fs/promises';
import { VerifyError } from '../errors.js';

/**
 * A small, strict POSIX ustar (IEEE 1003.1-1988) writer and reader. Only what a bundle needs:
 * regular files and directories with names under 100 bytes. Everything else is reported to the
 * caller as it is (type flag), so that it can refuse it.
 */
export const BLOCK = 512;
/** Largest entry a ustar size field (11 octal digits) can describe. */
export const MAX_USTAR_SIZE = 0o77777777777;

export interface TarHeader {
  name: string;
  /** '0' regular file, '5' directory, '1' hard link, '2' symlink, '3'/'4' devices, '6' fifo, … */
  type: string;
  size: number;
  mode: number;
  mtime: number;
  linkname: string;
}

export interface TarEntry extends TarHeader {
  /** Offset of the entry's data in the archive. */
  dataOffset: number;
}

function writeString(buf: Buffer, off: number, len: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > len) throw new RangeError(`tar field too long: ${value}`);
  bytes.copy(buf, off);
}

function writeOctal(buf: Buffer, off: number, len: number, value: number): void {
  const s = value.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new RangeError(`tar number too large: ${value}`);
  buf.write(`${s}\0`, off, len, 'ascii');
}

/**
 * A name longer than 100 bytes goes into ustar's prefix field (up to 155 bytes) at a "/"
 * boundary, as POSIX tar does; names that fit stay whole.
 */
function splitName(full: string): [string, string] {
  if (Buffer.byteLength(full) <= 100) return ['', full];
  for (let i = full.indexOf('/'); i !== -1; i = full.indexOf('/', i + 1)) {
    const prefix = full.slice(0, i);
    const name = full.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '')
      return [prefix, name];
  }
  throw new RangeError(`tar name too long: ${full}`);
}

/** Encodes one ustar header block (names up to 256 bytes through the prefix field). */
export function encodeHeader(h: Omit<TarHeader, 'linkname'> & { linkname?: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(h.name);
  writeString(b, 0, 100, name);
  if (prefix) writeString(b, 345, 155, prefix);
  writeOctal(b, 100, 8, h.mode);
  writeOctal(b, 108, 8, 0);
  writeOctal(b, 116, 8, 0);
  writeOctal(b, 124, 12, h.size);
  writeOctal(b, 136, 12, h.mtime);
  b.write(h.type, 156, 1, 'ascii');
  writeString(b, 157, 100, h.linkname ?? '');
  b.write('ustar\x0000', 257, 8, 'ascii');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return b;
}

/** Zero padding after `size` bytes of data, to the next block boundary. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function malformed(message: string): VerifyError {
  return new VerifyError('TAR_MALFORMED', message);
}

function readString(b: Buffer, off: number, len: number): string {
  const field = b.subarray(off, off + len);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? len : end).toString('utf8');
}

function readOctal(b: Buffer, off: number, len: number, what: string): number {
  if ((b[off] ?? 0) & 0x80) throw malformed(`the ${what} field uses base-256, which bundles never need`);
  const s = b
    .subarray(off, off + len)
    .toString('ascii')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw malformed(`the ${what} field is not an octal number`);
  return Number.parseInt(s, 8);
}

/** Decodes a header block; null for an all-zero block (end of archive). */
export function decodeHeader(b: Buffer): TarHeader | null {
  if (b.length !== BLOCK) throw malformed('truncated header');
  if (b.every((x) => x === 0)) return null;
  const magic = b.subarray(257, 263).toString('latin1');
  if (magic !== 'ustar\0' && magic !== 'ustar ') throw malformed('not a ustar header (bad magic)');
  const stored = readOctal(b, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const x = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
    unsigned += x;
    signed += x > 127 ? x - 256 : x;
  }
  if (stored !== unsigned && stored !== signed) throw malformed('header checksum mismatch');
  const name = readString(b, 0, 100);
  const prefix = readString(b, 345, 155);
  const type = String.fromCharCode(b[156] ?? 0);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    type: type === '\0' ? '0' : type,
    size: readOctal(b, 124, 12, 'size'),
    mode: readOctal(b, 100, 8, 'mode'),
    mtime: readOctal(b, 136, 12, 'mtime'),
    linkname: readString(b, 157, 100),
  };
}

/**
 * Reads the entries of a tar file one at a time with positional reads (never the whole
 * archive in memory). The caller reads an entry's data itself from `dataOffset` and calls
 * next() for the following entry. A truncated archive or a missing end marker is TAR_MALFORMED.
 */
export class TarReader {
  private readonly fh: FileHandle;
  private readonly fileSize: number;
  private offset = 0;
  private ended = false;
  private readonly block = Buffer.alloc(BLOCK);

  constructor(fh: FileHandle, fileSize: number) {
    this.fh = fh;
    this.fileSize = fileSize;
  }

  async next(): Promise<TarEntry | null> {
    if (this.ended) return null;
    if (this.offset + BLOCK > this.fileSize)
      throw malformed(
        this.offset === 0
          ? 'the file is empty or shorter than one tar block'
          : 'the archive is truncated (no end marker)',
      );
    const { bytesRead } = await this.fh.read(this.block, 0, BLOCK, this.offset);
    if (bytesRead !== BLOCK) throw malformed('the archive is truncated');
    const h = decodeHeader(this.block);
    if (!h) {
      this.ended = true;
      return null;
    }
    const dataOffset = this.offset + BLOCK;
    if (h.size > this.fileSize - dataOffset)
      throw malformed(`entry "${h.name}" claims ${h.size} bytes but the archive ends before`);
    this.offset = dataOffset + h.size + padding(h.size);
    return { ...h, dataOffset };
  }
}
