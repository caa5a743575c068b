/** Shared fixtures for protocol tests: real Ed25519 keys, real signed policies and bundles. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundleDir, encodeHeader, padding, signBundleDir } from '../../protocol/src/fs/index.js';
import {
  addSignature,
  generateKeyPair,
  type KeyPair,
  type ManifestBody,
  newTrustPolicy,
  publicKeyEntry,
  type Role,
  type TrustBody,
  type TrustPolicy,
  verifyTrustPolicy,
} from '../../protocol/src/index.js';

export const NOW = new Date('2026-11-26T00:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const iso = (ms: number) => new Date(ms).toISOString();

export interface World {
  root: KeyPair;
  otherRoot: KeyPair;
  /** content, scope province 08 */
  editor: KeyPair;
  /** content, scope commune 08/02500 */
  approver: KeyPair;
  /** emergency, scope 08 */
  chief: KeyPair;
  /** content, scope sibling commune 08/02600 */
  sibling: KeyPair;
  /** not in the policy */
  stranger: KeyPair;
}

export function createWorld(): World {
  return {
    root: generateKeyPair(),
    otherRoot: generateKeyPair(),
    editor: generateKeyPair(),
    approver: generateKeyPair(),
    chief: generateKeyPair(),
    sibling: generateKeyPair(),
    stranger: generateKeyPair(),
  };
}

export function delegate(pair: KeyPair, roles: Role[], scope: string[], name?: string) {
  return { ...publicKeyEntry(pair.publicKey), roles, scope, ...(name ? { name } : {}) };
}

/** Trust body v1: editor + approver (content), chief (emergency), sibling (content, 08/02600). */
export function trustBody(w: World, over: Partial<TrustBody> = {}): TrustBody {
  return {
    ...newTrustPolicy({ rootKeys: [w.root.publicKey], created: new Date(NOW.getTime() - DAY) }),
    keys: [
      delegate(w.editor, ['content'], ['08'], 'Biên tập viên tỉnh'),
      delegate(w.approver, ['content'], ['08/02500'], 'Người duyệt xã'),
      delegate(w.chief, ['emergency'], ['08']),
      delegate(w.sibling, ['content'], ['08/02600']),
    ],
    ...over,
  };
}

export function sign<T extends object>(
  doc: T,
  ...pairs: KeyPair[]
): T & { signatures: { keyid: string; sig: string }[] } {
  let out = { ...doc, signatures: [] as { keyid: string; sig: string }[] };
  for (const p of pairs) out = addSignature(out, p.privateKey);
  return out;
}

/** A verified policy (signed by the world's root). */
export function trust(w: World, over: Partial<TrustBody> = {}): TrustPolicy {
  return verifyTrustPolicy(sign(trustBody(w, over), w.root), {
    pinned: { keys: [w.root.publicKey] },
    now: NOW,
  });
}

/** A valid manifest body: one text item, one audio item with the given blob, target 08/02500. */
export function manifestBody(over: Partial<ManifestBody> = {}): ManifestBody {
  return {
    type: 'loa-bundle',
    format: 1,
    id: 'ban-tin-sang',
    channel: 'main',
    version: 5,
    created: iso(NOW.getTime() - HOUR),
    expires: iso(NOW.getTime() + 7 * DAY),
    utcOffset: '+07:00',
    targets: [{ unit: '08/02500' }],
    items: [
      {
        id: 'thong-bao',
        title: 'Thông báo lịch tiêm chủng',
        kind: 'text',
        priority: 'normal',
        lang: 'vi',
        text: 'Xin chào bà con',
      },
    ],
    schedule: [{ id: 'sang', items: ['thong-bao'], rule: { type: 'daily', times: ['06:00'] } }],
    ...over,
  };
}

export async function tempDir(prefix = 'loa-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Builds a bundle directory at `dir/name` with `sizes.length` random audio blobs, signed by
 * `signers`. Returns the bundle path.
 */
export async function makeBundle(
  dir: string,
  name: string,
  signers: KeyPair[],
  opts: { sizes?: number[]; over?: Partial<ManifestBody> } = {},
): Promise<string> {
  const sizes = opts.sizes ?? [40_000, 1_000];
  const files: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const f = join(dir, `${name}-src-${i}.mp3`);
    await writeFile(f, randomBytes(size));
    files.push(f);
  }
  const out = join(dir, name);
  await buildBundleDir(out, {
    files,
    manifest: (blobs) =>
      manifestBody({
        items: blobs.map((b, i) => ({
          id: `a${i}`,
          title: `Bản tin ${i}`,
          kind: 'audio' as const,
          priority: 'normal' as const,
          lang: 'vi',
          blob: { sha256: b.sha256, size: b.size, mediaType: 'audio/mpeg' },
        })),
        schedule: [
          { id: 'sang', items: blobs.map((_, i) => `a${i}`), rule: { type: 'daily', times: ['06:00'] } },
        ],
        ...opts.over,
      }),
  });
  for (const s of signers) await signBundleDir(out, s.privateKey);
  return out;
}

export interface CraftEntry {
  name: string;
  type?: string;
  data?: Buffer;
  linkname?: string;
  /** Size written in the header when it should differ from data.length. */
  size?: number;
}

/** Writes a hand-made ustar archive (for hostile and damaged archives). */
export function craftTar(entries: CraftEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(
      encodeHeader({
        name: e.name,
        type: e.type ?? '0',
        size: e.size ?? data.length,
        mode: 0o644,
        mtime: 0,
        linkname: e.linkname ?? '',
      }),
    );
    parts.push(data, Buffer.alloc(padding(data.length)));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
