/** Raw node:crypto baselines: Ed25519 verifications per second and SHA-256 MB/s. */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Verifications per wall second and per CPU second (this process) over `bytes`-byte messages. */
export function ed25519Verify(bytes: number, ms: number): { perSecond: number; perCpuSecond: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const perSecond = ed25519VerifyPerSecond(bytes, ms);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  return { perSecond, perCpuSecond: (perSecond * wall) / Math.max(cpu, 1e-6) };
}

/** Verifies signatures over messages of `bytes` bytes for about `ms` milliseconds (bounded count). */
export function ed25519VerifyPerSecond(bytes: number, ms: number, maxCount = 1_000_000): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const msgs = Array.from({ length: 64 }, (_, i) => Buffer.alloc(bytes, i));
  const sigs = msgs.map((m) => sign(null, m, privateKey));
  let n = 0;
  const start = performance.now();
  while (n < maxCount && performance.now() - start < ms) {
    for (let k = 0; k < 64; k++) {
      if (!verify(null, msgs[k] as Buffer, publicKey, sigs[k] as Buffer)) throw new Error('verify failed');
    }
    n += 64;
  }
  return n / ((performance.now() - start) / 1000);
}

/** SHA-256 over an in-memory buffer, MB/s (1 MB = 2^20 bytes). */
export function sha256MemoryMBps(totalMb: number): number {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const start = performance.now();
  const h = createHash('sha256');
  for (let i = 0; i < totalMb; i++) h.update(chunk);
  h.digest();
  return totalMb / ((performance.now() - start) / 1000);
}

/**
 * SHA-256 of files read from disk (page cache) in 4 MB reads, MB/s: the least a bundle verifier
 * must do. (A 64 KB createReadStream loop is about half as fast on this class of machine.)
 */
export async function sha256FilesMBps(paths: readonly string[]): Promise<number> {
  let bytes = 0;
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const start = performance.now();
  for (const p of paths) {
    const h = createHash('sha256');
    const fh = await open(p, 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
      }
    } finally {
      await fh.close();
    }
    h.digest();
  }
  return bytes / (1024 * 1024) / ((performance.now() - start) / 1000);
}

/** Median latency of a small append + fsync in `dir` (what a durable store pays per batch). */
export async function fsyncLatencyMs(dir: string, rounds = 20): Promise<number> {
  const { open: openFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const fh = await openFile(join(dir, 'fsync-probe'), 'a');
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await fh.write(Buffer.alloc(1024, 0x41));
      await fh.sync();
      times.push(performance.now() - t);
    }
  } finally {
    await fh.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
