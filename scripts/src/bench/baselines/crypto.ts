/** Raw node:crypto baselines: Ed25519 verifications per second and SHA-256 MB/s. */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';

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

/** SHA-256 of files streamed from disk (page cache), MB/s: what a bundle verifier must at least do. */
export async function sha256FilesMBps(paths: readonly string[]): Promise<number> {
  let bytes = 0;
  const start = performance.now();
  for (const p of paths) {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(p)) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    h.digest();
  }
  return bytes / (1024 * 1024) / ((performance.now() - start) / 1000);
}
