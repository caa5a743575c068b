import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentLog } from '../../../fleet-server/src/store/segments/segment-log.js';
import { FileAuditLog, FileHealthStream } from '../../../fleet-server/src/store/segments/streams.js';

const DAY = 86_400_000;

describe('append-only segments', () => {
  let dir: string;
  let t: number;
  const now = () => t;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'loa-seg-'));
    t = Date.parse('2026-11-26T10:00:00Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('groups concurrent durable appends into few fsyncs and keeps their order', async () => {
    const log = new SegmentLog({ dir, now, retentionDays: 30, fsyncMs: 0 });
    await log.start();
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append({ i }, true)));
    expect(log.fsyncs).toBeLessThan(200);
    const lines = readFileSync(join(dir, '2026-11-26.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await log.stop();
  });

  it('rotates daily, applies retention, and scans across days from a position', async () => {
    const log = new SegmentLog({ dir, now, retentionDays: 2, fsyncMs: 0 });
    await log.start();
    await log.append({ d: 1 }, true);
    t += DAY;
    await log.append({ d: 2 }, true);
    const pos = log.position();
    await log.append({ d: 2.5 }, true);
    t += DAY;
    await log.append({ d: 3 }, true);
    const seen: number[] = [];
    await log.scan(
      (r) => {
        seen.push((r as { d: number }).d);
        return undefined;
      },
      { from: pos },
    );
    expect(seen).toEqual([2.5, 3]);
    t += 2 * DAY;
    await log.append({ d: 5 }, true); // rotation applies retention: day 1 and 2 go
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.ndjson'))
        .sort(),
    ).toEqual(['2026-11-28.ndjson', '2026-11-30.ndjson']);
    await log.stop();
  });

  it('cuts a torn last line on reopen and keeps every complete record', async () => {
    const log = new SegmentLog({ dir, now, retentionDays: 30, fsyncMs: 0 });
    await log.start();
    await log.append({ a: 1 }, true);
    await log.append({ a: 2 }, true);
    await log.stop();
    appendFileSync(join(dir, '2026-11-26.ndjson'), '{"a":3,"tor');
    const again = new SegmentLog({ dir, now, retentionDays: 30, fsyncMs: 0 });
    await again.start();
    await again.append({ a: 4 }, true);
    const lines = readFileSync(join(dir, '2026-11-26.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).a)).toEqual([1, 2, 4]);
    await again.stop();
  });

  it('skips damaged lines in older segments when scanning (counted, no crash)', async () => {
    writeFileSync(join(dir, '2026-11-25.ndjson'), '{"x":1}\n{garbage\n{"x":2}\n');
    const log = new SegmentLog({ dir, now, retentionDays: 30, fsyncMs: 0 });
    await log.start();
    const xs: number[] = [];
    const r = await log.scan((rec) => {
      xs.push((rec as { x: number }).x);
      return undefined;
    });
    expect(xs).toEqual([1, 2]);
    expect(r.skipped).toBe(1);
    await log.stop();
  });

  it('rebuilds latest health per device from snapshot + later lines', async () => {
    const mk = () =>
      new FileHealthStream({ dir, now, retentionDays: 30, fsyncMs: 10, snapshotMs: 3_600_000 });
    const h = mk();
    await h.start();
    const entry = (deviceId: string, n: number) => ({
      deviceId,
      receivedAt: new Date(t + n * 1000).toISOString(),
      health: { seq: n } as never,
    });
    await h.append(entry('a', 1));
    await h.append(entry('b', 1));
    await h.snapshot();
    await h.append(entry('a', 2)); // after the snapshot: replayed from the segment
    await h.log.flush();
    // simulate a crash: no stop(), so no final snapshot
    const again = mk();
    await again.start();
    expect(again.latest('a')?.health).toMatchObject({ seq: 2 });
    expect(again.latest('b')?.health).toMatchObject({ seq: 1 });
    expect(await again.query({ deviceId: 'a' })).toHaveLength(2);
    await again.stop();
    await h.stop();
  });

  it('writes a health report as its device sent it; a report with line breaks is serialised again', async () => {
    const h = new FileHealthStream({ dir, now, retentionDays: 30, fsyncMs: 10, snapshotMs: 3_600_000 });
    await h.start();
    const receivedAt = new Date(t).toISOString();
    const compact = '{"seq":1,"volume":0.50,"agentVersion":"0.1.0"}';
    const pretty = '{\n  "seq": 2,\n  "agentVersion": "0.1.0"\n}';
    await h.append({ deviceId: 'a', receivedAt, health: JSON.parse(compact) }, compact);
    await h.append({ deviceId: 'a', receivedAt, health: JSON.parse(pretty) }, pretty);
    await h.append({ deviceId: 'a', receivedAt, health: { seq: 3 } as never });
    await h.log.flush();
    const lines = readFileSync(join(dir, '2026-11-26.ndjson'), 'utf8').split('\n');
    expect(lines).toEqual([
      `{"deviceId":"a","receivedAt":"${receivedAt}","health":${compact}}`,
      `{"deviceId":"a","receivedAt":"${receivedAt}","health":{"seq":2,"agentVersion":"0.1.0"}}`,
      `{"deviceId":"a","receivedAt":"${receivedAt}","health":{"seq":3}}`,
      '',
    ]);
    expect((await h.query({ deviceId: 'a' })).map((e) => e.health)).toEqual([
      { seq: 1, volume: 0.5, agentVersion: '0.1.0' },
      { seq: 2, agentVersion: '0.1.0' },
      { seq: 3 },
    ]);
    expect(h.log.linesWritten).toBe(3);
    await h.stop();
  });

  it('buffered appends of one write share a promise; durable ones resolve after their fsync', async () => {
    const log = new SegmentLog({ dir, now, retentionDays: 30, fsyncMs: 1000 });
    await log.start();
    // the first append starts a write at once; the next ones wait for the following write together
    const first = log.append({ n: 1 }, false);
    const second = log.append({ n: 2 }, false);
    const third = log.append({ n: 3 }, false);
    expect(third).toBe(second);
    await Promise.all([first, second]);
    expect(log.fsyncs).toBe(0); // buffered: written, fsync'd later in the background
    await log.appendMany([{ n: 4 }, { n: 5 }], true);
    expect(log.fsyncs).toBe(1);
    expect(log.linesWritten).toBe(5);
    const lines = readFileSync(join(dir, '2026-11-26.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).n)).toEqual([1, 2, 3, 4, 5]);
    await log.stop();
  });

  it('audit log assigns increasing sequence numbers across restarts and filters by unit scope', async () => {
    const iso = () => new Date(t).toISOString();
    const a = new FileAuditLog({ dir, now, retentionDays: 30, fsyncMs: 0 }, iso);
    await a.start();
    await a.append({ actor: { type: 'user', id: 'u1' }, action: 'unit.create', unit: '08/02500' });
    await a.append({ actor: { type: 'user', id: 'u1' }, action: 'unit.create', unit: '08/02503' });
    await a.stop();
    const b = new FileAuditLog({ dir, now, retentionDays: 30, fsyncMs: 0 }, iso);
    await b.start();
    const e = await b.append({
      actor: { type: 'user', id: 'u2' },
      action: 'device.revoke',
      unit: '08/02500',
    });
    expect(e.seq).toBe(3);
    const scoped = await b.query({ units: ['08/02500'] });
    expect(scoped.map((x) => x.seq)).toEqual([3, 1]);
    expect((await b.query({ limit: 1 })).map((x) => x.seq)).toEqual([3]);
    expect((await b.query({ beforeSeq: 3, action: 'unit' })).map((x) => x.seq)).toEqual([2, 1]);
    await b.stop();
  });
});
