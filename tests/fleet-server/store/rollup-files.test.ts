/**
 * The embedded store's rollup files: a part is read by its byte range (a commune of a province-wide
 * day), a part whose bytes were damaged is reported, never returned, and a torn or unreadable
 * header makes the whole rollup damaged; bad names are refused with a stable code.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollupFiles } from '../../../fleet-server/src/store/lowdb/rollup-files.js';

describe('rollup files', () => {
  let dir: string;
  let r: RollupFiles;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'loa-rollfiles-'));
    r = new RollupFiles(dir);
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const many = () => {
    const parts: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++)
      parts[`08/${String(10_000 + i)}`] = { v: 1, d: { [`st-${i}`]: [i, 'x'.repeat(100)] } };
    return parts;
  };

  it('reads a few parts by range and many by the whole file, the same values', async () => {
    const parts = many();
    await r.write('proofs', '2026-12-01', parts);
    const few = await r.read('proofs', '2026-12-01', ['08/10003', '08/10039']);
    expect(few).toEqual({
      found: true,
      parts: { '08/10003': parts['08/10003'], '08/10039': parts['08/10039'] },
      damaged: [],
    });
    const names = Object.keys(parts).slice(0, 30);
    const lots = await r.read('proofs', '2026-12-01', names);
    expect(Object.keys(lots.parts)).toEqual(names);
    expect(r.filesWritten).toBe(1);
    // no temporary file is left beside it
    expect(await fsp.readdir(join(dir, 'proofs'))).toEqual(['2026-12-01.roll']);
  });

  it('reports a damaged part and keeps returning the others', async () => {
    await r.write('proofs', '2026-12-01', many());
    const path = join(dir, 'proofs', '2026-12-01.roll');
    const buf = await fsp.readFile(path);
    const text = buf.toString('utf8');
    // change one digit inside the part of 08/10005 (still valid JSON: only the checksum sees it)
    const at = text.indexOf('"st-5",') >= 0 ? text.indexOf('[5,') : text.indexOf('"st-5"');
    buf[at + 1] = '6'.charCodeAt(0);
    await fsp.writeFile(path, buf);
    const one = await r.read('proofs', '2026-12-01', ['08/10005', '08/10006']);
    expect(one.damaged).toEqual(['08/10005']);
    expect(Object.keys(one.parts)).toEqual(['08/10006']);
    const all = await r.read('proofs', '2026-12-01');
    expect(all.damaged).toEqual(['08/10005']);
    expect(Object.keys(all.parts)).toHaveLength(39);
    // a cut file: the header no longer parses
    await fsp.writeFile(path, buf.subarray(0, 30));
    expect(await r.read('proofs', '2026-12-01', ['08/10006'])).toEqual({
      found: true,
      parts: {},
      damaged: ['*'],
    });
    expect((await r.read('proofs', '2026-12-01')).damaged).toEqual(['*']);
  });

  it('refuses names that are not plain file names', async () => {
    await expect(r.write('proofs', '../x', {})).rejects.toMatchObject({ code: 'ROLLUP_NAME_INVALID' });
    await expect(r.read('../etc', 'x')).rejects.toMatchObject({ code: 'ROLLUP_NAME_INVALID' });
    await expect(r.keys('a/b')).rejects.toMatchObject({ code: 'ROLLUP_NAME_INVALID' });
  });
});
