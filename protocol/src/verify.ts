import { createHash, type KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { canonicalize } from './canonical-json.js';
import { VerifyError } from './errors.js';
import { keyId, publicKeyFromRaw } from './keys.js';
import {
  BUNDLE_FORMAT,
  MAX_MANIFEST_BYTES,
  type Manifest,
  ManifestSchema,
  roleForItem,
  type Target,
} from './manifest.js';
import { checkSignatures, type Signed, signingBytes } from './signing.js';
import { type Role, TRUST_FORMAT, type TrustPolicy, TrustPolicySchema, thresholdFor } from './trust.js';
import { anyUnitCovers, unitCovers } from './units.js';

/** Tolerance for a signer's clock running ahead of the station's (applies to `created`). */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/** SHA-256 (hex) of the canonical JSON of a document without its signatures. */
export function documentDigest(doc: object): string {
  return createHash('sha256').update(signingBytes(doc)).digest('hex');
}

function parseInput(
  raw: unknown,
  maxBytes: number,
  malformed: 'MANIFEST_MALFORMED' | 'TRUST_MALFORMED',
): unknown {
  if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) return raw;
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) {
    throw new VerifyError(
      malformed === 'MANIFEST_MALFORMED' ? 'MANIFEST_TOO_LARGE' : 'TRUST_MALFORMED',
      `the document is ${size} bytes, more than the ${maxBytes} allowed`,
    );
  }
  try {
    // Strict UTF-8: invalid bytes are an error, never silently replaced (verifiers must agree).
    const text = typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw);
    return JSON.parse(text);
  } catch (cause) {
    throw new VerifyError(malformed, `not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** A document whose canonical form cannot be computed (e.g. a lone surrogate) is malformed. */
function assertCanonical(doc: object, malformed: 'MANIFEST_MALFORMED' | 'TRUST_MALFORMED'): void {
  try {
    signingBytes(doc);
  } catch (cause) {
    throw new VerifyError(malformed, (cause as Error).message, { cause });
  }
}

/** The canonical JSON of a document; one that has none (a lone surrogate) is malformed. */
function canonicalOf(doc: object, malformed: 'MANIFEST_MALFORMED' | 'TRUST_MALFORMED'): string {
  try {
    return canonicalize(doc);
  } catch (cause) {
    throw new VerifyError(malformed, (cause as Error).message, { cause });
  }
}

/** A document's signing bytes; one that has no canonical form (a lone surrogate) is malformed. */
function signingBytesOf(doc: object, malformed: 'MANIFEST_MALFORMED' | 'TRUST_MALFORMED'): Buffer {
  try {
    return signingBytes(doc);
  } catch (cause) {
    throw new VerifyError(malformed, (cause as Error).message, { cause });
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(document)'}: ${i.message}`)
    .join('; ');
}

function checkFormat(doc: unknown, expected: number, type: string): void {
  if (typeof doc === 'object' && doc !== null && 'format' in doc) {
    const f = (doc as { format: unknown }).format;
    const t = (doc as { type?: unknown }).type;
    if (t === type && typeof f === 'number' && f !== expected)
      throw new VerifyError(
        'FORMAT_UNSUPPORTED',
        `format ${f} is not supported (this software reads format ${expected})`,
      );
  }
}

export interface PinnedRoot {
  /** The root public keys a station trusts from its image or enrolment. */
  keys: KeyObject[];
  /** Distinct root signatures required; defaults to 1. */
  threshold?: number;
}

export interface VerifyTrustOptions {
  pinned: PinnedRoot;
  /** The policy the station has now: the new one must not be older, and must be signed by its root. */
  installed?: TrustPolicy;
  now: Date;
}

/**
 * Verifies a trust policy: schema, signatures by the trusted root (the installed policy's root,
 * else the pinned keys), the policy's own root threshold when it rotates root keys, version,
 * expiry, and that each delegated key id matches its public key.
 */
