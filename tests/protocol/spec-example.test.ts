/** Recomputes the worked example of protocol/README.md §12, so the specification stays true. */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  addSignature,
  canonicalize,
  documentDigest,
  newTrustPolicy,
  publicKeyEntry,
  publicKeyToPem,
  verifyManifest,
  verifyTrustPolicy,
} from '../../protocol/src/index.js';

const fromSeed = (b: number) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, b)]),
    format: 'der',
    type: 'pkcs8',
  });

describe('protocol README worked example', () => {
  const root = fromSeed(1);
  const editor = fromSeed(2);
  const rootPub = createPublicKey(root);
  const edPub = createPublicKey(editor);
  const now = new Date('2026-11-26T00:00:00Z');
  const blob = Buffer.from('Xin chào bà con\n', 'utf8');
  const manifest = {
    type: 'loa-bundle' as const,
    format: 1,
    id: 'thong-bao-1126',
    channel: 'main',
    version: 7,
    created: '2026-11-26T06:00:00+07:00',
    expires: '2026-12-03T06:00:00+07:00',
    utcOffset: '+07:00',
    targets: [{ unit: '08/02500' }],
    items: [
      {
        id: 'thong-bao',
        title: 'Thông báo',
        kind: 'text' as const,
        priority: 'normal' as const,
        lang: 'vi',
        blob: {
          sha256: createHash('sha256').update(blob).digest('hex'),
          size: blob.length,
          mediaType: 'text/plain',
        },
        durationMs: 30000,
      },
    ],
    schedule: [{ id: 'sang', items: ['thong-bao'], rule: { type: 'daily' as const, times: ['06:30'] } }],
  };

  it('keys and key ids', () => {
    expect(publicKeyEntry(rootPub)).toEqual({
      keyid: '34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e',
      publicKey: 'iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=',
    });
    expect(publicKeyToPem(rootPub)).toContain('MCowBQYDK2VwAyEAiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=');
    expect(publicKeyEntry(edPub)).toEqual({
      keyid: '6a3803d5f059902a1c6dafbc9ba4729212f7caac08634cc3ae76b27529f03827',
      publicKey: 'gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=',
    });
  });

  it('trust policy signature, manifest bytes, digest, signature and verdicts', () => {
    const trustDoc = addSignature(
      {
        ...newTrustPolicy({ rootKeys: [rootPub], created: new Date('2026-11-01T00:00:00Z') }),
        keys: [
          {
            ...publicKeyEntry(edPub),
            name: 'Biên tập viên tỉnh',
            roles: ['content' as const],
            scope: ['08'],
          },
        ],
        signatures: [] as { keyid: string; sig: string }[],
      },
      root,
    );
    expect(trustDoc.signatures[0]?.sig).toBe(
      'v1VXMzsN2BCepWCCh3kGENh0Yq3nKhGdlnkNkfBkHUs4l1TgWoKBz/Vtquh4IAMZoZr1z5vIAkbDAWqBWTfmBw==',
    );
    expect(manifest.items[0]?.blob.sha256).toBe(
      'b987f1639186be2395ed188087f5459d3dee8e3629097bdb66ec3c37647b5fd9',
    );
    expect(blob.length).toBe(18);
    expect(canonicalize(manifest)).toBe(
      '{"channel":"main","created":"2026-11-26T06:00:00+07:00","expires":"2026-12-03T06:00:00+07:00","format":1,"id":"thong-bao-1126","items":[{"blob":{"mediaType":"text/plain","sha256":"b987f1639186be2395ed188087f5459d3dee8e3629097bdb66ec3c37647b5fd9","size":18},"durationMs":30000,"id":"thong-bao","kind":"text","lang":"vi","priority":"normal","title":"Thông báo"}],"schedule":[{"id":"sang","items":["thong-bao"],"rule":{"times":["06:30"],"type":"daily"}}],"targets":[{"unit":"08/02500"}],"type":"loa-bundle","utcOffset":"+07:00","version":7}',
    );
    const signed = addSignature({ ...manifest, signatures: [] as { keyid: string; sig: string }[] }, editor);
    expect(documentDigest(signed)).toBe('0aa9f098cb12011a88f8a417ab7a5be609f0bc9f442b291a96138493bbdf2ec6');
    expect(signed.signatures[0]?.sig).toBe(
      'TuElYF6q3tCF0HWHmyfa1oZXJIeZu4y8kDzd4jM1rQBzqzgSAicImvRybNIRZoMH8QO4v3DyZ7G94lAfrXXXCw==',
    );
    const trust = verifyTrustPolicy(trustDoc, { pinned: { keys: [rootPub] }, now });
    const code = (o: object) => {
      try {
        verifyManifest(signed, { trust, now, ...o });
        return 'OK';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code({ device: { unit: '08/02500' } })).toBe('OK');
    expect(code({ device: { unit: '08/02600' } })).toBe('TARGET_MISMATCH');
    expect(code({ installed: { version: 8 } })).toBe('VERSION_ROLLBACK');
    expect(code({ trust: { ...trust, thresholds: { content: 2 } } })).toBe('THRESHOLD_UNMET');
  });
});
