import type { KeyObject } from 'node:crypto';
import { LoaError } from './errors.js';
import { keyId, rawPublicKey } from './keys.js';
import { type DelegatedKey, type Role, TRUST_FORMAT, type TrustBody, type TrustPolicy } from './trust.js';

/** The `{ keyid, publicKey }` pair a policy stores for a public (or private) key. */
export function publicKeyEntry(key: KeyObject): { keyid: string; publicKey: string } {
  return { keyid: keyId(key), publicKey: rawPublicKey(key).toString('base64') };
}

export interface NewTrustOptions {
  rootKeys: readonly KeyObject[];
  rootThreshold?: number;
  thresholds?: Partial<Record<Role, number>>;
  created: Date;
  expires?: Date;
  version?: number;
}

/** The body of a first trust policy (version 1 unless given) with no delegated keys yet. */
export function newTrustPolicy(opts: NewTrustOptions): TrustBody {
  return {
    type: 'loa-trust',
    format: TRUST_FORMAT,
    version: opts.version ?? 1,
    created: opts.created.toISOString(),
    ...(opts.expires ? { expires: opts.expires.toISOString() } : {}),
    root: { keys: opts.rootKeys.map(publicKeyEntry), threshold: opts.rootThreshold ?? 1 },
    keys: [],
    thresholds: { ...opts.thresholds },
  };
}

/**
 * The next policy body: the delegated key is added (or replaced, by key id), the version goes
 * up by one and `created` is the given instant. Old signatures are dropped: the root signs again.
 */
export function withDelegatedKey(
  policy: TrustBody | TrustPolicy,
  key: Omit<DelegatedKey, 'keyid' | 'publicKey'> & { publicKey: KeyObject },
  created: Date,
): TrustBody {
  const entry: DelegatedKey = {
    ...publicKeyEntry(key.publicKey),
    ...(key.name ? { name: key.name } : {}),
    roles: [...new Set(key.roles)],
    scope: [...new Set(key.scope)],
  };
  const { signatures: _drop, ...body } = policy as TrustPolicy;
  return {
    ...body,
    version: policy.version + 1,
    created: created.toISOString(),
    keys: [...policy.keys.filter((k) => k.keyid !== entry.keyid), entry],
  };
}

/**
 * The next policy body without the delegated key `keyid` (revocation): version + 1, `created`
 * set, signatures dropped. Throws KEY_NOT_FOUND when the policy has no such key.
 */
export function withoutDelegatedKey(
  policy: TrustBody | TrustPolicy,
  keyid: string,
  created: Date,
): TrustBody {
  if (!policy.keys.some((k) => k.keyid === keyid))
    throw new LoaError(
      'KEY_NOT_FOUND',
      `key ${keyid.slice(0, 12)}… is not in trust policy v${policy.version}`,
    );
  const { signatures: _drop, ...body } = policy as TrustPolicy;
  return {
    ...body,
    version: policy.version + 1,
    created: created.toISOString(),
    keys: policy.keys.filter((k) => k.keyid !== keyid),
  };
}

/**
 * The next policy body with new root keys (root rotation): version + 1. It must be signed by
 * the current root (threshold of the installed policy) and by the new root keys (their threshold).
 */
export function withRootKeys(
  policy: TrustBody | TrustPolicy,
  rootKeys: readonly KeyObject[],
  threshold: number,
  created: Date,
): TrustBody {
  const { signatures: _drop, ...body } = policy as TrustPolicy;
  return {
    ...body,
    version: policy.version + 1,
    created: created.toISOString(),
    root: { keys: rootKeys.map(publicKeyEntry), threshold },
  };
}
