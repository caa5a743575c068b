/**
 * The quick-start demo as a newcomer runs it: first start seeds the demo province and prints the
 * dashboard address and logins; the simulated stations play the announcement scheduled a minute
 * after start (signed proofs in their journals); the noticeboards show the published bulletin
 * and send a screenshot of it; Ctrl-C stops cleanly; a second start reuses the
 * data directory without seeding again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'loa-demo-e2e-'));
const running: ChildProcess[] = [];

function startDemo(): {
  proc: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, ms: number) => Promise<RegExpMatchArray>;
} {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=@loa/source',
      '--import',
      'tsx',
      'scripts/src/demo/start.ts',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--soon-minutes',
      '1',
    ],
    {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.push(proc);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const waitFor = async (re: RegExp, ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const m = out.match(re);
      if (m) return m;
      if (proc.exitCode !== null) throw new Error(`demo exited (${proc.exitCode}):\n${out}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { proc, output: () => out, waitFor };
}

function stopDemo(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGINT');
  });
}

afterAll(async () => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Journal lines of every simulated device. */
function journals(): string[] {
  const sim = join(dataDir, 'sim');
  return readdirSync(sim).flatMap((d) => {
    const j = join(sim, d, 'journal');
    return readdirSync(j).flatMap((f) => readFileSync(join(j, f), 'utf8').split('\n').filter(Boolean));
  });
}

describe('npm start (quick-start demo)', () => {
  it('seeds, prints the dashboard and logins, plays the announcement on every station, stops on Ctrl-C', async () => {
    const demo = startDemo();
    const url = (
      await demo.waitFor(/Bảng điều khiển:\s+(http:\/\/127\.0\.0\.1:\d+)\//, 240_000)
    )[1] as string;
    expect(demo.output()).toContain('lần chạy đầu');
    expect(demo.output()).toMatch(/Quản trị:\s+admin \/ [a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}/);
    expect(demo.output()).toContain('14/14 đang chạy');
    const page = await fetch(`${url}/`, { redirect: 'manual' });
    expect([200, 302, 303]).toContain(page.status);
    // the announcement, scheduled a minute after start, plays on all 14 devices with signed proofs
    const end = Date.now() + 180_000;
    let started: { deviceId: string; itemId: string; signatures: unknown[] }[] = [];
    while (Date.now() < end) {
      started = journals()
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return []; // a line being written right now
          }
        })
        .filter((p) => p.itemId === 'thong-bao-thu' && p.outcome === 'started');
      if (new Set(started.map((p) => p.deviceId)).size === 14) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(new Set(started.map((p) => p.deviceId)).size).toBe(14);
    for (const p of started) expect(p.signatures).toHaveLength(1);
    // the two noticeboards show the published bulletin on their screens (headless Chromium on the
    // kiosk page: signed proofs of display) and have sent the server a screenshot of it
    const shown = journals()
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      })
      .filter((p) => p.kind === 'display' && p.itemId === 'lich-tiem' && p.outcome === 'started');
    expect(new Set(shown.map((p) => p.deviceId)).size).toBe(2);
    const shots = join(dataDir, 'screenshots');
    const boards = existsSync(shots) ? readdirSync(shots) : [];
    expect(boards).toHaveLength(2);
    for (const b of boards) expect(readdirSync(join(shots, b)).some((f) => f.endsWith('.jpg'))).toBe(true);
    expect(await stopDemo(demo.proc)).toBe(0);
    expect(demo.output()).toContain('đã dừng');
  }, 420_000);

  it('restarts on the same data directory without seeding again', async () => {
    const demo = startDemo();
    await demo.waitFor(/Bảng điều khiển:/, 180_000);
    expect(demo.output()).not.toContain('lần chạy đầu');
    expect(demo.output()).toContain('14/14 đang chạy');
    expect(await stopDemo(demo.proc)).toBe(0);
  }, 240_000);
});
