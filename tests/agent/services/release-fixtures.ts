/**
 * Test fixtures for agent releases: small release trees whose entry point prints the version it
 * belongs to (or crashes, or never becomes ready), their signed release documents, a trust policy
 * with a release key, an HTTP server for artifacts on 127.0.0.1, and the release supervisor
 * (images/rootfs/usr/lib/loa/loa-release-check) run as systemd would.
 */
import { execFile } from 'node:child_process';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addSignature,
  generateKeyPair,
  type KeyPair,
  keyId,
  type Release,
  type ReleaseBody,
  rawPublicKey,
  type TrustPolicy,
} from '@loa/protocol';
import { packRelease } from '@loa/protocol/fs';

export const SUPERVISOR = fileURLToPath(
  new URL('../../../images/rootfs/usr/lib/loa/loa-release-check', import.meta.url),
);

const pk = (k: KeyObject) => ({ keyid: keyId(k), publicKey: rawPublicKey(k).toString('base64') });

export interface ReleaseTrust {
  root: KeyPair;
  release: KeyPair;
  content: KeyPair;
  trust: TrustPolicy;
}

/** A policy with a release key and a content key (which must not be able to sign releases). */
export function makeReleaseTrust(scope = '08'): ReleaseTrust {
  const root = generateKeyPair();
  const release = generateKeyPair();
  const content = generateKeyPair();
  const body = {
    type: 'loa-trust' as const,
    format: 1,
    version: 1,
    created: '2026-01-01T00:00:00Z',
    root: { keys: [pk(root.publicKey)], threshold: 1 },
    keys: [
      { ...pk(release.publicKey), roles: ['release' as const], scope: [scope] },
      { ...pk(content.publicKey), roles: ['content' as const, 'emergency' as const], scope: [scope] },
    ],
    thresholds: {},
    signatures: [],
  };
  return { root, release, content, trust: addSignature(body, root.privateKey) };
}

export type TreeKind = 'good' | 'crash' | 'never-ready';

/**
 * A release tree: bin/loa-agent.js prints {"version":…} and exits 0 ("good"), exits 1 at once
 * ("crash"), or prints nothing and exits 3 ("never-ready"); `files` filler files make the
 * install take a while (what the power-cut loop needs).
 */
export async function makeReleaseTree(
  dir: string,
  version: string,
  kind: TreeKind = 'good',
  files = 0,
): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'node_modules/some-dependency/lib'), { recursive: true });
  const body =
    kind === 'good'
      ? `process.stdout.write(JSON.stringify({ version: ${JSON.stringify(version)} }) + '\\n');`
      : kind === 'crash'
        ? 'process.exit(1);'
        : 'process.exit(3);';
  await writeFile(join(dir, 'bin/loa-agent.js'), `#!/usr/bin/env node\n${body}\n`, { mode: 0o755 });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: '@loa/agent', version }));
  for (let i = 0; i < files; i++)
    await writeFile(
      join(dir, `node_modules/some-dependency/lib/part-${String(i).padStart(4, '0')}.js`),
      `// ${version} ${i}\n${'x'.repeat(4000 + ((i * 7919) % 4000))}\n`,
    );
}

export interface BuiltRelease {
  release: Release;
  artifact: string;
}

/** Packs a tree and signs its release document (default signer: the release key). */
export async function buildRelease(
  work: string,
  tree: string,
  opts: { version: number; agentVersion: string; signer: KeyObject; unit?: string; readyDeadlineS?: number },
): Promise<BuiltRelease> {
  const artifact = join(work, `agent-${opts.agentVersion}.tar.gz`);
  await packRelease(tree, artifact);
  const bytes = await readFile(artifact);
  const body: ReleaseBody = {
    type: 'loa-release',
    format: 1,
    id: `agent-${opts.agentVersion}`,
    channel: 'agent',
    version: opts.version,
    agentVersion: opts.agentVersion,
    created: '2026-01-01T00:00:00Z',
    expires: '2099-01-01T00:00:00Z',
    targets: [{ unit: opts.unit ?? '08' }],
    artifact: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: (await stat(artifact)).size,
      mediaType: 'application/gzip',
    },
    ...(opts.readyDeadlineS ? { readyDeadlineS: opts.readyDeadlineS } : {}),
  };
  return { release: addSignature({ ...body, signatures: [] }, opts.signer), artifact };
}

/** Serves files by URL path (`/a/<name>` → files[name]) on 127.0.0.1. */
export async function artifactServer(files: Map<string, string>): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/a\//, ''));
    const path = files.get(name);
    if (!path) {
      res.writeHead(404).end();
      return;
    }
    readFile(path).then(
      (b) => res.writeHead(200, { 'content-length': b.length }).end(b),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`, server };
}

/** Runs the release supervisor as systemd does (`boot` before a start, `deadline` from its timer). */
export function supervise(
  releases: string,
  factory: string,
  mode: 'boot' | 'deadline',
  now?: number,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      SUPERVISOR,
      [mode],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          LOA_RELEASES: releases,
          LOA_FACTORY: factory,
          ...(now !== undefined ? { LOA_NOW: String(now) } : {}),
        },
      },
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** Starts the station as systemd does: `node <releases>/current/bin/loa-agent.js`. */
export function startStation(releases: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(releases, 'current/bin/loa-agent.js')], (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}
