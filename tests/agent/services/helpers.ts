import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSignatures, GENESIS_PREV, keyId, type Proof, proofHash } from '@loa/protocol';
import { pino } from 'pino';

export const silent = pino({ level: 'silent' });
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const dirs: string[] = [];
export async function tempDir(prefix = 'loa-agent-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Checks seq continuity, prev-hash chain and signatures; throws with the first problem. */
export function assertChain(proofs: Proof[], pub: KeyObject, firstPrev = GENESIS_PREV): void {
  let prev = firstPrev;
  let seq = proofs[0]?.seq ?? 1;
  const id = keyId(pub);
  for (const p of proofs) {
    if (p.seq !== seq) throw new Error(`seq ${p.seq}, expected ${seq}`);
    if (p.prev !== prev) throw new Error(`proof ${p.seq} breaks the hash chain`);
    const sig = checkSignatures(p, (k) => (k === id ? pub : undefined));
    if (sig.valid.length !== 1) throw new Error(`proof ${p.seq} has no valid signature`);
    prev = proofHash(p);
    seq++;
  }
}

/** Spawns a TS file with tsx and the source condition. */
export function spawnTs(file: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--conditions=@loa/source', '--import', 'tsx', file, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout line matching `re` (rejects on exit first). */
export function waitForLine(child: ChildProcessWithoutNullStreams, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = re.exec(l);
        if (m) {
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          resolve(m);
          return;
        }
      }
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before ${re}: ${err}`));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

export function waitExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
}