export function verifyTrustPolicy(raw: unknown, opts: VerifyTrustOptions): TrustPolicy {
  const doc = parseInput(raw, 8 * MAX_MANIFEST_BYTES, 'TRUST_MALFORMED');
  checkFormat(doc, TRUST_FORMAT, 'loa-trust');
  const parsed = TrustPolicySchema.safeParse(doc);
  if (!parsed.success) throw new VerifyError('TRUST_MALFORMED', describeIssues(parsed.error));
  const policy = parsed.data;
  assertCanonical(policy, 'TRUST_MALFORMED');

  for (const k of [...policy.root.keys, ...policy.keys]) {
    if (keyId(publicKeyFromRaw(k.publicKey)) !== k.keyid)
      throw new VerifyError('TRUST_MALFORMED', `key id ${k.keyid} does not match its public key`);
  }
  if (policy.root.threshold > policy.root.keys.length)
    throw new VerifyError('TRUST_MALFORMED', 'the root threshold is larger than the number of root keys');

  const trusted = new Map<string, KeyObject>();
  let threshold: number;
  if (opts.installed) {
    for (const k of opts.installed.root.keys) trusted.set(k.keyid, publicKeyFromRaw(k.publicKey));
    threshold = opts.installed.root.threshold;
  } else {
    for (const k of opts.pinned.keys) trusted.set(keyId(k), k);
    threshold = opts.pinned.threshold ?? 1;
  }
  const byTrusted = checkSignatures(policy, (id) => trusted.get(id));
  if (byTrusted.valid.length === 0 && byTrusted.invalid.length === 0)
    throw new VerifyError('TRUST_ROOT_MISMATCH');
  if (byTrusted.valid.length < threshold) {
    if (byTrusted.invalid.length > 0)
      throw new VerifyError('SIGNATURE_INVALID', 'a root signature on the trust policy is invalid');
    throw new VerifyError(
      'THRESHOLD_UNMET',
      `the trust policy has ${byTrusted.valid.length} valid root signature(s), ${threshold} needed`,
    );
  }
  // A policy that names new root keys must also be signed by its own root (key rotation).
  const own = new Map(policy.root.keys.map((k) => [k.keyid, publicKeyFromRaw(k.publicKey)] as const));
  const byOwn = checkSignatures(policy, (id) => own.get(id));
  if (byOwn.valid.length < policy.root.threshold)
    throw new VerifyError('THRESHOLD_UNMET', 'the trust policy is not signed by enough of its own root keys');

  if (opts.installed) {
    if (policy.version < opts.installed.version)
      throw new VerifyError(
        'TRUST_ROLLBACK',
        `trust policy version ${policy.version} is older than the installed version ${opts.installed.version}`,
      );
    if (
      policy.version === opts.installed.version &&
      documentDigest(policy) !== documentDigest(opts.installed)
    )
      throw new VerifyError(
        'TRUST_ROLLBACK',
        `a different trust policy with version ${policy.version} is installed`,
      );
  }
  if (policy.expires && Date.parse(policy.expires) <= opts.now.getTime())
    throw new VerifyError('TRUST_EXPIRED', `the trust policy expired at ${policy.expires}`);
  return policy;
}

export interface DeviceIdentity {
  /** The device's unit path from the top, e.g. "08/02500". */
  unit: string;
  deviceId?: string;
  groups?: readonly string[];
}

export interface InstalledBundle {
  version: number;
  /**
   * {@link documentDigest} of the installed manifest. When unknown, the same version counts as
   * a rollback (not newer); when known, the same version with the same digest is a re-install.
   */
  digest?: string;
}

export interface VerifyManifestOptions {
  trust: TrustPolicy;
  now: Date;
  /** When given, the bundle must target this device. */
  device?: DeviceIdentity;
  /** The bundle installed on this channel, for rollback and mix-and-match checks. */
  installed?: InstalledBundle;
  maxBytes?: number;
  clockSkewMs?: number;
  /**
   * false: `now` comes from a clock nobody can trust yet (a station offline after a power cut, its
   * system clock years behind). "Not valid yet" is then not checked, since such a clock cannot
   * tell it; the signature, expiry, version and target still are. Default true.
   */
  clockTrusted?: boolean;
}

export interface VerifiedManifest {
  manifest: Manifest;
  digest: string;
  /** Key ids of valid signatures by keys the policy knows. */
  signers: string[];
}

/** The roles a manifest's items need. */
export function requiredRoles(m: Pick<Manifest, 'items'>): Role[] {
  return [...new Set(m.items.map(roleForItem))];
}

export function targetMatches(t: Target, device: DeviceIdentity): boolean {
  if (!unitCovers(t.unit, device.unit)) return false;
  if (!t.devices && !t.groups) return true;
  if (t.devices && device.deviceId && t.devices.includes(device.deviceId)) return true;
  if (t.groups && device.groups?.some((g) => t.groups?.includes(g))) return true;
  return false;
}

/**
 * Checks that `doc` is signed by enough distinct keys of the policy holding `role` whose
 * scope covers every unit in `units`. Throws with the most precise reason.
 */
