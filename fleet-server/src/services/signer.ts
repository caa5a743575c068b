/**
 * Server-held signing keys, one active Ed25519 key per user (editors, approvers, emergency
 * senders). Private keys are encrypted at rest with AES-256-GCM under a master key that comes from
 * the environment (LOA_KEY_SECRET, read by main.ts) or a 0600 file in the data directory. A key
 * signs only once the province has delegated its public key in a trust policy signed offline.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  addSignature,
  generateKeyPair,
  keyId,
  LoaError,
  privateKeyFromPem,
  privateKeyToPem,
  rawPublicKey,
} from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { z } from 'zod';
import type { SigningKeyRecord } from '../domain/model.js';
import type { Store } from '../store/ports.js';

const FORMAT = 'v1';

/** Reads the 32-byte master key from `path`, creating it (mode 0600) when absent. */
export async function loadOrCreateMasterKey(path: string): Promise<Buffer> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    const key = Buffer.from(text, 'base64');
    if (key.length !== 32)
      throw new LoaError('KEY_SECRET_INVALID', `${path} does not hold a 32-byte base64 key`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  await writeFileAtomic(path, `${key.toString('base64')}\n`, { mode: 0o600 });
  return key;
}

/** Parses LOA_KEY_SECRET: 32 bytes in base64 or hex. */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32)
    throw new LoaError('KEY_SECRET_INVALID', 'LOA_KEY_SECRET must be 32 bytes (base64 or hex)');
  return key;
}

export const PublicKeyInfoSchema = z.object({
  keyid: z.string(),
  publicKey: z.string(),
  createdAt: z.string(),
});
export type PublicKeyInfo = z.infer<typeof PublicKeyInfoSchema>;

export class Signer {
  readonly #store: Pick<Store, 'signingKeys'>;
  readonly #master: Buffer;
  readonly #now: () => number;
  readonly #cache = new Map<string, KeyObject>();

  constructor(opts: { store: Pick<Store, 'signingKeys'>; masterKey: Buffer; now: () => number }) {
    if (opts.masterKey.length !== 32)
      throw new LoaError('KEY_SECRET_INVALID', 'the master key must be 32 bytes');
    this.#store = opts.store;
    this.#master = opts.masterKey;
    this.#now = opts.now;
  }

  #encrypt(pem: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#master, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(pem, 'utf8'), c.final()]);
    return [FORMAT, iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join(
      ':',
    );
  }

  #decrypt(blob: string, aad: string): string {
    const [fmt, iv, tag, ct] = blob.split(':');
    if (fmt !== FORMAT || !iv || !tag || !ct)
      throw new LoaError('KEY_CORRUPT', 'encrypted key has an unknown format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.#master, Buffer.from(iv, 'base64'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
    } catch (cause) {
      throw new LoaError('KEY_CORRUPT', 'cannot decrypt the signing key (wrong master key?)', { cause });
    }
  }

  /** Generates a new key for the user; earlier keys of the user are revoked. */
  async generate(userId: string): Promise<PublicKeyInfo> {
    const pair = generateKeyPair();
    const id = keyId(pair.publicKey);
    const at = new Date(this.#now()).toISOString();
    for (const old of await this.#store.signingKeys.list((k) => k.userId === userId && !k.revokedAt))
      await this.#store.signingKeys.update(old.keyid, { revokedAt: at });
    const rec: SigningKeyRecord = {
      keyid: id,
      userId,
      publicKey: rawPublicKey(pair.publicKey).toString('base64'),
      encryptedPrivateKey: this.#encrypt(privateKeyToPem(pair.privateKey), `${id}:${userId}`),
      createdAt: at,
    };
    await this.#store.signingKeys.insert(rec);
    this.#cache.set(id, pair.privateKey);
    return { keyid: id, publicKey: rec.publicKey, createdAt: at };
  }

  async active(userId: string): Promise<SigningKeyRecord | undefined> {
    const keys = await this.#store.signingKeys.list((k) => k.userId === userId && !k.revokedAt);
    return keys.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  }

  async #privateKey(rec: SigningKeyRecord): Promise<KeyObject> {
    const cached = this.#cache.get(rec.keyid);
    if (cached) return cached;
    const key = privateKeyFromPem(this.#decrypt(rec.encryptedPrivateKey, `${rec.keyid}:${rec.userId}`));
    if (keyId(key) !== rec.keyid)
      throw new LoaError('KEY_CORRUPT', 'the stored key does not match its key id');
    this.#cache.set(rec.keyid, key);
    return key;
  }

  /** Signs `doc` with the user's active key; SIGNING_KEY_MISSING when the user has none. */
  async sign<T extends object>(
    userId: string,
    doc: T,
  ): Promise<{ doc: T & { signatures: { keyid: string; sig: string }[] }; keyid: string }> {
    const rec = await this.active(userId);
    if (!rec)
      throw new LoaError(
        'SIGNING_KEY_NOT_FOUND',
        'Bạn chưa có khóa ký trên máy chủ: hãy tạo khóa và nhờ tỉnh ủy quyền',
      );
    const key = await this.#privateKey(rec);
    return { doc: addSignature(doc, key), keyid: rec.keyid };
  }
}
