/**
 * Agent self-update with the real release supervisor (images/…/loa-release-check, run by sh as
 * systemd runs it) and real artifacts served over HTTP on 127.0.0.1: only the `release` role
 * can sign a release; the new version is installed beside the old one, switched to, confirmed
 * once it has reported; a version that never becomes ready is rolled back at its deadline; one
 * that crashes is rolled back after its starts; a tampered artifact changes nothing; damaged
 * supervisor state (power cut) still leaves a station that starts.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { ReleaseNotify, Status } from '@loa/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseDir } from '../../../agent/src/services/system/release-dir.js';
import { SelfUpdate } from '../../../agent/src/services/system/self-update.js';
import { cleanupTempDirs, silent, tempDir } from './helpers.js';
import {
  artifactServer,
  type BuiltRelease,
  buildRelease,
  makeReleaseTree,
  makeReleaseTrust,
  startStation,
  supervise,
} from './release-fixtures.js';

const trust = makeReleaseTrust('08');
const files = new Map<string, string>();
let server: Server;
let base = '';
let work = '';
let factory = '';

beforeAll(async () => {
  ({ server, base } = await artifactServer(files));
  work = await tempDir('loa-release-');
  factory = join(work, 'factory');
  await makeReleaseTree(factory, '0.1.0');
});
afterAll(async () => {
  server.close();
  await cleanupTempDirs();
});

interface Station {
  releases: string;
  statuses: Status[];
  reports: Status[];
  restarts: number;
  errors: string[];
  now: number;
  reportOk: boolean;
  updater: () => Promise<SelfUpdate>;
}

const updaters: SelfUpdate[] = [];
afterEach(() => {
  for (const u of updaters.splice(0)) u.stop();
});

async function station(): Promise<Station> {
  const releases = join(await tempDir('loa-releases-'), 'releases');
  const s: Station = {
    releases,
    statuses: [],
    reports: [],
    restarts: 0,
    errors: [],
    now: Date.now(),
    reportOk: true,
    updater: async () => {
      const u = new SelfUpdate({
        releases: new ReleaseDir(releases, factory),
        trust: () => trust.trust,
        device: () => ({ unit: '08/02500', deviceId: 'dev-1' }),
        clock: { now: () => s.now },
        logger: silent,
        report: async (st) => {
          if (s.reportOk) s.reports.push(st);
          return s.reportOk;
        },
        restart: () => {
          s.restarts++;
        },
        reportError: (code) => s.errors.push(code),
        confirmEveryMs: 3_600_000,
      });
      u.on('status', (st) => s.statuses.push(st));
      await u.start();
      updaters.push(u);
      return u;
    },
  };
  expect((await supervise(releases, factory, 'boot')).code).toBe(0);
  return s;
}

let seq = 0;
async function release(
  agentVersion: string,
  version: number,
  kind: 'good' | 'crash' | 'never-ready' = 'good',
  extra: { signer?: 'content'; readyDeadlineS?: number } = {},
): Promise<BuiltRelease> {
  const tree = join(work, `tree-${agentVersion}-${kind}-${seq++}`);
  await makeReleaseTree(tree, agentVersion, kind);
  const built = await buildRelease(work, tree, {
    version,
    agentVersion,
    signer: extra.signer === 'content' ? trust.content.privateKey : trust.release.privateKey,
    ...(extra.readyDeadlineS ? { readyDeadlineS: extra.readyDeadlineS } : {}),
  });
  const name = `${agentVersion}-${seq}.tar.gz`;
  files.set(name, built.artifact);
  return { ...built, artifact: name };
}

const notify = (b: BuiltRelease): ReleaseNotify => ({
  release: b.release,
  artifactUrl: `${base}/${b.artifact}`,
  serverTime: new Date().toISOString(),
});

const version = async (releases: string) =>
  JSON.parse((await startStation(releases)).stdout).version as string;

describe('agent self-update', () => {
  it('takes only releases signed under the release role, switches atomically and confirms once reported', async () => {
    const s = await station();
    expect(await version(s.releases)).toBe('0.1.0');
    const u = await s.updater();

    const forged = await release('0.2.0', 2, 'good', { signer: 'content' });
    expect(await u.handle(notify(forged))).toBe(false);
    expect(s.statuses.at(-1)).toMatchObject({ state: 'failed', reason: 'ROLE_NOT_AUTHORISED' });
    expect(s.restarts).toBe(0);
    expect(await version(s.releases)).toBe('0.1.0');

    const good = await release('0.2.0', 2);
    expect(await u.handle(notify(good))).toBe(true);
    expect(s.restarts).toBe(1);
    expect(s.statuses.slice(-3).map((x) => x.state)).toEqual(['downloading', 'verified', 'active']);
    expect(await readFile(join(s.releases, 'trial'), 'utf8')).toContain(`previous=${factory}`);

    // systemd restarts the agent: the supervisor runs first, then the new version
    await supervise(s.releases, factory, 'boot');
    expect(await version(s.releases)).toBe('0.2.0');
    expect(await readFile(join(s.releases, 'trial'), 'utf8')).toContain('starts=1');
    const u2 = await s.updater();
    expect(u2.current().release?.agentVersion).toBe('0.2.0');
    s.reportOk = false; // offline: stays on trial
    await u2.check();
    expect(existsSync(join(s.releases, 'trial'))).toBe(true);
    s.reportOk = true;
    await u2.check();
    expect(existsSync(join(s.releases, 'trial'))).toBe(false);
    expect(s.reports.at(-1)).toMatchObject({
      bundleId: 'agent-0.2.0',
      channel: 'agent',
      version: 2,
      state: 'playing',
    });

    // an older or equal release is refused; the next one keeps the one before as fallback
    expect(await u2.handle(notify(good))).toBe(false);
    expect(s.statuses.at(-1)).toMatchObject({ state: 'failed', reason: 'VERSION_ROLLBACK' });
    expect(await u2.handle(notify(await release('0.3.0', 3)))).toBe(true);
    await supervise(s.releases, factory, 'boot');
    expect(await version(s.releases)).toBe('0.3.0');
    await (await s.updater()).check();
    expect((await readdir(s.releases)).filter((n) => /^\d/.test(n)).sort()).toEqual([
      '0.2.0',
      '0.2.0.json',
      '0.3.0',
      '0.3.0.json',
    ]);
  });

  it('rolls back a release that never becomes ready within its deadline, and reports it', async () => {
    const s = await station();
    const u = await s.updater();
    expect(await u.handle(notify(await release('0.2.0', 2, 'never-ready', { readyDeadlineS: 60 })))).toBe(
      true,
    );
    const t0 = Math.floor(s.now / 1000);
    await supervise(s.releases, factory, 'boot', t0 + 1);
    expect((await startStation(s.releases)).code).toBe(3); // up, but never ready nor reported
    await supervise(s.releases, factory, 'deadline', t0 + 59);
    expect(await readlinkName(s.releases)).toBe('0.2.0');
    await supervise(s.releases, factory, 'deadline', t0 + 61);
    expect(await readlinkName(s.releases)).toBe(factory);
    expect(await version(s.releases)).toBe('0.1.0');
    expect(await readFile(join(s.releases, 'last-rollback'), 'utf8')).toContain('reason=READY_DEADLINE');

    const back = await s.updater();
    s.reportOk = false;
    await back.check();
    expect(s.errors).toContain('UPDATE_ROLLED_BACK');
    expect(existsSync(join(s.releases, 'last-rollback'))).toBe(true); // kept until the server has it
    s.reportOk = true;
    await back.check();
    expect(s.reports.at(-1)).toMatchObject({
      bundleId: 'agent-0.2.0',
      channel: 'agent',
      state: 'failed',
      reason: 'UPDATE_ROLLED_BACK',
    });
    expect(existsSync(join(s.releases, 'last-rollback'))).toBe(false);
  });

  it('rolls back a release that crashes at every start after its allowed starts', async () => {
    const s = await station();
    const u = await s.updater();
    expect(await u.handle(notify(await release('0.2.0', 2, 'crash')))).toBe(true);
    for (let i = 0; i < 3; i++) {
      await supervise(s.releases, factory, 'boot');
      expect((await startStation(s.releases)).code).toBe(1);
    }
    await supervise(s.releases, factory, 'boot');
    expect(await version(s.releases)).toBe('0.1.0');
    expect(await readFile(join(s.releases, 'last-rollback'), 'utf8')).toContain('reason=CRASH_LOOP');
  });

  it('refuses a tampered artifact without touching the running release', async () => {
    const s = await station();
    const u = await s.updater();
    const b = await release('0.2.0', 2);
    const tampered = join(work, 'tampered.tar.gz');
    const bytes = await readFile(files.get(b.artifact) as string);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff;
    await writeFile(tampered, bytes);
    files.set('tampered.tar.gz', tampered);
    expect(await u.handle({ ...notify(b), artifactUrl: `${base}/tampered.tar.gz` })).toBe(false);
    expect(s.statuses.at(-1)).toMatchObject({ state: 'failed', reason: 'BLOB_HASH_MISMATCH' });
    expect(existsSync(join(s.releases, 'trial'))).toBe(false);
    expect(existsSync(join(s.releases, '0.2.0'))).toBe(false);
    expect(await version(s.releases)).toBe('0.1.0');
  });

  it('starts the right release from damaged supervisor state (torn writes of a power cut)', async () => {
    const s = await station();
    const u = await s.updater();
    expect(await u.handle(notify(await release('0.2.0', 2)))).toBe(true);
    // torn trial file while on trial: rolled back to the previous release
    await writeFile(join(s.releases, 'trial'), 'version=0.2.0\nprevious=');
    await supervise(s.releases, factory, 'boot');
    expect(await version(s.releases)).toBe('0.1.0');
    // a leftover half-made symlink and a current that names a half-extracted tree
    await writeFile(join(s.releases, 'current.new'), '');
    const { symlink, rm, mkdir } = await import('node:fs/promises');
    await mkdir(join(s.releases, '0.9.0/bin'), { recursive: true });
    await rm(join(s.releases, 'current'));
    await symlink('0.9.0', join(s.releases, 'current'));
    await supervise(s.releases, factory, 'boot');
    expect(await version(s.releases)).toBe('0.1.0');
    expect(existsSync(join(s.releases, 'current.new'))).toBe(false);
  });
});

async function readlinkName(releases: string): Promise<string> {
  const { readlink } = await import('node:fs/promises');
  return readlink(join(releases, 'current'));
}
