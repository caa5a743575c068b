import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { LoaError } from './errors.js';

/** Raw Ed25519 public keys are 32 bytes; SPKI DER adds this fixed 12-byte prefix. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ed25519');
}

/** PKCS#8 PEM of a private key. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SPKI PEM of a public key. */
export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new LoaError('KEY_INVALID', 'not a PKCS#8 PEM private key', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new LoaError('KEY_INVALID', 'the private key is not Ed25519');
  return key;
}

export function publicKeyFromPem(pem: string): KeyObject {
  // createPublicKey would happily derive a public key from a private PEM; refuse it so that a
  // private key is never copied to where only the public one belongs (a station, a verifier).
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new LoaError('KEY_INVALID', 'this is a private key; give the public key (.pub) instead');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new LoaError('KEY_INVALID', 'not an SPKI PEM public key', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LoaError('KEY_INVALID', 'the public key is not Ed25519');
  return key;
}

/** The raw 32 bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

/**
 * Public keys made from the base64 of trust policies, by that text: making a KeyObject costs more
 * than the Ed25519 verification it serves, and every manifest check looks its signers up again.
 * KeyObjects are immutable; the cache is bounded (a policy names a few dozen keys).
 */
const PUBLIC_KEYS = new Map<string, KeyObject>();
const PUBLIC_KEYS_MAX = 256;

/** A public key from its raw 32 bytes (base64 in documents). */
export function publicKeyFromRaw(raw: Buffer | string): KeyObject {
  const cached = typeof raw === 'string' ? PUBLIC_KEYS.get(raw) : undefined;
  if (cached) return cached;
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
  if (bytes.length !== 32) throw new LoaError('KEY_INVALID', 'an Ed25519 public key has 32 bytes');
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]),
    format: 'der',
    type: 'spki',
  });
  if (typeof raw === 'string') {
    if (PUBLIC_KEYS.size >= PUBLIC_KEYS_MAX) PUBLIC_KEYS.clear();
    PUBLIC_KEYS.set(raw, key);
  }
  return key;
}

/** Key id: lowercase hex SHA-256 of the raw 32-byte public key. */
export function keyId(key: KeyObject | Buffer): string {
  const raw = Buffer.isBuffer(key) ? key : rawPublicKey(key);
  return createHash('sha256').update(raw).digest('hex');
}

export function signBytes(privateKey: KeyObject, data: Buffer): Buffer {
  return sign(null, data, privateKey);
}

export function verifyBytes(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * verifyBytes off the main thread: node:crypto runs a verify that has a callback in libuv's thread
 * pool, so a server checking many signatures keeps its event loop for the network and uses every
 * core. Never rejects (a malformed key or signature is `false`, as in verifyBytes).
 */
export function verifyBytesAsync(publicKey: KeyObject, data: Buffer, signature: Buffer): Promise<boolean> {
  if (signature.length !== 64) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, data, publicKey, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
