/**
 * The demo's first start: Ctrl-C while `npm start` seeds must not leave a data directory that
 * every later start refuses. The real demo entry runs as a child process, is interrupted during
 * seeding (SIGINT, as Ctrl-C sends), and the second start seeds again and finishes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareDemoDir, SEEDING_MARKER } from '../../scripts/src/demo/seeding-marker.js';

const ROOT = resolve(import.meta.dirname, '../..');

function startDemo(dataDir: string): { child: ChildProcess; out: () => string } {
  let text = '';
  const child = spawn(
    process.execPath,
    [
      '--conditions=@loa/source',
      '--import',
      'tsx',
      'scripts/src/demo/start.ts',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--mqtt-port',
      '0',
    ],
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { child, out: () => text };
}

async function until(cond: () => boolean, timeoutMs: number, what: string, out: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output:\n${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const gone = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
const exited = (c: ChildProcess) => new Promise<void>((r) => (gone(c) ? r() : c.once('exit', () => r())));

describe('demo first start', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'loa-demo-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0))
      if (!gone(c)) {
        c.kill('SIGKILL');
        await exited(c);
      }
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks an empty dir, redoes an interrupted seed, and never clears a dir without the marker', () => {
    const data = join(dir, 'data');
    expect(prepareDemoDir(data)).toBe('fresh');
    expect(existsSync(join(data, SEEDING_MARKER))).toBe(true);
    // what an interrupted seed leaves
    mkdirSync(join(data, 'demo-keys'));
    writeFileSync(join(data, 'demo-keys', 'root.pub.pem'), 'x');
    writeFileSync(join(data, 'registry.json'), '{"format":1}');
    mkdirSync(join(data, 'audit'));
    expect(prepareDemoDir(data)).toBe('redo');
    expect(readdirSync(data).sort()).toEqual(['demo-keys', SEEDING_MARKER].sort());
    // a directory with server data but no marker may be real: left alone
    const real = join(dir, 'real');
    mkdirSync(real);
    writeFileSync(join(real, 'registry.json'), '{"format":1}');
    expect(prepareDemoDir(real)).toBe('foreign');
    expect(readdirSync(real)).toEqual(['registry.json']);
  });

  it('Ctrl-C during seeding, then npm start again: the second start seeds and finishes', async () => {
    const data = join(dir, 'data');
    const first = startDemo(data);
    children.push(first.child);
    await until(() => first.out().includes('lần chạy đầu'), 60_000, 'seeding to start', first.out);
    // let it write part of the demo data, then interrupt as Ctrl-C does
    await until(() => first.out().includes('tạo người dùng'), 60_000, 'seeding to be under way', first.out);
    first.child.kill('SIGINT');
    await exited(first.child);
    expect(existsSync(join(data, 'demo-state.json'))).toBe(false);
    expect(existsSync(join(data, 'registry.json'))).toBe(true);

    const second = startDemo(data);
    children.push(second.child);
    await until(
      () => existsSync(join(data, 'demo-state.json')) || gone(second.child),
      150_000,
      'the second seed',
      second.out,
    );
    expect(second.out()).not.toContain('hãy dùng một thư mục trống');
    expect(second.out()).toContain('tạo lại từ đầu');
    expect(existsSync(join(data, 'demo-state.json'))).toBe(true);
    expect(existsSync(join(data, SEEDING_MARKER))).toBe(false);
    second.child.kill('SIGINT');
    await exited(second.child);
  }, 240_000);
});
