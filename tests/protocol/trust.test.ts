import { describe, expect, it } from 'vitest';
import {
  addSignature,
  checkRoleSignatures,
  keyId,
  newTrustPolicy,
  publicKeyEntry,
  type TrustBody,
  unitCovers,
  verifyManifest,
  verifyTrustPolicy,
  withDelegatedKey,
} from '../../protocol/src/index.js';
import { createWorld, DAY, delegate, manifestBody, NOW, sign, trust, trustBody } from './fixtures.js';

const w = createWorld();
const pinned = { keys: [w.root.publicKey] };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('trust policy', () => {
  it('accepts a policy signed by the pinned root and rejects one signed by any other root', () => {
    const body = trustBody(w);
    expect(verifyTrustPolicy(JSON.stringify(sign(body, w.root)), { pinned, now: NOW }).version).toBe(1);
    // The other root signs a policy that names itself as root: rejected whatever it contains.
    const forged = sign(
      { ...body, root: { keys: [publicKeyEntry(w.otherRoot.publicKey)], threshold: 1 } },
      w.otherRoot,
    );
    expect(codeOf(() => verifyTrustPolicy(JSON.stringify(forged), { pinned, now: NOW }))).toBe(
      'TRUST_ROOT_MISMATCH',
    );
  });

  it('rejects a root signature over different content (SIGNATURE_INVALID)', () => {
    const signed = sign(trustBody(w), w.root);
    const tampered = { ...signed, thresholds: { content: 1, emergency: 1 } };
    expect(codeOf(() => verifyTrustPolicy(tampered, { pinned, now: NOW }))).toBe('SIGNATURE_INVALID');
  });

  it('rotates the root key: a new policy naming a new root, signed by the old and new roots', () => {
    const v1 = trust(w);
    const v2body: TrustBody = {
      ...trustBody(w, { version: 2 }),
      root: { keys: [publicKeyEntry(w.otherRoot.publicKey)], threshold: 1 },
    };
    const v2 = verifyTrustPolicy(sign(v2body, w.root, w.otherRoot), { pinned, installed: v1, now: NOW });
    expect(v2.root.keys[0]?.keyid).toBe(keyId(w.otherRoot.publicKey));
    // Signed by the old root only: the new root never agreed.
    expect(codeOf(() => verifyTrustPolicy(sign(v2body, w.root), { pinned, installed: v1, now: NOW }))).toBe(
      'THRESHOLD_UNMET',
    );
    // Signed by the new root only: the installed root never agreed.
    expect(
      codeOf(() => verifyTrustPolicy(sign(v2body, w.otherRoot), { pinned, installed: v1, now: NOW })),
    ).toBe('TRUST_ROOT_MISMATCH');
    // After rotation, v3 needs the new root; the old one alone is now a stranger.
    const v3body = { ...v2body, version: 3 };
    expect(verifyTrustPolicy(sign(v3body, w.otherRoot), { pinned, installed: v2, now: NOW }).version).toBe(3);
    expect(codeOf(() => verifyTrustPolicy(sign(v3body, w.root), { pinned, installed: v2, now: NOW }))).toBe(
      'TRUST_ROOT_MISMATCH',
    );
  });

  it('counts the same root key twice once toward a root threshold of 2', () => {
    const body: TrustBody = {
      ...trustBody(w),
      root: { keys: [publicKeyEntry(w.root.publicKey), publicKeyEntry(w.otherRoot.publicKey)], threshold: 2 },
    };
    const once = sign(body, w.root);
    const twice = { ...once, signatures: [...once.signatures, ...once.signatures] };
    const pinnedBoth = { keys: [w.root.publicKey, w.otherRoot.publicKey], threshold: 2 };
    expect(codeOf(() => verifyTrustPolicy(twice, { pinned: pinnedBoth, now: NOW }))).toBe('THRESHOLD_UNMET');
    expect(verifyTrustPolicy(sign(body, w.root, w.otherRoot), { pinned: pinnedBoth, now: NOW }).version).toBe(
      1,
    );
  });

  it('refuses an older policy and a different policy with the same version', () => {
    const installed = trust(w, { version: 4 });
    expect(
      codeOf(() =>
        verifyTrustPolicy(sign(trustBody(w, { version: 3 }), w.root), { pinned, installed, now: NOW }),
      ),
    ).toBe('TRUST_ROLLBACK');
    const same = sign(trustBody(w, { version: 4, thresholds: { content: 2 } }), w.root);
    expect(codeOf(() => verifyTrustPolicy(same, { pinned, installed, now: NOW }))).toBe('TRUST_ROLLBACK');
    // The very same policy again is fine (idempotent re-install).
    expect(verifyTrustPolicy(installed, { pinned, installed, now: NOW }).version).toBe(4);
  });

  it('rejects a key id that does not match its public key (TRUST_MALFORMED)', () => {
    const body = trustBody(w);
    const keys = body.keys.map((k, i) => (i === 0 ? { ...k, keyid: keyId(w.stranger.publicKey) } : k));
    expect(codeOf(() => verifyTrustPolicy(sign({ ...body, keys }, w.root), { pinned, now: NOW }))).toBe(
      'TRUST_MALFORMED',
    );
  });

  it('builds the next policy with withDelegatedKey: version + 1, key replaced by id', () => {
    const v1 = sign(newTrustPolicy({ rootKeys: [w.root.publicKey], created: NOW }), w.root);
    const v2 = withDelegatedKey(
      v1,
      { publicKey: w.editor.publicKey, roles: ['content'], scope: ['08'] },
      NOW,
    );
    const v3 = withDelegatedKey(
      v2,
      { publicKey: w.editor.publicKey, roles: ['content', 'emergency'], scope: ['08'] },
      NOW,
    );
    expect([v2.version, v3.version]).toEqual([2, 3]);
    expect(v3.keys).toHaveLength(1);
    expect(v3.keys[0]?.roles).toEqual(['content', 'emergency']);
    const verified = verifyTrustPolicy(addSignature({ ...v3, signatures: [] }, w.root.privateKey), {
      pinned,
      now: NOW,
    });
    expect(verified.keys[0]?.keyid).toBe(keyId(w.editor.publicKey));
  });
});

