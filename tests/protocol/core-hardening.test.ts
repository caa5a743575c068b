/** Hardening found while reviewing the protocol core (each was accepted before). */
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  keyId,
  ManifestBodySchema,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  verifyManifest,
} from '../../protocol/src/index.js';
import { createWorld, manifestBody, NOW, sign, trust } from './fixtures.js';

const w = createWorld();

describe('protocol core hardening', () => {
  it('refuses a private key where a public key is expected (KEY_INVALID)', () => {
    const pair = generateKeyPair();
    expect(() => publicKeyFromPem(privateKeyToPem(pair.privateKey))).toThrow(
      expect.objectContaining({ code: 'KEY_INVALID' }),
    );
    expect(keyId(publicKeyFromPem(publicKeyToPem(pair.publicKey)))).toBe(keyId(pair.publicKey));
  });

  it('rejects manifest bytes that are not valid UTF-8 instead of replacing them', () => {
    const text = JSON.stringify(sign(manifestBody({ description: 'Thông báo XX' }), w.editor));
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf(Buffer.from('XX'));
    bytes[at] = 0xff; // an invalid UTF-8 byte inside a string
    expect(() => verifyManifest(bytes, { trust: trust(w), now: NOW })).toThrow(
      expect.objectContaining({ code: 'MANIFEST_MALFORMED' }),
    );
    expect(
      verifyManifest(Buffer.from(text, 'utf8'), { trust: trust(w), now: NOW }).manifest.description,
    ).toBe('Thông báo XX');
  });

  it('rejects a manifest holding a lone surrogate (not I-JSON) as MANIFEST_MALFORMED, not a crash', () => {
    const text = JSON.stringify(sign(manifestBody({ description: 'ok' }), w.editor)).replace(
      '"ok"',
      '"\\ud800"',
    );
    expect(() => verifyManifest(text, { trust: trust(w), now: NOW })).toThrow(
      expect.objectContaining({ code: 'MANIFEST_MALFORMED' }),
    );
  });

  it('rejects a manifest that lists one blob with two sizes', () => {
    const blob = { sha256: 'a'.repeat(64), size: 10, mediaType: 'audio/mpeg' };
    const items = [
      { id: 'a', title: 'A', kind: 'audio' as const, priority: 'normal' as const, lang: 'vi', blob },
      {
        id: 'b',
        title: 'B',
        kind: 'audio' as const,
        priority: 'normal' as const,
        lang: 'vi',
        blob: { ...blob, size: 11 },
      },
    ];
    expect(ManifestBodySchema.safeParse(manifestBody({ items, schedule: [] })).success).toBe(false);
    expect(
      ManifestBodySchema.safeParse(
        manifestBody({
          items: [items[0] as (typeof items)[0], { ...(items[1] as (typeof items)[0]), blob }],
          schedule: [],
        }),
      ).success,
    ).toBe(true);
  });
});
