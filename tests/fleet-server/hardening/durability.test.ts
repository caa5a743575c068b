/**
 * Durability under a harsh environment: a full disk in the middle of a proof write, a damaged
 * proof line, a registry file holding `null`, and a forward clock jump at start.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProofEntry } from '../../../fleet-server/src/domain/model.js';
import { METRIC } from '../../../fleet-server/src/metrics.js';
import type { DamageReport } from '../../../fleet-server/src/store/segments/damage.js';
import { SegmentLog } from '../../../fleet-server/src/store/segments/segment-log.js';
import { FileProofStream } from '../../../fleet-server/src/store/segments/streams.js';
import { FakeClock, startTestServer } from '../app/harness.js';

const DAY = 86_400_000;

function proofEntry(seq: number, pad = 0): ProofEntry {
  return {
    deviceId: 'dev-1',
    receivedAt: '2026-11-26T10:00:00.000Z',
    hash: `h${seq}`,
    proof: { seq, eventId: `e${seq}`, pad: 'x'.repeat(pad) } as unknown as ProofEntry['proof'],
  };
}

/**
 * Makes the next file write on any FileHandle store only half its bytes and then fail with
 * ENOSPC, as a write that runs into a full disk does. Returns a function that undoes it.
 */
async function failNextWriteHalfway(dir: string): Promise<() => void> {
  const probe = await open(join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as {
    write: (...a: unknown[]) => Promise<{ bytesWritten: number }>;
  };
  await probe.close();
  rmSync(join(dir, '.probe'));
  const original = proto.write;
  let armed = true;
  proto.write = async function (this: unknown, ...args: unknown[]) {
    const [buf, off, len, pos] = args as [Buffer, number, number, number];
    if (!armed || !Buffer.isBuffer(buf)) return original.apply(this, args);
    armed = false;
    await original.call(this, buf, off, Math.floor(len / 2), pos);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
  };
  return () => {
    proto.write = original;
  };
}

describe('durability holes', () => {
  let dir: string;
  let t: number;
  const now = () => t;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'loa-dur-'));
    t = Date.parse('2026-11-26T10:00:00Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a write that fails on a full disk leaves no fragment: the next acknowledged proof survives a restart', async () => {
    const stream = new FileProofStream({ dir, now, retentionDays: 90, fsyncMs: 0 });
    await stream.start();
    await stream.append(proofEntry(1));
    const undo = await failNextWriteHalfway(dir);
    try {
      await expect(stream.append(proofEntry(2, 4000))).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      undo();
    }
    // the disk has room again: this proof is acknowledged
    await stream.append(proofEntry(3));
    await stream.stop();

    const damage: DamageReport[] = [];
    const again = new FileProofStream({
      dir,
      now,
      retentionDays: 90,
      fsyncMs: 0,
      onDamage: (d) => damage.push(d),
    });
    await again.start();
    const seqs = (await again.query({ deviceId: 'dev-1' })).map((p) => p.proof.seq);
    expect(seqs).toEqual([1, 3]);
    expect(again.last('dev-1')?.seq).toBe(3);
    expect(damage).toEqual([]);
    await again.stop();
  });

  it('a damaged proof line is reported, counted and copied to quarantine, never skipped silently', async () => {
    const clock = new FakeClock(t);
    const proofs = join(dir, 'proofs');
    mkdirSync(proofs, { recursive: true });
    const good = (seq: number) =>
      JSON.stringify({ ...proofEntry(seq), receivedAt: new Date(t).toISOString() });
    writeFileSync(
      join(proofs, '2026-11-26.ndjson'),
      `${good(1)}\n{"deviceId":"dev-1","rec\u0000\u0000garbage\n${good(3)}\n`,
    );
    const s = await startTestServer({ dir, clock, seed: false });
    try {
      expect(s.deps.metrics.get(METRIC.storeDamagedLines, { reason: 'unparsable' })).toBe(1);
      const q = readFileSync(join(proofs, 'quarantine.ndjson'), 'utf8').trim().split('\n');
      expect(q).toHaveLength(1);
      const entry = JSON.parse(q[0] as string) as { file: string; offset: number; data: string };
      expect(entry.file).toBe('2026-11-26.ndjson');
      expect(Buffer.from(entry.data, 'base64').toString()).toContain('garbage');
      expect(entry.offset).toBe(good(1).length + 1);
      // the good records around it are kept, and the original line stays in the segment
      expect(s.deps.store.proofs.last('dev-1')?.seq).toBe(3);
      expect(readFileSync(join(proofs, '2026-11-26.ndjson'), 'utf8')).toContain('garbage');
    } finally {
      await s.stop();
    }
  });

  it('a registry file holding null refuses to start (REGISTRY_CORRUPT) instead of printing a new admin password', async () => {
    writeFileSync(join(dir, 'registry.json'), 'null');
    await expect(startTestServer({ dir, seed: false })).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
    writeFileSync(join(dir, 'registry.json'), '[]');
    await expect(startTestServer({ dir, seed: false })).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
    // the file is untouched
    expect(readFileSync(join(dir, 'registry.json'), 'utf8')).toBe('[]');
  });

  it('a forward clock jump at start does not make retention delete months of history', async () => {
    const seg = join(dir, 'proofs');
    const doubts: string[] = [];
    const make = (trust = false) =>
      new SegmentLog({
        dir: seg,
        now,
        retentionDays: 90,
        fsyncMs: 0,
        onRetentionDoubt: (d) => doubts.push(d.code),
        ...(trust ? { retentionTrustClock: true } : {}),
      });
    // 60 days of history, written day by day on a good clock
    const start = t;
    for (let d = 60; d >= 0; d--) {
      t = start - d * DAY;
      const log = make();
      await log.start();
      await log.append({ day: d }, true);
      await log.stop();
    }
    expect(readdirSync(seg).filter((f) => f.endsWith('.ndjson') && f !== 'quarantine.ndjson')).toHaveLength(
      61,
    );
    // the clock jumps 200 days forward (a reset RTC): start, write, stop, start again
    t = start + 200 * DAY;
    for (let i = 0; i < 2; i++) {
      const log = make();
      await log.start();
      await log.append({ after: 'jump' }, true);
      await log.stop();
    }
    expect(doubts.length).toBeGreaterThanOrEqual(2);
    expect(doubts[0]).toBe('RETENTION_CLOCK_DOUBTED');
    const days = readdirSync(seg).filter((f) => /^\d{4}-\d{2}-\d{2}\.ndjson$/.test(f));
    expect(days).toHaveLength(62);
    // an operator who knows the clock is right confirms it once: retention acts
    const confirmed = make(true);
    await confirmed.start();
    await confirmed.stop();
    expect(readdirSync(seg).filter((f) => /^\d{4}-\d{2}-\d{2}\.ndjson$/.test(f))).toHaveLength(1);
    expect(existsSync(join(seg, 'retention.json'))).toBe(true);
  });
});
