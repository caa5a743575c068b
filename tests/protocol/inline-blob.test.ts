/** The audio an emergency carries inline: canonical base64 only; public keys made once per text. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  InlineBlobSchema,
  publicKeyFromRaw,
  rawPublicKey,
  signBytes,
  verifyBytes,
} from '../../protocol/src/index.js';

const sha256 = 'a'.repeat(64);

describe('inline blob data', () => {
  it('accepts canonical base64 of any length, and refuses anything else', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 30_000]) {
      const data = randomBytes(n).toString('base64');
      expect(InlineBlobSchema.safeParse({ sha256, data }).success).toBe(true);
    }
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x10]);
    const good = bytes.toString('base64'); // "+/+/EA=="
    expect(good).toBe('+/+/EA==');
    for (const bad of [
      bytes.toString('base64url'), // "-_-_EA"
      '+/+/EA', // padding left out
      '+/+/ EA==', // whitespace
      '+/+/EA=', // wrong padding
      '+/+/EB==', // bits after the last byte
      'not base64!',
      '====',
    ])
      expect(InlineBlobSchema.safeParse({ sha256, data: bad }).success, bad).toBe(false);
  });
});

describe('public keys from their raw text', () => {
  it('makes one key object per text, and it verifies what the key signed', () => {
    const k = generateKeyPair();
    const text = rawPublicKey(k.publicKey).toString('base64');
    const a = publicKeyFromRaw(text);
    expect(publicKeyFromRaw(text)).toBe(a);
    const msg = Buffer.from('cảnh báo');
    expect(verifyBytes(a, msg, signBytes(k.privateKey, msg))).toBe(true);
    const other = generateKeyPair();
    expect(verifyBytes(a, msg, signBytes(other.privateKey, msg))).toBe(false);
    expect(() => publicKeyFromRaw(Buffer.alloc(31).toString('base64'))).toThrow(/32 bytes/);
  });
});
