/**
 * `loa bundle build` with relay items, spawned as a user runs it: a stream item with an FM and a
 * cached-recording fallback, an FM item; they need a key with the `live` role to verify.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(repo, 'scripts/src/cli/main.ts');
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
const T = 120_000;
/** A test spawns about ten CLI processes in turn (each loads TypeScript through tsx): on a loaded
 * machine that is minutes, so the test's cap is well above one process's. */
const TEST_T = 600_000;

function loa(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@loa/source', '--import', tsx, entry, ...args],
      { cwd, env: { ...process.env, LOA_LANG: '' }, timeout: T },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-cli-live-'));
  execFileSync('ffmpeg', [
    ...['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=660:duration=2'],
    join(dir, 'du-phong.mp3'),
  ]);
}, T);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loa bundle build: relay items', () => {
  it(
    'builds stream and FM items with their fallback chain; only a live-role key makes them verify',
    async () => {
      for (const k of ['root', 'live', 'editor']) expect((await loa(['keygen', k], dir)).code).toBe(0);
      expect((await loa(['trust', 'init', '--root', 'root.key', '--out', 'trust.json'], dir)).code).toBe(0);
      for (const [k, role] of [
        ['live.pub', 'live'],
        ['editor.pub', 'content'],
      ] as const) {
        const r = await loa(
          [
            'trust',
            'add',
            '--root',
            'root.key',
            '--trust',
            'trust.json',
            '--key',
            k,
            '--role',
            role,
            '--scope',
            '08',
          ],
          dir,
        );
        expect(r.code, r.stderr).toBe(0);
      }
      const build = await loa(
        [
          ...['bundle', 'build', '--out', 'tiep-song', '--channel', 'tiep-song', '--version', '1'],
          ...['--target', '08/02500', '--stream', 'http://127.0.0.1:8000/vov1', '--stream-format', 'mp3'],
          ...['--fm', '98.7', '--fm-level', '10', '--live-minutes', '30'],
          ...['--fallback-fm', '96.5', '--fallback-file', 'du-phong.mp3'],
        ],
        dir,
      );
      expect(build.code, build.stderr).toBe(0);
      const m = JSON.parse(await readFile(join(dir, 'tiep-song', 'manifest.json'), 'utf8'));
      expect(m.items).toHaveLength(2);
      const [stream, fm] = m.items;
      expect(stream).toMatchObject({
        id: 'stream',
        kind: 'stream',
        url: 'http://127.0.0.1:8000/vov1',
        format: 'mp3',
        durationMs: 1_800_000,
      });
      expect(stream.relay.fallback[0]).toEqual({ type: 'fm', frequencyMHz: 96.5 });
      expect(stream.relay.fallback[1]).toMatchObject({
        type: 'recording',
        blob: { mediaType: 'audio/mpeg' },
      });
      // The cached recording travels as a blob of the bundle.
      await readFile(join(dir, 'tiep-song', 'blobs', stream.relay.fallback[1].blob.sha256));
      expect(fm).toMatchObject({ id: 'fm-98-7', kind: 'fm', fm: { frequencyMHz: 98.7, level: 10 } });

      // A content-only key cannot sign a relay into a playable bundle.
      expect((await loa(['bundle', 'sign', '--key', 'editor.key', 'tiep-song'], dir)).code).toBe(0);
      const rejected = await loa(
        [
          'bundle',
          'verify',
          '--root',
          'root.pub',
          '--trust',
          'trust.json',
          '--unit',
          '08/02500',
          'tiep-song',
        ],
        dir,
      );
      expect(rejected.code).toBe(1);
      expect(rejected.stdout + rejected.stderr).toMatch(/REJECTED/);
      expect((await loa(['bundle', 'sign', '--key', 'live.key', 'tiep-song'], dir)).code).toBe(0);
      const ok = await loa(
        [
          'bundle',
          'verify',
          '--root',
          'root.pub',
          '--trust',
          'trust.json',
          '--unit',
          '08/02500',
          'tiep-song',
        ],
        dir,
      );
      expect(ok.stdout, ok.stderr).toContain('OK tiep-song-v1 v1');
    },
    TEST_T,
  );

  it(
    'a bad frequency or nothing to build is a usage error (exit 2)',
    async () => {
      const bad = await loa(
        [
          'bundle',
          'build',
          '--out',
          'x',
          '--channel',
          'c',
          '--version',
          '1',
          '--target',
          '08',
          '--fm',
          '120',
        ],
        dir,
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('87–108 MHz');
      const none = await loa(
        ['bundle', 'build', '--out', 'y', '--channel', 'c', '--version', '1', '--target', '08'],
        dir,
      );
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('--stream');
    },
    TEST_T,
  );
});
