/**
 * The CLI's trust commands run in-process through runCli (the same code the `loa` binary runs,
 * on real files and keys): several root keys with a root threshold, and `trust sign`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../scripts/src/cli/run.js';

let dir: string;
const NOW = new Date('2026-11-26T00:00:00Z');

async function loa(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    lang: 'vi',
    now: () => NOW,
    cwd: dir,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-cli-trust-'));
  for (const k of ['root-a', 'root-b', 'root-new', 'editor']) expect((await loa('keygen', k)).code).toBe(0);
  await writeFile(join(dir, 'tin.txt'), 'Thông báo họp tổ dân phố lúc 19:00.\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('several root keys with a root threshold', () => {
  it('init signs with every root; add needs a second root signature via trust sign', async () => {
    const init = await loa(
      'trust',
      'init',
      '--root',
      'root-a.key',
      '--root',
      'root-b.key',
      '--root-threshold',
      '2',
      '--out',
      'trust.json',
    );
    expect(init.code).toBe(0);
    const v1 = JSON.parse(await readFile(join(dir, 'trust.json'), 'utf8'));
    expect(v1.root.threshold).toBe(2);
    expect(v1.signatures).toHaveLength(2);

    const add = await loa(
      'trust',
      'add',
      '--root',
      'root-a.key',
      '--trust',
      'trust.json',
      '--key',
      'editor.pub',
      '--role',
      'content',
      '--scope',
      '08',
    );
    expect(add.code).toBe(0);
    expect(add.out).toContain('cần thêm 1 chữ ký gốc');

    expect(
      (
        await loa(
          'bundle',
          'build',
          '--out',
          'B',
          '--channel',
          'main',
          '--version',
          '1',
          '--target',
          '08/02500',
          '--created',
          '2026-11-25T00:00:00Z',
          'tin.txt',
        )
      ).code,
    ).toBe(0);
    expect((await loa('bundle', 'sign', '--key', 'editor.key', 'B')).code).toBe(0);
    const verify = [
      'bundle',
      'verify',
      '--root',
      'root-a.pub',
      '--root',
      'root-b.pub',
      '--trust',
      'trust.json',
      '--unit',
      '08/02500',
      'B',
    ];
    const half = await loa(...verify);
    expect(half.code).toBe(1);
    expect(half.out).toMatch(/^REJECTED THRESHOLD_UNMET/);

    const sign = await loa('trust', 'sign', '--key', 'root-b.key', 'trust.json');
    expect(sign.code).toBe(0);
    expect(sign.out).toContain('(2 chữ ký)');
    expect(await loa(...verify)).toMatchObject({ code: 0, out: 'OK main-v1 v1' });

    // Signing with a key that is not a root is allowed but flagged, and changes nothing for verification.
    expect((await loa('trust', 'sign', '--key', 'editor.key', 'trust.json')).out).toContain(
      'không phải khóa gốc',
    );
    expect((await loa(...verify)).code).toBe(0);
  });

  it('refuses a root threshold above the number of roots (exit 2)', async () => {
    const r = await loa('trust', 'init', '--root', 'root-a.key', '--root-threshold', '2', '--out', 'x.json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--root-threshold 2 lớn hơn số khóa gốc (1)');
  });

  it('bundle build: display time for text and images, Vietnamese file names become ASCII ids', async () => {
    await writeFile(join(dir, 'Thông báo đặc biệt.txt'), 'Cúp điện từ 8:00 đến 11:00.\n');
    const r = await loa(
      'bundle',
      'build',
      '--out',
      'D',
      '--channel',
      'bang-tin',
      '--version',
      '4',
      '--target',
      '08',
      '--display-seconds',
      '20',
      'Thông báo đặc biệt.txt',
      'tin.txt',
    );
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(await readFile(join(dir, 'D/manifest.json'), 'utf8'));
    expect(
      m.items.map((i: { id: string; durationMs: number; title: string }) => [i.id, i.durationMs, i.title]),
    ).toEqual([
      ['Thong-bao-dac-biet', 20_000, 'Thông báo đặc biệt'],
      ['tin', 20_000, 'tin'],
    ]);
    expect(m.id).toBe('bang-tin-v4');
    // the board prints the file's words: they are in the manifest, NFC
    expect(m.items[0].text).toBe('Cúp điện từ 8:00 đến 11:00.'.normalize('NFC'));
    // issuer, date and ticker lines for noticeboards
    await writeFile(join(dir, 'chay.txt'), 'Tha\u0300nh phô\u0301 mất điện từ 8 giờ.');
    const board = await loa(
      ...['bundle', 'build', '--out', 'T', '--channel', 'bang-tin', '--version', '5', '--target', '08/02503'],
      ...['--issuer', 'UBND xã Tân Trào', '--dated', '2026-12-07', '--ticker', 'chay.txt'],
    );
    expect(board.code, board.err).toBe(0);
    const t = JSON.parse(await readFile(join(dir, 'T/manifest.json'), 'utf8'));
    expect(t.items[0]).toMatchObject({
      kind: 'text',
      category: 'ticker',
      issuer: 'UBND xã Tân Trào',
      dated: '2026-12-07',
      text: 'Thành phố mất điện từ 8 giờ.',
    });
    const badDate = await loa(
      ...['bundle', 'build', '--out', 'U', '--channel', 'x', '--version', '1', '--target', '08'],
      ...['--dated', '7/12/2026', 'tin.txt'],
    );
    expect(badDate.code).toBe(2);
    expect(badDate.err).toContain('--dated');
    await writeFile(join(dir, 'hong.txt'), Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
    const notText = await loa(
      ...['bundle', 'build', '--out', 'V', '--channel', 'x', '--version', '1', '--target', '08', 'hong.txt'],
    );
    expect(notText.code).toBe(1);
    expect(notText.err).toContain('TEXT_NOT_UTF8');
    const bad = await loa(
      'bundle',
      'build',
      '--out',
      'E',
      '--channel',
      'x',
      '--version',
      '1',
      '--target',
      '08',
      '--display-seconds',
      '0',
      'tin.txt',
    );
    expect(bad.code).toBe(2);
  });

  it('says which path does not exist (FILE_UNREADABLE, exit 1)', async () => {
    for (const argv of [
      ['bundle', 'verify', '--root', 'root-a.pub', '--trust', 'trust.json', 'khong-co'],
      ['bundle', 'sign', '--key', 'editor.key', 'khong-co'],
      ['bundle', 'pack', 'khong-co', 'x.tar'],
    ]) {
      const r = await loa(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toBe('LỖI FILE_UNREADABLE: không có tệp hoặc thư mục khong-co');
    }
  });

  it('refuses a private key given where the pinned public root belongs', async () => {
    const r = await loa('bundle', 'verify', '--root', 'root-a.key', '--trust', 'trust.json', 'B');
    expect(r.code).toBe(1);
    expect(r.err).toContain('KEY_INVALID');
  });
});

describe('revocation and root rotation', () => {
  it('trust remove revokes a key: its signatures no longer count', async () => {
    expect((await loa('trust', 'init', '--root', 'root-a.key', '--out', 'r.json')).code).toBe(0);
    expect(
      (
        await loa(
          'trust',
          'add',
          '--root',
          'root-a.key',
          '--trust',
          'r.json',
          '--key',
          'editor.pub',
          '--role',
          'content',
          '--scope',
          '08',
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await loa(
          'bundle',
          'build',
          '--out',
          'R',
          '--channel',
          'main',
          '--version',
          '2',
          '--target',
          '08/02500',
          '--created',
          '2026-11-25T00:00:00Z',
          'tin.txt',
        )
      ).code,
    ).toBe(0);
    expect((await loa('bundle', 'sign', '--key', 'editor.key', 'R')).code).toBe(0);
    const verify = ['bundle', 'verify', '--root', 'root-a.pub', '--trust', 'r.json', 'R'];
    expect((await loa(...verify)).out).toBe('OK main-v2 v2');
    const rm1 = await loa(
      'trust',
      'remove',
      '--root',
      'root-a.key',
      '--trust',
      'r.json',
      '--key',
      'editor.pub',
    );
    expect(rm1.code).toBe(0);
    expect(rm1.out).toMatch(/^r\.json v3 -[0-9a-f]{64}$/);
    const after = await loa(...verify);
    expect(after.code).toBe(1);
    expect(after.out).toMatch(/^REJECTED KEY_UNKNOWN/);
    // Mix-and-match: another bundle with the same version as the installed one.
    expect(
      (
        await loa(
          'trust',
          'add',
          '--root',
          'root-a.key',
          '--trust',
          'r.json',
          '--key',
          'editor.pub',
          '--role',
          'content',
          '--scope',
          '08',
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await loa(
          'bundle',
          'build',
          '--out',
          'R2',
          '--channel',
          'main',
          '--version',
          '2',
          '--target',
          '08/02500',
          '--created',
          '2026-11-25T00:00:00Z',
          '--title',
          'Khác',
          'tin.txt',
        )
      ).code,
    ).toBe(0);
    expect((await loa('bundle', 'sign', '--key', 'editor.key', 'R2')).code).toBe(0);
    const mix = await loa(
      'bundle',
      'verify',
      '--root',
      'root-a.pub',
      '--trust',
      'r.json',
      '--installed-manifest',
      'R/manifest.json',
      'R2',
    );
    expect(mix.out).toMatch(/^REJECTED VERSION_CONFLICT/);
    const same = await loa(
      'bundle',
      'verify',
      '--root',
      'root-a.pub',
      '--trust',
      'r.json',
      '--installed-manifest',
      'R/manifest.json',
      'R',
    );
    expect(same.out).toBe('OK main-v2 v2');
    expect(
      (await loa('trust', 'remove', '--root', 'root-a.key', '--trust', 'r.json', '--key', 'editor.pub')).code,
    ).toBe(0);
    const again = await loa(
      'trust',
      'remove',
      '--root',
      'root-a.key',
      '--trust',
      'r.json',
      '--key',
      'editor.pub',
    );
    expect(again.code).toBe(1);
    expect(again.err).toContain('KEY_NOT_FOUND');
  });

  it('trust rotate: the new policy is signed by old and new roots; later ones by the new root only', async () => {
    expect((await loa('trust', 'init', '--root', 'root-a.key', '--out', 'o.json')).code).toBe(0);
    const rot = await loa(
      'trust',
      'rotate',
      '--root',
      'root-a.key',
      '--new-root',
      'root-new.key',
      '--trust',
      'o.json',
    );
    expect(rot.code).toBe(0);
    const v2 = JSON.parse(await readFile(join(dir, 'o.json'), 'utf8'));
    expect(v2.version).toBe(2);
    expect(v2.signatures).toHaveLength(2);
    // A station pinned to the old root accepts v2 (old root signed it; new root signed too).
    expect((await loa('trust', 'show', '--root', 'root-a.pub', 'o.json')).code).toBe(0);
    // v3 by the new root alone: a fresh station pinned to the new root accepts it, the old root cannot sign it.
    expect(
      (
        await loa(
          'trust',
          'add',
          '--root',
          'root-new.key',
          '--trust',
          'o.json',
          '--key',
          'editor.pub',
          '--role',
          'content',
          '--scope',
          '08',
        )
      ).code,
    ).toBe(0);
    expect((await loa('trust', 'show', '--root', 'root-new.pub', 'o.json')).code).toBe(0);
    const stale = await loa(
      'trust',
      'add',
      '--root',
      'root-a.key',
      '--trust',
      'o.json',
      '--key',
      'editor.pub',
      '--role',
      'content',
      '--scope',
      '08',
    );
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/^REJECTED TRUST_ROOT_MISMATCH/);
  });
});
