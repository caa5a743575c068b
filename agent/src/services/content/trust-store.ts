/**
 * The station's trust: pinned root public keys (from the image or provisioning) and the
 * installed trust policy (data dir trust.json), which only moves forward.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  type Clock,
  LoaError,
  type PinnedRoot,
  publicKeyFromPem,
  type TrustPolicy,
  TrustPolicySchema,
  VerifyError,
  verifyTrustPolicy,
} from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { type HttpFetch, httpFetch } from '../../http/client.js';
import { readJsonFile } from '../system/data-dir.js';

/** Reads pinned root keys from SPKI PEM files. Error: TRUST_ROOT_UNREADABLE. */
export async function loadPinnedRoots(paths: readonly string[], threshold = 1): Promise<PinnedRoot> {
  const keys: KeyObject[] = [];
  for (const p of paths) {
    let pem: string;
    try {
      pem = await readFile(p, 'utf8');
    } catch (cause) {
      throw new LoaError('TRUST_ROOT_UNREADABLE', `Không đọc được khoá gốc ${p}`, { cause });
    }
    try {
      keys.push(publicKeyFromPem(pem));
    } catch (cause) {
      throw new LoaError('TRUST_ROOT_UNREADABLE', `Tệp ${p} không phải khoá công khai Ed25519`, { cause });
    }
  }
  return { keys, threshold };
}

export interface TrustStoreOptions {
  file: string;
  pinned: PinnedRoot;
  clock: Clock;
  logger: Logger;
}

export class TrustStore {
  private policy: TrustPolicy | undefined;
  constructor(private readonly opts: TrustStoreOptions) {}

  async start(): Promise<void> {
    const stored = await readJsonFile(this.opts.file, TrustPolicySchema);
    if (!stored) return;
    try {
      this.policy = verifyTrustPolicy(stored, {
        pinned: this.opts.pinned,
        now: new Date(this.opts.clock.now()),
      });
    } catch (e) {
      if (e instanceof VerifyError && (e.code === 'TRUST_ROOT_MISMATCH' || e.code === 'TRUST_EXPIRED')) {
        // Root keys were rotated through the chain since the image was made, or the clock is
        // behind/ahead: keep the policy we verified when it was installed, and say so.
        this.opts.logger.warn({ code: e.code, version: stored.version }, 'installed trust policy kept');
        this.policy = stored;
        return;
      }
      throw e;
    }
  }

  current(): TrustPolicy | undefined {
    return this.policy;
  }

  /** Verifies and installs a newer policy (or the same one again). Throws VerifyError. */
  async install(raw: unknown): Promise<TrustPolicy> {
    const next = verifyTrustPolicy(raw, {
      pinned: this.opts.pinned,
      installed: this.policy,
      now: new Date(this.opts.clock.now()),
    });
    if (this.policy?.version !== next.version) {
      await writeJsonAtomic(this.opts.file, next, 0o644);
      this.opts.logger.info({ version: next.version }, 'trust policy installed');
    }
    this.policy = next;
    return next;
  }
}

/**
 * Fetches the fleet server's current trust policy (GET {api}/trust, answer `{policy}` or the
 * policy itself). Undefined when the server has none or cannot be reached; the caller installs it.
 */
export async function fetchTrustPolicy(
  apiBase: string,
  headers: Record<string, string>,
  f: HttpFetch = httpFetch,
): Promise<unknown> {
  try {
    const res = await f(`${apiBase.replace(/\/+$/, '')}/trust`, {
      headers,
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const json = (await res.json()) as { policy?: unknown } | null;
    if (json && typeof json === 'object' && 'policy' in json) return json.policy ?? undefined;
    return json ?? undefined;
  } catch {
    return undefined;
  }
}