export function checkRoleSignatures(
  doc: Signed,
  trust: TrustPolicy,
  roles: readonly Role[],
  units: readonly string[],
  /** The document's signing bytes when the caller has them already. */
  precomputed?: Buffer,
): string[] {
  const byId = new Map(trust.keys.map((k) => [k.keyid, k] as const));
  const sigs = checkSignatures(
    doc,
    (id) => {
      const k = byId.get(id);
      return k ? publicKeyFromRaw(k.publicKey) : undefined;
    },
    precomputed,
  );
  if (sigs.invalid.length > 0)
    throw new VerifyError(
      'SIGNATURE_INVALID',
      `the signature by key ${sigs.invalid[0]?.slice(0, 12)}… does not match`,
    );
  if (sigs.valid.length === 0 && sigs.unknown.length > 0)
    throw new VerifyError(
      'KEY_UNKNOWN',
      `key ${sigs.unknown[0]?.slice(0, 12)}… is not in trust policy v${trust.version}`,
    );
  for (const role of roles) {
    const need = thresholdFor(trust, role);
    const holders = sigs.valid.filter((id) => byId.get(id)?.roles.includes(role));
    if (holders.length === 0) {
      if (sigs.unknown.length > 0)
        throw new VerifyError(
          'KEY_UNKNOWN',
          `key ${sigs.unknown[0]?.slice(0, 12)}… is not in trust policy v${trust.version}`,
        );
      throw new VerifyError('ROLE_NOT_AUTHORISED', `no signer holds the "${role}" role this content needs`);
    }
    const covering = holders.filter((id) => units.every((u) => anyUnitCovers(byId.get(id)?.scope ?? [], u)));
    if (covering.length < need) {
      if (holders.length >= need)
        throw new VerifyError(
          'SCOPE_NOT_COVERED',
          `only ${covering.length} of the "${role}" signers may address ${units.join(', ')}; ${need} needed`,
        );
      throw new VerifyError(
        'THRESHOLD_UNMET',
        `${holders.length} distinct "${role}" signature(s), ${need} needed`,
      );
    }
  }
  return sigs.valid;
}

/**
 * Verifies a bundle manifest against a verified trust policy. Blob contents are checked
 * separately (see `@loa/protocol/fs`), never read past their signed size.
 */
export function verifyManifest(raw: unknown, opts: VerifyManifestOptions): VerifiedManifest {
  const doc = parseInput(raw, opts.maxBytes ?? MAX_MANIFEST_BYTES, 'MANIFEST_MALFORMED');
  if (doc === raw && typeof doc === 'object' && doc !== null) {
    // one pass gives its size and shows it has a canonical form (no lone surrogate)
    const size = Buffer.byteLength(canonicalOf(doc, 'MANIFEST_MALFORMED'));
    if (size > (opts.maxBytes ?? MAX_MANIFEST_BYTES))
      throw new VerifyError('MANIFEST_TOO_LARGE', `the manifest is ${size} bytes`);
  }
  checkFormat(doc, BUNDLE_FORMAT, 'loa-bundle');
  const parsed = ManifestSchema.safeParse(doc);
  if (!parsed.success) throw new VerifyError('MANIFEST_MALFORMED', describeIssues(parsed.error));
  const manifest = parsed.data;
  // the signed bytes of what was parsed, made once: the signatures and the digest use them
  const signed = signingBytesOf(manifest, 'MANIFEST_MALFORMED');
  if (manifest.format !== BUNDLE_FORMAT) throw new VerifyError('FORMAT_UNSUPPORTED');

  const units = manifest.targets.map((t) => t.unit);
  const signers = checkRoleSignatures(manifest, opts.trust, requiredRoles(manifest), units, signed);

  const now = opts.now.getTime();
  const skew = opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (
    opts.clockTrusted !== false &&
    (manifest.notBefore ? Date.parse(manifest.notBefore) > now : Date.parse(manifest.created) - skew > now)
  )
    throw new VerifyError(
      'NOT_YET_VALID',
      `the bundle is valid from ${manifest.notBefore ?? manifest.created}`,
    );
  if (Date.parse(manifest.expires) <= now)
    throw new VerifyError('EXPIRED', `the bundle expired at ${manifest.expires}`);

  const digest = createHash('sha256').update(signed).digest('hex');
  if (opts.installed) {
    if (manifest.version < opts.installed.version)
      throw new VerifyError(
        'VERSION_ROLLBACK',
        `version ${manifest.version} is older than the installed version ${opts.installed.version}`,
      );
    if (manifest.version === opts.installed.version && opts.installed.digest === undefined)
      throw new VerifyError(
        'VERSION_ROLLBACK',
        `version ${manifest.version} is not newer than the installed version ${opts.installed.version}`,
      );
    if (manifest.version === opts.installed.version && digest !== opts.installed.digest)
      throw new VerifyError(
        'VERSION_CONFLICT',
        `a different bundle with version ${manifest.version} is installed`,
      );
  }
  if (opts.device && !manifest.targets.some((t) => targetMatches(t, opts.device as DeviceIdentity)))
    throw new VerifyError('TARGET_MISMATCH', `the bundle is not addressed to unit ${opts.device.unit}`);
  return { manifest, digest, signers };
}
