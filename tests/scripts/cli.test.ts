/**
 * The real `loa` CLI, spawned as a user runs it (from source through tsx), on real files:
 * keys, a trust policy, a bundle built from real audio (made by ffmpeg), signatures, tar.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(repo, 'scripts/src/cli/main.ts');
const shim = join(repo, 'scripts/bin/loa.js');
// --import resolves from the working directory, so name tsx's loader by its full URL.
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
const T = 120_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function loa(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return run(process.execPath, ['--conditions=@loa/source', '--import', tsx, entry, ...args], cwd, env);
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, LOA_LANG: '', ...env }, timeout: T },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-cli-'));
  // Real audio: two seconds of a 440 Hz tone as MP3.
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=2',
    '-ac',
    '1',
    '-ar',
    '16000',
    join(dir, 'bản-tin-sáng.mp3'),
  ]);
  await writeFile(join(dir, 'thong-bao.txt'), 'Lịch tiêm chủng tuần này: sáng thứ Bảy tại trạm y tế xã.\n');
  await writeFile(
    join(dir, 'lich.json'),
    JSON.stringify({
      schedule: [{ id: 'sang', rule: { type: 'daily', times: ['06:00', '17:30'] } }],
      quietHours: [{ start: '22:00', end: '05:00' }],
    }),
  );
}, T);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loa CLI, end to end', () => {
  it(
    'keygen → trust init/add → build → sign (×2) → verify → pack → verify tar → unpack',
    async () => {
      for (const k of ['root', 'editor', 'approver', 'other-root'])
        expect((await loa(['keygen', k], dir)).code).toBe(0);
      expect((await stat(join(dir, 'root.key'))).mode & 0o777).toBe(0o600);
      expect((await readFile(join(dir, 'root.pub'), 'utf8')).startsWith('-----BEGIN PUBLIC KEY-----')).toBe(
        true,
      );
      const again = await loa(['keygen', 'root'], dir);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('KEY_EXISTS');

      expect(
        (
          await loa(
            ['trust', 'init', '--root', 'root.key', '--out', 'trust.json', '--threshold', 'content=2'],
            dir,
          )
        ).code,
      ).toBe(0);
      expect(
        (
          await loa(
            [
              'trust',
              'add',
              '--root',
              'root.key',
              '--trust',
              'trust.json',
              '--key',
              'editor.pub',
              '--role',
              'content',
              '--scope',
              '08',
              '--name',
              'Biên tập',
            ],
            dir,
          )
        ).code,
      ).toBe(0);
      const add2 = await loa(
        [
          'trust',
          'add',
          '--root',
          'root.key',
          '--trust',
          'trust.json',
          '--key',
          'approver.pub',
          '--role',
          'content,emergency',
          '--scope',
          '08/02500',
        ],
        dir,
      );
      expect(add2.code).toBe(0);
      expect(add2.stdout).toContain('v3');
      const show = await loa(['trust', 'show', '--root', 'root.pub', 'trust.json'], dir);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('Chữ ký gốc: hợp lệ');
      expect(show.stdout).toContain('content=2');
      expect(show.stdout).toContain('(Biên tập)');

      const build = await loa(
        [
          'bundle',
          'build',
          '--out',
          'B',
          '--channel',
          'main',
          '--version',
          '3',
          '--target',
          '08/02500',
          '--schedule',
          'lich.json',
          '--title',
          'Bản tin sáng',
          'bản-tin-sáng.mp3',
          'thong-bao.txt',
        ],
        dir,
      );
      expect(build.code, build.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(join(dir, 'B/manifest.json'), 'utf8'));
      expect(manifest.items.map((i: { id: string; kind: string }) => `${i.id}:${i.kind}`)).toEqual([
        'ban-tin-sang:audio',
        'thong-bao:text',
      ]);
      expect(manifest.items[0].blob.mediaType).toBe('audio/mpeg');
      expect(manifest.items[0].durationMs).toBeGreaterThan(1900);
      expect(manifest.items[0].durationMs).toBeLessThan(2300);
      expect(manifest.items[0].title).toBe('Bản tin sáng (1/2)');
      expect(manifest.schedule[0].items).toEqual(['ban-tin-sang', 'thong-bao']);
      expect(manifest.quietHours).toEqual([{ start: '22:00', end: '05:00' }]);
      expect(manifest.signatures).toEqual([]);

      const verifyArgs = [
        'bundle',
        'verify',
        '--root',
        'root.pub',
        '--trust',
        'trust.json',
        '--unit',
        '08/02500',
      ];
      expect((await loa(['bundle', 'sign', '--key', 'editor.key', 'B'], dir)).code).toBe(0);
      const one = await loa([...verifyArgs, 'B'], dir);
      expect(one.code).toBe(1);
      expect(one.stdout).toMatch(/^REJECTED THRESHOLD_UNMET: chưa đủ số chữ ký/);
      expect((await loa(['bundle', 'sign', '--key', 'approver.key', 'B'], dir)).code).toBe(0);
      const ok = await loa([...verifyArgs, 'B'], dir);
      expect(ok).toMatchObject({ code: 0, stdout: 'OK main-v3 v3\n' });

      expect((await loa(['bundle', 'pack', 'B', 'b.tar'], dir)).code).toBe(0);
      expect((await loa([...verifyArgs, 'b.tar'], dir)).stdout).toBe('OK main-v3 v3\n');
      const unpack = await loa(
        [
          'bundle',
          'unpack',
          '--root',
          'root.pub',
          '--trust',
          'trust.json',
          '--unit',
          '08/02500',
          'b.tar',
          'C',
        ],
        dir,
      );
      expect(unpack.code, unpack.stderr).toBe(0);
      expect((await loa([...verifyArgs, 'C'], dir)).stdout).toBe('OK main-v3 v3\n');

      const en = await loa(
        ['bundle', 'verify', '--root', 'root.pub', '--trust', 'trust.json', '--unit', '08/02600', 'b.tar'],
        dir,
        { LOA_LANG: 'en' },
      );
      expect(en).toMatchObject({
        code: 1,
        stdout: 'REJECTED TARGET_MISMATCH: the bundle is not addressed to unit 08/02600\n',
      });
      const rollback = await loa([...verifyArgs, '--installed-version', '3', 'B'], dir);
      expect(rollback.code).toBe(1);
      expect(rollback.stdout).toMatch(/^REJECTED VERSION_ROLLBACK: /);
      const expired = await loa([...verifyArgs, '--now', '2099-01-01T00:00:00Z', 'B'], dir);
      expect(expired.stdout).toMatch(/^REJECTED (EXPIRED|TRUST_EXPIRED)/);

      // A policy signed by another root is rejected, whatever it contains.
      expect(
        (await loa(['trust', 'init', '--root', 'other-root.key', '--out', 'forged.json'], dir)).code,
      ).toBe(0);
      const forged = await loa(
        ['bundle', 'verify', '--root', 'root.pub', '--trust', 'forged.json', 'B'],
        dir,
      );
      expect(forged.code).toBe(1);
      expect(forged.stdout).toMatch(/^REJECTED TRUST_ROOT_MISMATCH: /);

      // Tampering after signing is caught.
      const blob = join(dir, 'C/blobs', manifest.items[1].blob.sha256);
      await writeFile(blob, 'Lịch tiêm chủng: ĐÃ HỦY\n');
      const tampered = await loa([...verifyArgs, 'C'], dir);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toMatch(/^REJECTED BLOB_(SIZE|HASH)_MISMATCH/);
    },
    4 * T,
  );
});

describe('loa CLI usage errors exit 2 with a helpful message', () => {
  const cases: [string[], RegExp][] = [
    [[], /Cách dùng: loa <lệnh>/],
    [['bundel', 'verify'], /ý bạn là "loa bundle verify"/],
    [['bundle', 'verfy', 'x'], /ý bạn là "loa bundle verify"/],
    [['bundle'], /cần một lệnh con: build, sign, verify, pack, unpack/],
    [['bundle', 'verify', '--roots', 'r.pub', 'B'], /--roots \(ý bạn là --root\?\)/],
    [['bundle', 'verify', '--trust', 't.json', 'B'], /thiếu tùy chọn --root/],
    [['bundle', 'verify', '--root', 'r.pub', '--trust', 't.json'], /thiếu đối số: DIR\|FILE.tar/],
    [
      ['bundle', 'verify', '--root', 'r.pub', '--trust', 't.json', '--now', 'hôm qua', 'B'],
      /--now phải là thời điểm ISO 8601/,
    ],
    [
      ['bundle', 'build', '--out', 'X', '--channel', 'main', '--version', 'ba', '--target', '08', 'a.mp3'],
      /--version phải là số nguyên/,
    ],
    [
      ['bundle', 'build', '--out', 'X', '--channel', 'main', '--version', '1', '--target', 'Hà Nội', 'a.mp3'],
      /--target "Hà Nội"/,
    ],
    [
      ['bundle', 'build', '--out', 'X', '--channel', 'main', '--version', '1', '--target', '08', 'virus.exe'],
      /không nhận ra loại tệp: virus.exe/,
    ],
    [['bundle', 'pack', 'B'], /thiếu đối số/],
    [['keygen', 'a', 'b'], /thừa đối số: b/],
    [
      ['trust', 'init', '--root', 'r.key', '--out', 't.json', '--threshold', 'content=zero'],
      /--threshold phải có dạng/,
    ],
    [
      [
        'trust',
        'add',
        '--root',
        'r.key',
        '--trust',
        't.json',
        '--key',
        'k.pub',
        '--role',
        'admin',
        '--scope',
        '08',
      ],
      /vai trò "admin" không có/,
    ],
  ];
  it.each(cases)(
    'loa %j',
    async (args, message) => {
      const r = await loa(args, dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    },
    T,
  );

  it(
    'speaks English with LOA_LANG=en',
    async () => {
      const r = await loa(['bundle', 'verfy'], dir, { LOA_LANG: 'en' });
      expect(r).toMatchObject({ code: 2 });
      expect(r.stderr).toContain('did you mean "loa bundle verify"?');
    },
    T,
  );
});

describe('loa --help', () => {
  it(
    'lists every command and option with examples, exit 0',
    async () => {
      const r = await loa(['--help'], dir);
      expect(r.code).toBe(0);
      for (const c of [
        'keygen',
        'trust init',
        'trust add',
        'trust show',
        'bundle build',
        'bundle sign',
        'bundle verify',
        'bundle pack',
        'bundle unpack',
      ])
        expect(r.stdout).toContain(`loa ${c}`);
      for (const o of [
        '--root',
        '--trust',
        '--unit',
        '--installed-version',
        '--now',
        '--threshold',
        '--role',
        '--scope',
        '--schedule',
        '--priority',
        '--target',
        '--expires',
        '--force',
      ])
        expect(r.stdout).toContain(o);
      expect(r.stdout).toContain('Ví dụ');
    },
    T,
  );

  it(
    'prints one command’s help',
    async () => {
      const r = await loa(['bundle', 'verify', '--help'], dir, { LOA_LANG: 'en' });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^loa bundle verify \[options\] DIR\|FILE.tar/);
      expect(r.stdout).toContain('Examples');
    },
    T,
  );

  it(
    'the bin shim runs the compiled CLI',
    async () => {
      // `npm ci` compiles (prepare: tsc -b); a tree that was never built says so instead of skipping.
      expect(
        existsSync(join(repo, 'scripts/dist/cli/main.js')),
        'scripts/dist/cli/main.js is missing: run `npm run build` (or `npm ci`) first',
      ).toBe(true);
      const r = await run(process.execPath, [shim, '--help'], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('loa bundle verify');
    },
    T,
  );
});
