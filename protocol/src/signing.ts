import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical-json.js';
import { keyId, signBytes, verifyBytes } from './keys.js';

/** A key id (SHA-256 of the raw public key, hex) and an Ed25519 signature in base64. */
export const KEYID_PATTERN = /^[0-9a-f]{64}$/;
export const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{86}==$/;
export const KeyIdSchema = z.string().regex(KEYID_PATTERN, 'a key id is 64 lowercase hex characters');
export const SignatureSchema = z.object({
  keyid: KeyIdSchema,
  sig: z.string().regex(SIGNATURE_PATTERN, 'an Ed25519 signature is 64 bytes in base64'),
});
export type Signature = z.infer<typeof SignatureSchema>;

export interface Signed {
  signatures: Signature[];
}

/** The bytes that are signed: JCS canonical JSON of the document without `signatures`. */
export function signingBytes(doc: object): Buffer {
  const { signatures: _ignored, ...body } = doc as Record<string, unknown>;
  return canonicalBytes(body);
}

/** Returns a copy of `doc` with one more signature (replacing an earlier one by the same key). */
export function addSignature<T extends object>(doc: T, privateKey: KeyObject): T & Signed {
  const id = keyId(privateKey);
  const sig = signBytes(privateKey, signingBytes(doc)).toString('base64');
  const existing = ((doc as Partial<Signed>).signatures ?? []).filter((s) => s.keyid !== id);
  return { ...doc, signatures: [...existing, { keyid: id, sig }] };
}

/**
 * Checks signatures against a key lookup. Returns the distinct key ids with a valid signature,
 * plus the ids that are unknown and the ids whose signature is invalid.
 */
export function checkSignatures(
  doc: Signed,
  lookup: (keyid: string) => KeyObject | undefined,
  /** The document's signing bytes when the caller has them already (see canonicalizeWithout). */
  precomputed?: Buffer,
): { valid: string[]; unknown: string[]; invalid: string[] } {
  const bytes = precomputed ?? signingBytes(doc);
  const valid = new Set<string>();
  const unknown = new Set<string>();
  const invalid = new Set<string>();
  for (const s of doc.signatures) {
    const key = lookup(s.keyid);
    if (!key) {
      unknown.add(s.keyid);
      continue;
    }
    if (verifyBytes(key, bytes, Buffer.from(s.sig, 'base64'))) valid.add(s.keyid);
    else invalid.add(s.keyid);
  }
  for (const id of valid) invalid.delete(id);
  return { valid: [...valid], unknown: [...unknown], invalid: [...invalid] };
}
