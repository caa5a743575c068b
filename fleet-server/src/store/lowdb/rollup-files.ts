/**
 * Report rollups of the embedded store: one file per (kind, key) under `<dir>/<kind>/<key>.roll`,
 * replaced whole through `writeFileAtomic` (temp file, fsync, rename, fsync dir). A file is a
 * header line (JSON: each part's byte offset, length and SHA-256) followed by the parts' JSON, so
 * that a reader of a few parts (one commune of a province-wide day) reads the header and those
 * byte ranges only. A part whose bytes do not match its checksum is reported damaged, never
 * returned.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import type { RollupRead, RollupStore } from '../ports.js';

const FORMAT = 1;
const EXT = '.roll';
/** Read the whole file rather than ranges when more parts than this are asked for. */
const RANGED_MAX = 16;
const HEAD_CHUNK = 16 * 1024;
/** Files written at once (each one fsyncs). */
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

type Header = { v: number; parts: Record<string, [number, number, string]> };

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function checkName(what: string, s: string): void {
  if (!SAFE_NAME.test(s) || s.startsWith('.'))
    throw new LoaError('ROLLUP_NAME_INVALID', `invalid rollup ${what}: ${JSON.stringify(s)}`);
}

/** Serialises a rollup: the header line, then each part's JSON on a line. */
export function encodeRollup(parts: Readonly<Record<string, unknown>>): Buffer {
  const bodies: Buffer[] = [];
  const index: Record<string, [number, number, string]> = {};
  let offset = 0;
  for (const [name, value] of Object.entries(parts)) {
    const b = Buffer.from(`${JSON.stringify(value)}\n`);
    index[name] = [offset, b.length, sha(b)];
    bodies.push(b);
    offset += b.length;
  }
  // offsets are relative to the end of the header line
  const head = Buffer.from(`${JSON.stringify({ v: FORMAT, parts: index } satisfies Header)}\n`);
  return Buffer.concat([head, ...bodies]);
}

function parseHeader(buf: Buffer): { header: Header; bodyAt: number } | null {
  const nl = buf.indexOf(10);
  if (nl < 0) return null;
  try {
    const header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header;
    if (header?.v !== FORMAT || typeof header.parts !== 'object' || header.parts === null) return null;
    return { header, bodyAt: nl + 1 };
  } catch {
    return null;
  }
}

function parsePart(b: Buffer, want: [number, number, string]): { ok: true; value: unknown } | { ok: false } {
  if (b.length !== want[1] || sha(b) !== want[2]) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(b.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export class RollupFiles implements RollupStore {
  bytesWritten = 0;
  filesWritten = 0;

  constructor(private readonly dir: string) {}

  #path(kind: string, key: string): string {
    checkName('kind', kind);
    checkName('key', key);
    return join(this.dir, kind, `${key}${EXT}`);
  }

  async read(kind: string, key: string, parts?: readonly string[]): Promise<RollupRead> {
    const path = this.#path(kind, key);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { found: false, parts: {}, damaged: [] };
      throw e;
    }
    try {
      const out: RollupRead = { found: true, parts: {}, damaged: [] };
      if (parts === undefined || parts.length > RANGED_MAX) {
        const buf = await fh.readFile();
        const h = parseHeader(buf);
        if (!h) return { ...out, damaged: ['*'] };
        for (const name of parts ?? Object.keys(h.header.parts)) {
          const want = h.header.parts[name];
          if (!want) continue;
          const at = h.bodyAt + want[0];
          const r = parsePart(buf.subarray(at, at + want[1]), want);
          if (r.ok) out.parts[name] = r.value;
          else out.damaged.push(name);
        }
        return out;
      }
      // the header, then the byte ranges of the parts asked for
      let head = Buffer.alloc(HEAD_CHUNK);
      let got = (await fh.read(head, 0, HEAD_CHUNK, 0)).bytesRead;
      while (head.subarray(0, got).indexOf(10) < 0 && got === head.length) {
        const more = Buffer.alloc(head.length * 2);
        head.copy(more);
        got += (await fh.read(more, got, more.length - got, got)).bytesRead;
        head = more;
      }
      const h = parseHeader(head.subarray(0, got));
      if (!h) return { ...out, damaged: ['*'] };
      for (const name of parts) {
        const want = h.header.parts[name];
        if (!want) continue;
        const b = Buffer.alloc(want[1]);
        const n = (await fh.read(b, 0, want[1], h.bodyAt + want[0])).bytesRead;
        const r = parsePart(b.subarray(0, n), want);
        if (r.ok) out.parts[name] = r.value;
        else out.damaged.push(name);
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async write(kind: string, key: string, parts: Readonly<Record<string, unknown>>): Promise<void> {
    const path = this.#path(kind, key);
    await fsp.mkdir(join(this.dir, kind), { recursive: true, mode: 0o700 });
    const n = await writeFileAtomic(path, encodeRollup(parts), 0o600);
    this.bytesWritten += n;
    this.filesWritten++;
  }

  async keys(kind: string): Promise<string[]> {
    checkName('kind', kind);
    let names: string[];
    try {
      names = await fsp.readdir(join(this.dir, kind));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .filter((n) => n.endsWith(EXT) && !n.startsWith('.'))
      .map((n) => n.slice(0, -EXT.length))
      .sort();
  }

  async clear(kind: string): Promise<void> {
    checkName('kind', kind);
    await fsp.rm(join(this.dir, kind), { recursive: true, force: true });
  }
}
