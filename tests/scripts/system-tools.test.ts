/**
 * The one list of Debian packages (scripts/setup/debian-packages.txt): its shape, what a machine
 * without them is told (npm start, the fleet server's tools), and that `npm run setup` is a no-op
 * on a machine that has them all.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../../fleet-server/src/services/process-run.js';
import { missingTools, missingToolsMessage, onPath, systemTools } from '../../scripts/src/system-tools.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('the list of Debian packages', () => {
  it('names a package, a command and who needs it on every line', () => {
    const tools = systemTools();
    expect(tools.length).toBeGreaterThan(5);
    for (const t of tools) {
      expect(t.pkg).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
      // A command name, or the absolute path of a file a data package installs (a font).
      expect(t.command).toMatch(/^([\w.+-]+|(\/[\w.+-]+)+)$/);
      for (const n of t.needs) expect(['build', 'start', 'test']).toContain(n);
      expect(t.why.length).toBeGreaterThan(10);
    }
    const start = tools.filter((t) => t.needs.includes('start')).map((t) => t.pkg);
    expect(start).toEqual(['ffmpeg', 'espeak-ng']);
    for (const pkg of ['chromium', 'python3', 'systemd', 'openssl'])
      expect(tools.find((t) => t.pkg === pkg)?.needs).toContain('test');
  });

  it('tells a machine without them what to install, in one line', () => {
    const missing = missingTools('start', '/nonexistent');
    expect(missing.map((t) => t.command)).toEqual(['ffmpeg', 'espeak-ng']);
    const msg = missingToolsMessage(missing);
    expect(msg).not.toContain('\n');
    expect(msg).toContain('npm run setup');
    expect(msg).toContain('apt-get install -y ffmpeg espeak-ng');
    // This machine ran the test set-up: nothing the tests need is missing.
    expect(missingTools('test')).toEqual([]);
  });

  it('checks a data package (a font) by the file it installs, whatever PATH says', () => {
    const font = systemTools().find((t) => t.pkg === 'fonts-dejavu-core');
    expect(font?.command).toBe('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf');
    expect(onPath(font?.command ?? '', '/nonexistent')).toBe(true);
    expect(onPath('/usr/share/fonts/truetype/no-such-font.ttf', '/usr/bin')).toBe(false);
  });
});

describe('a missing tool at run time', () => {
  it('npm start stops with one line naming the packages, before touching the data directory', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'loa-path-'));
    try {
      // A PATH with node and nothing else: no ffmpeg, no espeak-ng.
      await symlink(process.execPath, join(bin, 'node'));
      const data = join(bin, 'data');
      const err = await run(
        join(bin, 'node'),
        ['--conditions=@loa/source', '--import', 'tsx', 'scripts/src/demo/start.ts', '--data-dir', data],
        { cwd: repo, env: { PATH: bin, HOME: bin }, timeout: 180_000 },
      ).then(
        () => undefined,
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr.trim().split('\n')).toEqual([
        'demo: thiếu phần mềm hệ thống (missing system tools: ffmpeg (package ffmpeg), espeak-ng (package espeak-ng). Run `npm run setup`, or: apt-get install -y ffmpeg espeak-ng)',
      ]);
      expect(err?.stdout).toBe('');
      expect(existsSync(data)).toBe(false);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  }, 180_000);

  it('the fleet server names the package of a tool it cannot find (TOOL_UNAVAILABLE)', async () => {
    await expect(runProcess('loa-no-such-tool', [], { timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'TOOL_UNAVAILABLE',
      message: expect.stringContaining('(install it: apt-get install -y loa-no-such-tool)'),
    });
    await expect(runProcess('/nonexistent/ffprobe', [], { timeoutMs: 5000 })).rejects.toMatchObject({
      message: expect.stringContaining('apt-get install -y ffmpeg'),
    });
  });
});

describe('npm run setup', () => {
  it('installs nothing on a machine that has every package (idempotent)', async () => {
    const r = await run('bash', ['scripts/setup/setup.sh', '--no-npm'], { cwd: repo, timeout: 60_000 });
    expect(r.stdout.trim()).toBe(
      'setup: every Debian package in scripts/setup/debian-packages.txt is present',
    );
  }, 60_000);
});
