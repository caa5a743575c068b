/**
 * Stable reason codes. Every rejection carries one of these codes; the codes are part of
 * the protocol (documented in protocol/README.md) and never change meaning.
 */
export const REASONS = {
  MANIFEST_MALFORMED: 'the manifest is not valid JSON or does not match the bundle schema',
  MANIFEST_TOO_LARGE: 'the manifest is larger than the allowed maximum',
  FORMAT_UNSUPPORTED: 'the format version is not one this software understands',
  TRUST_MALFORMED: 'the trust policy is not valid JSON or does not match the policy schema',
  TRUST_ROOT_MISMATCH: 'the trust policy is not signed by the pinned root key(s)',
  TRUST_ROLLBACK: 'the trust policy is older than the one already installed',
  TRUST_EXPIRED: 'the trust policy has expired',
  KEY_UNKNOWN: 'a signature was made by a key the trust policy does not know',
  SIGNATURE_INVALID: 'a signature does not match the document',
  THRESHOLD_UNMET: 'not enough distinct authorised keys signed the document',
  ROLE_NOT_AUTHORISED: 'no signing key holds the role this content needs',
  SCOPE_NOT_COVERED: 'a signing key is not authorised for every target unit',
  EXPIRED: 'the document has expired',
  NOT_YET_VALID: 'the document is not valid yet',
  VERSION_ROLLBACK: 'the version is not newer than the one installed',
  VERSION_CONFLICT: 'the same version is installed with different content',
  TARGET_MISMATCH: 'the bundle is not addressed to this device',
  BLOB_MISSING: 'a file listed in the manifest is missing',
  BLOB_HASH_MISMATCH: 'a file does not match its signed SHA-256',
  BLOB_SIZE_MISMATCH: 'a file does not have its signed size',
  EXTRA_FILE: 'the bundle holds a file the manifest does not list',
  TAR_UNSAFE_ENTRY: 'the archive holds an unsafe entry (absolute path, "..", link or device)',
  TAR_MALFORMED: 'the archive is damaged or not a tar file',
  COMMAND_REPLAYED: 'the command was already executed (nonce seen before)',
  PROOF_CHAIN_BROKEN: 'the proof does not follow the previous proof of this device',
  RECALL_MALFORMED: 'the recall is not valid JSON or does not match the recall schema',
  RECALL_MISMATCH: 'the recall does not name this bundle (id, channel and version)',
  BUNDLE_RECALLED: 'the bundle was recalled by a signed withdrawal',
  CHOICES_MALFORMED: 'the programme choices are not valid JSON or do not match the choices schema',
} as const;

export type ReasonCode = keyof typeof REASONS;

/** An error with a stable machine-readable code and a message a technician can read. */
export class LoaError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoaError';
    this.code = code;
    this.details = options?.details;
  }
}

/** A rejection of a signed document or bundle: the code is one of {@link REASONS}. */
export class VerifyError extends LoaError {
  declare readonly code: ReasonCode;
  constructor(
    code: ReasonCode,
    message?: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message ?? REASONS[code], options);
    this.name = 'VerifyError';
  }
}

export function isLoaError(e: unknown): e is LoaError {
  return e instanceof LoaError;
}
