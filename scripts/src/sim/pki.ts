/**
 * A throw-away public-key setup for the simulator, the demo and the benchmarks: a root key and
 * delegated keys (content, emergency, command) for one province, and a signed trust policy.
 * DEMO ONLY: real provinces generate and keep their root offline with `loa keygen` / `loa trust`.
 */
import type { KeyObject } from 'node:crypto';
import {
  addSignature,
  generateKeyPair,
  type KeyPair,
  keyId,
  type Manifest,
  type ManifestBody,
  type Role,
  rawPublicKey,
  type TrustBody,
  type TrustPolicy,
} from '@loa/protocol';

export interface Pki {
  root: KeyPair;
  keys: Record<'editor' | 'approver' | 'emergency' | 'command', KeyPair>;
  trust: TrustPolicy;
}

function entry(k: KeyObject) {
  return { keyid: keyId(k), publicKey: rawPublicKey(k).toString('base64') };
}

export function createPki(opts: { province: string; now: Date; version?: number; root?: KeyPair }): Pki {
  const root = opts.root ?? generateKeyPair();
  const keys = {
    editor: generateKeyPair(),
    approver: generateKeyPair(),
    emergency: generateKeyPair(),
    command: generateKeyPair(),
  };
  const roles: Record<keyof typeof keys, Role[]> = {
    editor: ['content', 'live'],
    approver: ['content', 'live'],
    emergency: ['emergency', 'content'],
    command: ['command'],
  };
  const body: TrustBody = {
    type: 'loa-trust',
    format: 1,
    version: opts.version ?? 1,
    created: opts.now.toISOString(),
    expires: new Date(opts.now.getTime() + 365 * 86_400_000).toISOString(),
    root: { keys: [entry(root.publicKey)], threshold: 1 },
    keys: (Object.keys(keys) as (keyof typeof keys)[]).map((name) => ({
      ...entry(keys[name].publicKey),
      name: `demo ${name}`,
      roles: roles[name],
      scope: [opts.province],
    })),
    thresholds: {},
  };
  return { root, keys, trust: addSignature({ ...body, signatures: [] }, root.privateKey) };
}

/** Signs a manifest body with the given keys. */
export function signManifest(body: ManifestBody, signers: readonly KeyPair[]): Manifest {
  let doc: Manifest = { ...body, signatures: [] };
  for (const k of signers) doc = addSignature(doc, k.privateKey);
  return doc;
}
