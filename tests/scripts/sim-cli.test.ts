/** `npm run sim` as a user runs it: help, and bad arguments exit 2 with a message. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sim(args: string[]) {
  return spawnSync(
    process.execPath,
    ['--conditions=@loa/source', '--import', 'tsx', 'scripts/src/sim/main.ts', ...args],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

describe('sim command line', () => {
  it('prints help and exits 0', () => {
    const r = sim(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--devices N');
    expect(r.stdout).toContain('--profile NAME');
  }, 60_000);

  it('exits 2 with a message on bad arguments', () => {
    const r = sim(['--devices', 'many', '--server', 'http://127.0.0.1:8080']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--devices must be an integer');
    expect(r.stderr).toContain('Usage: npm run sim');
    const unknown = sim(['--frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate/);
  }, 60_000);
});
