/**
 * `loa release build` and `loa release sign` in-process (their specs and option parser) on a real install tree and
 * real keys: the artifact unpacks to the same tree, the document verifies against a policy that
 * gives the key the release role, and not against one where the same key only holds content.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addSignature,
  keyId,
  privateKeyFromPem,
  publicKeyFromPem,
  rawPublicKey,
  verifyRelease,
} from '@loa/protocol';
import { unpackRelease } from '@loa/protocol/fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygen } from '../../scripts/src/cli/commands-keys.js';
import { releaseBuild, releaseSign } from '../../scripts/src/cli/commands-release.js';
import { type CommandSpec, type Io, parseCommand } from '../../scripts/src/cli/spec.js';
import { makeReleaseTree } from '../agent/services/release-fixtures.js';

let dir: string;
const NOW = new Date('2026-12-07T00:00:00Z');

const COMMANDS: CommandSpec[] = [keygen, releaseBuild, releaseSign];

/** Parses and runs a command as the `loa` binary does (its spec, its option parser). */
async function loa(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), lang: 'vi', now: () => NOW, cwd: dir };
  const spec = COMMANDS.find((c) => argv.join(' ').startsWith(c.name)) as CommandSpec;
  const rest = argv.slice(spec.name.split(' ').length);
  let code: number;
  try {
    code = await spec.run({ ...parseCommand(spec, rest, io), io });
  } catch (e) {
    err.push((e as Error).message);
    code = 1;
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-cli-release-'));
  await makeReleaseTree(join(dir, 'agent'), '0.3.1', 'good', 3);
  expect((await loa('keygen', 'release')).code).toBe(0);
  expect((await loa('keygen', 'root')).code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loa release', () => {
  it('builds, signs, and the result verifies only under the release role', async () => {
    const b = await loa('release', 'build', '--version', '4', '--unit', '08', 'agent', 'agent.tar.gz');
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain('agent-0.3.1 v4');
    const s = await loa('release', 'sign', '--key', 'release.key', 'agent.release.json');
    expect(s.code, s.err).toBe(0);
    const doc = JSON.parse(await readFile(join(dir, 'agent.release.json'), 'utf8'));
    const pub = publicKeyFromPem(await readFile(join(dir, 'release.pub'), 'utf8'));
    const root = privateKeyFromPem(await readFile(join(dir, 'root.key'), 'utf8'));
    const rootPub = publicKeyFromPem(await readFile(join(dir, 'root.pub'), 'utf8'));
    const policy = (roles: ('release' | 'content')[]) =>
      addSignature(
        {
          type: 'loa-trust' as const,
          format: 1,
          version: 1,
          created: '2026-01-01T00:00:00Z',
          root: {
            keys: [{ keyid: keyId(rootPub), publicKey: rawPublicKey(rootPub).toString('base64') }],
            threshold: 1,
          },
          keys: [
            { keyid: keyId(pub), publicKey: rawPublicKey(pub).toString('base64'), roles, scope: ['08'] },
          ],
          thresholds: {},
          signatures: [],
        },
        root,
      );
    const ok = verifyRelease(doc, { trust: policy(['release']), now: NOW, device: { unit: '08/02500' } });
    expect(ok.release).toMatchObject({ agentVersion: '0.3.1', version: 4, targets: [{ unit: '08' }] });
    expect(() => verifyRelease(doc, { trust: policy(['content']), now: NOW })).toThrow(
      expect.objectContaining({ code: 'ROLE_NOT_AUTHORISED' }),
    );
    await unpackRelease(join(dir, 'agent.tar.gz'), join(dir, 'unpacked'));
    expect(await readFile(join(dir, 'unpacked/bin/loa-agent.js'), 'utf8')).toBe(
      await readFile(join(dir, 'agent/bin/loa-agent.js'), 'utf8'),
    );
  });

  it('refuses a tree without an agent version', async () => {
    const r = await loa('release', 'build', '--version', '5', '--unit', '08', '.', 'x.tar.gz');
    expect(r.code).not.toBe(0);
  });
});