describe('thresholds, roles and scope', () => {
  const two = trust(w, { thresholds: { content: 2 } });

  it('needs two distinct keys for content when the threshold is 2; the same key twice counts once', () => {
    const once = sign(manifestBody(), w.editor);
    const twice = { ...once, signatures: [...once.signatures, ...once.signatures] };
    expect(codeOf(() => verifyManifest(twice, { trust: two, now: NOW }))).toBe('THRESHOLD_UNMET');
    const ok = verifyManifest(sign(manifestBody(), w.editor, w.approver), { trust: two, now: NOW });
    expect(ok.signers.sort()).toEqual([keyId(w.editor.publicKey), keyId(w.approver.publicKey)].sort());
  });

  it('ignores extra valid signatures by other known keys', () => {
    const m = sign(manifestBody(), w.editor, w.chief, w.sibling);
    expect(verifyManifest(m, { trust: trust(w), now: NOW }).manifest.id).toBe('ban-tin-sang');
  });

  it('needs an emergency signature for an emergency item, and content for the rest', () => {
    const body = manifestBody();
    const emergency = { ...body.items[0], id: 'canh-bao', priority: 'emergency' as const };
    const mixed = { ...body, items: [...body.items, emergency] };
    expect(codeOf(() => verifyManifest(sign(mixed, w.editor), { trust: trust(w), now: NOW }))).toBe(
      'ROLE_NOT_AUTHORISED',
    );
    expect(codeOf(() => verifyManifest(sign(mixed, w.chief), { trust: trust(w), now: NOW }))).toBe(
      'ROLE_NOT_AUTHORISED',
    );
    expect(
      verifyManifest(sign(mixed, w.chief, w.editor), { trust: trust(w), now: NOW }).signers,
    ).toHaveLength(2);
  });

  it('walks unit paths: a province key covers a commune, a sibling commune does not', () => {
    expect(unitCovers('08', '08/02500')).toBe(true);
    expect(unitCovers('08/02500', '08/02500')).toBe(true);
    expect(unitCovers('08/02600', '08/02500')).toBe(false);
    expect(unitCovers('08/02500', '08')).toBe(false);
    expect(unitCovers('0', '08/02500')).toBe(false);
    const policy = trust(w);
    // Province editor → commune target: fine. Sibling commune key → commune target: not covered.
    expect(verifyManifest(sign(manifestBody(), w.editor), { trust: policy, now: NOW }).signers).toHaveLength(
      1,
    );
    expect(codeOf(() => verifyManifest(sign(manifestBody(), w.sibling), { trust: policy, now: NOW }))).toBe(
      'SCOPE_NOT_COVERED',
    );
    // A commune key may not address the whole province.
    const province = manifestBody({ targets: [{ unit: '08' }] });
    expect(codeOf(() => verifyManifest(sign(province, w.approver), { trust: policy, now: NOW }))).toBe(
      'SCOPE_NOT_COVERED',
    );
    // Every target must be covered: 08/02500 and 08/02600 together exceed the approver's scope.
    const both = manifestBody({ targets: [{ unit: '08/02500' }, { unit: '08/02600' }] });
    expect(codeOf(() => verifyManifest(sign(both, w.approver), { trust: policy, now: NOW }))).toBe(
      'SCOPE_NOT_COVERED',
    );
  });

  it('with threshold 2, counts only signers whose scope covers the targets', () => {
    const province = manifestBody({ targets: [{ unit: '08' }] });
    const extra = trust(w, {
      thresholds: { content: 2 },
      keys: [...trustBody(w).keys, delegate(w.stranger, ['content'], ['08'])],
    });
    expect(
      codeOf(() => verifyManifest(sign(province, w.editor, w.approver), { trust: extra, now: NOW })),
    ).toBe('SCOPE_NOT_COVERED');
    expect(
      verifyManifest(sign(province, w.editor, w.stranger), { trust: extra, now: NOW }).signers,
    ).toHaveLength(2);
  });

  it('checkRoleSignatures serves commands too', () => {
    const policy = trust(w, { keys: [delegate(w.chief, ['command'], ['08'])] });
    const cmd = sign({ type: 'x', n: 1 }, w.chief);
    expect(checkRoleSignatures(cmd, policy, ['command'], ['08/02500'])).toEqual([keyId(w.chief.publicKey)]);
    expect(codeOf(() => checkRoleSignatures(cmd, policy, ['content'], ['08/02500']))).toBe(
      'ROLE_NOT_AUTHORISED',
    );
  });

  it('bounds validity: created in the future beyond skew, notBefore, expires', () => {
    const policy = trust(w);
    const future = manifestBody({
      created: new Date(NOW.getTime() + DAY).toISOString(),
      expires: new Date(NOW.getTime() + 2 * DAY).toISOString(),
    });
    expect(codeOf(() => verifyManifest(sign(future, w.editor), { trust: policy, now: NOW }))).toBe(
      'NOT_YET_VALID',
    );
    const exact = manifestBody({ expires: NOW.toISOString() });
    expect(codeOf(() => verifyManifest(sign(exact, w.editor), { trust: policy, now: NOW }))).toBe('EXPIRED');
  });

  it('a clock that is not trusted cannot call a bundle "not valid yet"; expiry, signatures and target still hold', () => {
    const policy = trust(w);
    const yearsBehind = new Date(NOW.getTime() - 4 * 365 * DAY);
    const m = sign(manifestBody(), w.editor);
    expect(codeOf(() => verifyManifest(m, { trust: policy, now: yearsBehind }))).toBe('NOT_YET_VALID');
    const opts = { trust: policy, now: yearsBehind, clockTrusted: false };
    expect(verifyManifest(m, opts).manifest.version).toBe(5);
    const expired = sign(
      manifestBody({
        created: new Date(yearsBehind.getTime() - 2 * DAY).toISOString(),
        expires: yearsBehind.toISOString(),
      }),
      w.editor,
    );
    expect(codeOf(() => verifyManifest(expired, opts))).toBe('EXPIRED');
    expect(codeOf(() => verifyManifest(sign(manifestBody(), w.stranger), opts))).toBe('KEY_UNKNOWN');
  });

  it('accepts the same version with the same content (re-install) and rejects an unknown-digest same version', () => {
    const m = sign(manifestBody(), w.editor);
    const v = verifyManifest(m, { trust: trust(w), now: NOW });
    expect(
      verifyManifest(m, { trust: trust(w), now: NOW, installed: { version: 5, digest: v.digest } }).digest,
    ).toBe(v.digest);
    expect(codeOf(() => verifyManifest(m, { trust: trust(w), now: NOW, installed: { version: 5 } }))).toBe(
      'VERSION_ROLLBACK',
    );
    expect(verifyManifest(m, { trust: trust(w), now: NOW, installed: { version: 4 } }).manifest.version).toBe(
      5,
    );
  });

  it('matches devices and groups inside the target unit', () => {
    const m = sign(
      manifestBody({ targets: [{ unit: '08', devices: ['loa-01'], groups: ['cho'] }] }),
      w.editor,
    );
    const policy = trust(w);
    expect(
      verifyManifest(m, { trust: policy, now: NOW, device: { unit: '08/02500', deviceId: 'loa-01' } })
        .manifest.id,
    ).toBeTruthy();
    expect(
      verifyManifest(m, { trust: policy, now: NOW, device: { unit: '08/02600', groups: ['cho'] } }).manifest
        .id,
    ).toBeTruthy();
    expect(
      codeOf(() =>
        verifyManifest(m, { trust: policy, now: NOW, device: { unit: '08/02500', deviceId: 'loa-02' } }),
      ),
    ).toBe('TARGET_MISMATCH');
    expect(
      codeOf(() =>
        verifyManifest(m, { trust: policy, now: NOW, device: { unit: '09/02500', deviceId: 'loa-01' } }),
      ),
    ).toBe('TARGET_MISMATCH');
  });
});
