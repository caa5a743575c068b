import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToPem } from '@loa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ProofJournal } from '../../../agent/src/services/playback/proof-journal.js';
import { assertChain, cleanupTempDirs, silent, spawnTs, tempDir, waitExit, waitForLine } from './helpers.js';

const keys = generateKeyPair();
let t = Date.parse('2026-11-26T05:30:00Z');
const clock = { now: () => (t += 1000) };
const draft = (itemId: string) => ({
  outcome: 'completed' as const,
  itemId,
  relays: { amplifier: true },
  clockTrusted: true,
});

function journal(dir: string, segmentBytes = 1024 * 1024) {
  return new ProofJournal({
    dir,
    privateKey: keys.privateKey,
    deviceId: () => 'dev-1',
    clock,
    logger: silent,
    segmentBytes,
    keepAckedSegments: 1,
  });
}

afterEach(cleanupTempDirs);

describe('ProofJournal', () => {
  it('signs and chains events, keeps them pending until acknowledged', async () => {
    const dir = await tempDir();
    const j = journal(dir);
    await j.start();
    for (let i = 0; i < 5; i++) await j.record(draft(`item-${i}`));
    const pending = await j.pending(100);
    expect(pending.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(pending[0]?.deviceId).toBe('dev-1');
    expect(pending[2]?.itemId).toBe('item-2');
    assertChain(pending, keys.publicKey);
    await j.ack(3);
    expect((await j.pending(100)).map((p) => p.seq)).toEqual([4, 5]);
    expect(j.backlog).toBe(2);
    await j.ack(2); // an older ack changes nothing
    expect(j.ackedSeq).toBe(3);
    await j.stop();

    const again = journal(dir);
    await again.start();
    expect(again.lastSeq).toBe(5);
    expect(again.ackedSeq).toBe(3);
    await again.record(draft('after-restart'));
    const all = await again.read(1, 100);
    assertChain(all, keys.publicKey);
    expect(all.at(-1)?.seq).toBe(6);
    await again.stop();
  });

  it('rotates segments, reads across them and prunes acknowledged ones', async () => {
    const dir = await tempDir();
    const j = journal(dir, 2000);
    await j.start();
    for (let i = 0; i < 30; i++) await j.record(draft(`i${i}`));
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.ndjson'));
    expect(segs.length).toBeGreaterThan(3);
    const all = await j.read(1, 1000);
    expect(all).toHaveLength(30);
    assertChain(all, keys.publicKey);
    expect((await j.pending(7)).map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await j.ack(30);
    const left = (await readdir(dir)).filter((n) => n.endsWith('.ndjson'));
    expect(left.length).toBeLessThanOrEqual(2);
    expect(await j.pending()).toEqual([]);
    expect((await j.recent(3)).map((p) => p.seq)).toEqual([28, 29, 30]);
    await j.stop();
  });

  it('truncates a torn last line after a power cut and continues the chain', async () => {
    const dir = await tempDir();
    const j = journal(dir);
    await j.start();
    for (let i = 0; i < 3; i++) await j.record(draft(`i${i}`));
    await j.stop();
    const seg = (await readdir(dir)).find((n) => n.endsWith('.ndjson')) as string;
    const before = await readFile(join(dir, seg));
    await appendFile(join(dir, seg), '{"type":"loa-proof","format":1,"seq":4,"pre');
    const j2 = journal(dir);
    await j2.start();
    expect(j2.lastSeq).toBe(3);
    expect((await readFile(join(dir, seg))).equals(before)).toBe(true);
    await j2.record(draft('next'));
    assertChain(await j2.read(1, 10), keys.publicKey);
    await j2.stop();
  });

  it('drops a complete but corrupt last line (zeros after power loss)', async () => {
    const dir = await tempDir();
    const j = journal(dir);
    await j.start();
    await j.record(draft('a'));
    await j.stop();
    const seg = (await readdir(dir)).find((n) => n.endsWith('.ndjson')) as string;
    await appendFile(join(dir, seg), Buffer.concat([Buffer.alloc(40), Buffer.from('\n')]));
    const j2 = journal(dir);
    await j2.start();
    expect(j2.lastSeq).toBe(1);
    await j2.record(draft('b'));
    expect((await j2.read(1, 10)).map((p) => p.seq)).toEqual([1, 2]);
    await j2.stop();
  });

  it('refuses to record when not started', async () => {
    const j = journal(await tempDir());
    await expect(j.record(draft('x'))).rejects.toMatchObject({ code: 'JOURNAL_CLOSED' });
  });

  it('loses no appended event when killed with SIGKILL during appends', async () => {
    const dir = await tempDir();
    const keyPath = join(await tempDir(), 'k.pem');
    await writeFile(keyPath, privateKeyToPem(keys.privateKey));
    let confirmed = 0;
    for (let round = 0; round < 4; round++) {
      const child = spawnTs('tests/agent/services/fixtures/journal-writer.ts', [dir, keyPath]);
      const ready = await waitForLine(child, /^ready (\d+)$/);
      // Every event confirmed in an earlier round is still there after recovery.
      expect(Number(ready[1])).toBeGreaterThanOrEqual(confirmed);
      const target = Number(ready[1]) + 3 + round * 7;
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await waitForLine(child, new RegExp(`^ok ${target}$`));
      child.kill('SIGKILL');
      await waitExit(child);
      const oks = [...out.matchAll(/^ok (\d+)$/gm)].map((m) => Number(m[1]));
      confirmed = Math.max(target, ...oks);
    }
    const j = journal(dir, 8 * 1024);
    await j.start();
    expect(j.lastSeq).toBeGreaterThanOrEqual(confirmed);
    const all = await j.read(1, 100_000);
    expect(all).toHaveLength(j.lastSeq);
    assertChain(all, keys.publicKey);
    await j.stop();
  }, 120_000);
});

describe('ProofJournal input checks', () => {
  it('shortens an over-long reason and refuses an event that breaks the schema', async () => {
    const j = journal(await tempDir());
    await j.start();
    await j.record({ ...draft('x'), outcome: 'failed', reason: 'ffmpeg: '.repeat(200) });
    const [p] = await j.read(1, 1);
    expect(p?.reason?.length).toBeLessThanOrEqual(500);
    await expect(j.record({ ...draft('y'), loudnessLufs: Number.NaN })).rejects.toMatchObject({
      code: 'PROOF_INVALID',
    });
    // A refused event leaves no gap in the chain.
    await j.record(draft('z'));
    assertChain(await j.read(1, 10), keys.publicKey);
    expect(j.lastSeq).toBe(2);
    await j.stop();
  });
});
