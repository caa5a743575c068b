/**
 * Agent releases (self-update). A release is a signed document, `loa-release`, naming one
 * artifact: a gzip-compressed ustar of the agent's install tree (what images/build-agent.sh
 * builds). It travels on its own channel (`agent`), with versions monotonic like a bundle
 * channel's, and must be signed by keys holding the `release` role: content, emergency, live
 * and command keys cannot make a station run new code.
 */
import { z } from 'zod';
import { VerifyError } from './errors.js';
import { BlobRefSchema, ChannelSchema, IdSchema, InstantSchema, TargetSchema } from './manifest.js';
import { SignatureSchema } from './signing.js';
import type { TrustPolicy } from './trust.js';
import { checkRoleSignatures, type DeviceIdentity, documentDigest, targetMatches } from './verify.js';

export const RELEASE_FORMAT = 1;
export const RELEASE_CHANNEL = 'agent';
/** How long a new version may take to become ready and report, unless the release says. */
export const DEFAULT_READY_DEADLINE_S = 600;

/** A semantic version as npm writes it: 1.2.3, 1.2.3-rc.1. Also the release directory's name. */
export const AgentVersionSchema = z
  .string()
  .max(64)
  .regex(
    /^\d{1,5}\.\d{1,5}\.\d{1,5}(-[0-9A-Za-z.-]{1,40})?$/,
    'an agent version is like 1.2.3 or 1.2.3-rc.1',
  );

const releaseShape = {
  type: z.literal('loa-release'),
  format: z.number().int(),
  id: IdSchema,
  channel: ChannelSchema,
  /** Monotonic per channel: a station refuses a release older than the one it runs. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The agent's package version inside the artifact. */
  agentVersion: AgentVersionSchema,
  created: InstantSchema,
  expires: InstantSchema,
  targets: z.array(TargetSchema).min(1).max(1000),
  /** The install tree, gzip-compressed ustar (application/gzip). */
  artifact: BlobRefSchema,
  /** Seconds the new version has to become ready and report to the server before it is rolled back. */
  readyDeadlineS: z.number().int().min(30).max(86_400).optional(),
  notes: z.string().max(2000).optional(),
};
export const ReleaseBodySchema = z.strictObject(releaseShape);
export const ReleaseSchema = z.strictObject({
  ...releaseShape,
  signatures: z.array(SignatureSchema).max(32),
});
export type ReleaseBody = z.infer<typeof ReleaseBodySchema>;
export type Release = z.infer<typeof ReleaseSchema>;

/** Server → device on `d/{id}/release`: a release to install, its artifact at `artifactUrl`. */
export const ReleaseNotifySchema = z.strictObject({
  release: ReleaseSchema,
  artifactUrl: z.string().max(2000),
  serverTime: InstantSchema,
});
export type ReleaseNotify = z.infer<typeof ReleaseNotifySchema>;

export interface VerifyReleaseOptions {
  trust: TrustPolicy;
  now: Date;
  device?: DeviceIdentity;
  /** The release version the station runs (its channel's); a release must be newer. */
  installedVersion?: number;
}

/**
 * Verifies a release document: schema, format, `release`-role signatures covering every target
 * unit (threshold of the policy), validity, target and version. Throws VerifyError with a code.
 */
export function verifyRelease(
  raw: unknown,
  opts: VerifyReleaseOptions,
): { release: Release; digest: string } {
  const parsed = ReleaseSchema.safeParse(raw);
  if (!parsed.success)
    throw new VerifyError(
      'MANIFEST_MALFORMED',
      parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`)
        .join('; '),
    );
  const release = parsed.data;
  if (release.format !== RELEASE_FORMAT)
    throw new VerifyError('FORMAT_UNSUPPORTED', `release format ${release.format} is not supported`);
  if (release.artifact.mediaType !== 'application/gzip')
    throw new VerifyError('MANIFEST_MALFORMED', 'a release artifact is application/gzip');
  checkRoleSignatures(
    release,
    opts.trust,
    ['release'],
    release.targets.map((t) => t.unit),
  );
  const now = opts.now.getTime();
  if (Date.parse(release.expires) <= now)
    throw new VerifyError('EXPIRED', `the release expired at ${release.expires}`);
  if (opts.installedVersion !== undefined && release.version <= opts.installedVersion)
    throw new VerifyError(
      'VERSION_ROLLBACK',
      `release ${release.version} is not newer than the running release ${opts.installedVersion}`,
    );
  if (opts.device && !release.targets.some((t) => targetMatches(t, opts.device as DeviceIdentity)))
    throw new VerifyError('TARGET_MISMATCH', `the release is not addressed to unit ${opts.device.unit}`);
  return { release, digest: documentDigest(release) };
}
