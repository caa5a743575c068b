/** Test fixtures: a trust policy, signed bundle directories and a small HTTP blob server. */
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  addSignature,
  generateKeyPair,
  type KeyPair,
  keyId,
  type Manifest,
  rawPublicKey,
  type TrustPolicy,
} from '@loa/protocol';
import { buildBundleDir, signBundleDir } from '@loa/protocol/fs';

const pk = (k: KeyObject) => ({ keyid: keyId(k), publicKey: rawPublicKey(k).toString('base64') });

export interface TrustFixture {
  root: KeyPair;
  content: KeyPair;
  emergency: KeyPair;
  command: KeyPair;
  outsider: KeyPair;
  trust: TrustPolicy;
}

export function makeTrust(unitScope = '08'): TrustFixture {
  const root = generateKeyPair();
  const content = generateKeyPair();
  const emergency = generateKeyPair();
  const command = generateKeyPair();
  const outsider = generateKeyPair();
  const body = {
    type: 'loa-trust' as const,
    format: 1,
    version: 1,
    created: '2026-01-01T00:00:00Z',
    root: { keys: [pk(root.publicKey)], threshold: 1 },
    keys: [
      { ...pk(content.publicKey), roles: ['content' as const], scope: [unitScope] },
      { ...pk(emergency.publicKey), roles: ['emergency' as const, 'content' as const], scope: [unitScope] },
      { ...pk(command.publicKey), roles: ['command' as const], scope: [unitScope] },
    ],
    thresholds: {},
    signatures: [],
  };
  return { root, content, emergency, command, outsider, trust: addSignature(body, root.privateKey) };
}

export interface BundleSpec {
  version: number;
  channel?: string;
  unit?: string;
  id?: string;
  files: { name: string; data: Buffer }[];
  priority?: 'normal' | 'emergency';
  /** Schedule rule of the single entry (default: daily at 05:30); null: no schedule at all. */
  rule?: { type: 'immediate' } | { type: 'daily'; times: string[] } | { type: 'once'; at: string } | null;
  /** Length of each item (absent: the station probes it). */
  durationMs?: number;
  signer: KeyObject;
}

/**
 * The default daily slot: twelve hours from when the test file loaded, in Vietnam's time (UTC+7),
 * so a test that does not ask for a slot never has its item start while it runs (a fixed 05:30
 * started at 22:30 UTC and turned the amplifier on in the middle of a test).
 */
const FAR_FROM_NOW = new Date(Date.now() + 12 * 3_600_000 + 7 * 3_600_000).toISOString().slice(11, 16);

/** Builds and signs a bundle directory; returns its manifest. */
export async function makeBundleDir(work: string, out: string, spec: BundleSpec): Promise<Manifest> {
  const srcDir = join(work, `src-${Math.random().toString(36).slice(2)}`);
  await mkdir(srcDir, { recursive: true });
  const paths: string[] = [];
  for (const f of spec.files) {
    const p = join(srcDir, f.name);
    await writeFile(p, f.data);
    paths.push(p);
  }
  await buildBundleDir(out, {
    files: paths,
    manifest: (blobs) => ({
      type: 'loa-bundle',
      format: 1,
      id: spec.id ?? `b-${spec.channel ?? 'main'}-${spec.version}`,
      channel: spec.channel ?? 'main',
      version: spec.version,
      created: '2026-01-01T00:00:00Z',
      expires: '2036-01-01T00:00:00Z',
      targets: [{ unit: spec.unit ?? '08/02500' }],
      items: blobs.map((b, i) => ({
        id: `item-${i}`,
        title: `Bản tin ${i}`,
        kind: 'audio',
        priority: spec.priority ?? 'normal',
        lang: 'vi',
        blob: { sha256: b.sha256, size: b.size, mediaType: 'audio/wav' },
        ...(spec.durationMs ? { durationMs: spec.durationMs } : {}),
      })),
      ...(spec.rule === null
        ? {}
        : {
            schedule: [
              {
                id: 'sang',
                items: blobs.map((_, i) => `item-${i}`),
                rule: spec.rule ?? { type: 'daily', times: [FAR_FROM_NOW] },
              },
            ],
          }),
      signatures: [],
    }),
  });
  const { manifest } = await signBundleDir(out, spec.signer);
  return manifest;
}

export interface ServerControl {
  url: string;
  server: Server;
  /** Bundle dirs by path segment: /b/<name>/manifest.json and /b/<name>/blobs/<sha>. */
  bundles: Map<string, string>;
  rangeRequests: number;
  requests: number;
  /** Cut the connection after this many body bytes on the next N blob responses. */
  cutAfter?: { bytes: number; times: number };
  /** Ignore Range and append junk after the blob. */
  overlong?: boolean;
  /** Bytes per chunk and pause between chunks (slow link). */
  throttle?: { chunk: number; delayMs: number };
  close(): Promise<void>;
}

export async function startBlobServer(): Promise<ServerControl> {
  const ctl = { bundles: new Map<string, string>(), rangeRequests: 0, requests: 0 } as ServerControl;
  const server = createServer(async (req, res) => {
    ctl.requests++;
    const m = /^\/b\/([^/]+)\/(manifest\.json|blobs\/[0-9a-f]{64})$/.exec(req.url ?? '');
    const dir = m ? ctl.bundles.get(m[1] as string) : undefined;
    if (!m || !dir) {
      res.writeHead(404).end();
      return;
    }
    let data: Buffer;
    try {
      data = await readFile(join(dir, m[2] as string));
    } catch {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !ctl.overlong) {
      ctl.rangeRequests++;
      start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : data.length - 1;
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}` });
      data = data.subarray(start, end + 1);
    } else {
      if (ctl.overlong && m[2] !== 'manifest.json') data = Buffer.concat([data, Buffer.alloc(4096, 7)]);
      res.writeHead(200, { 'content-length': String(data.length) });
    }
    const cut = m[2] !== 'manifest.json' && ctl.cutAfter && ctl.cutAfter.times > 0 ? ctl.cutAfter : undefined;
    if (cut) cut.times--;
    const step = ctl.throttle?.chunk ?? 64 * 1024;
    for (let off = 0; off < data.length; off += step) {
      if (cut && off >= cut.bytes) {
        res.destroy();
        return;
      }
      if (!res.write(data.subarray(off, off + step))) await new Promise((r) => res.once('drain', r));
      if (ctl.throttle) await new Promise((r) => setTimeout(r, ctl.throttle?.delayMs));
      if (res.destroyed) return;
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ctl.server = server;
  ctl.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ctl.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return ctl;
}

export function notifyFor(ctl: ServerControl, name: string, m: Manifest) {
  return {
    bundleId: m.id,
    channel: m.channel,
    version: m.version,
    manifestUrl: `${ctl.url}/b/${name}/manifest.json`,
    blobBase: `${ctl.url}/b/${name}/blobs`,
    serverTime: new Date().toISOString(),
  };
}
