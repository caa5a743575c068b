/**
 * The province's trust policy on the server. The policy is signed OFFLINE with `loa trust` by
 * the root key(s); the server only holds the pinned root PUBLIC keys (config.trustRoots) and
 * verifies each upload against them (or, once one is installed, against the installed policy's
 * root, which is how root keys rotate). The root private key never touches the server.
 */
import {
  type DelegatedKey,
  LoaError,
  publicKeyFromRaw,
  type TrustPolicy,
  verifyTrustPolicy,
} from '@loa/protocol';
import { withDefaults } from '../defaults.js';
import type { TrustPolicyRecord } from '../domain/model.js';
import type { Store } from '../store/ports.js';

export const TRUST_SERVICE_DEFAULTS = {
  /** Root signatures a trust policy needs. */
  threshold: 1,
};

export class TrustService {
  readonly #store: Pick<Store, 'trust'>;
  readonly #roots: string[];
  readonly #threshold: number;
  readonly #now: () => number;
  #current: TrustPolicyRecord | undefined;
  readonly #listeners = new Set<(p: TrustPolicy) => void>();
  readonly #serverHeldKeys: (() => Promise<ReadonlySet<string>>) | undefined;

  constructor(opts: {
    store: Pick<Store, 'trust'>;
    roots: readonly string[];
    threshold?: number;
    now: () => number;
    /** Key ids of the signing keys the server holds: none of them may hold the `release` role. */
    serverHeldKeys?: () => Promise<ReadonlySet<string>>;
  }) {
    this.#serverHeldKeys = opts.serverHeldKeys;
    this.#store = opts.store;
    this.#roots = [...opts.roots];
    this.#threshold = withDefaults(TRUST_SERVICE_DEFAULTS, opts).threshold;
    this.#now = opts.now;
  }

  async start(): Promise<void> {
    this.#current = await this.#store.trust.current();
  }

  /** The installed policy, if any. */
  current(): TrustPolicy | undefined {
    return this.#current?.policy;
  }

  record(): TrustPolicyRecord | undefined {
    return this.#current;
  }

  /** The installed policy or TRUST_MISSING (409). */
  require(): TrustPolicy {
    const p = this.current();
    if (!p)
      throw new LoaError(
        'TRUST_NOT_FOUND',
        'Chưa có chính sách tin cậy: tỉnh cần ký bằng `loa trust` và tải lên',
      );
    return p;
  }

  delegation(keyid: string): DelegatedKey | undefined {
    return this.current()?.keys.find((k) => k.keyid === keyid);
  }

  onChange(fn: (p: TrustPolicy) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Verifies and installs a policy. Throws the protocol's VerifyError codes (4xx) on rejection. */
  async upload(raw: unknown, by: string): Promise<TrustPolicyRecord> {
    if (this.#roots.length === 0)
      throw new LoaError(
        'TRUST_ROOT_UNAVAILABLE',
        'Máy chủ chưa cấu hình khóa gốc (TRUST_ROOTS) để kiểm tra chính sách',
      );
    let keys: ReturnType<typeof publicKeyFromRaw>[];
    try {
      keys = this.#roots.map((r) => publicKeyFromRaw(r));
    } catch (cause) {
      throw new LoaError('TRUST_ROOT_UNAVAILABLE', 'Khóa gốc cấu hình trên máy chủ không hợp lệ', { cause });
    }
    const installed = this.current();
    const policy = verifyTrustPolicy(raw, {
      pinned: { keys, threshold: this.#threshold },
      ...(installed ? { installed } : {}),
      now: new Date(this.#now()),
    });
    // Agent releases run code on every station: their keys stay offline, never on this server.
    const held = (await this.#serverHeldKeys?.()) ?? new Set<string>();
    const onServer = policy.keys.find((k) => k.roles.includes('release') && held.has(k.keyid));
    if (onServer)
      throw new LoaError(
        'RELEASE_KEY_ON_SERVER',
        `Khóa ${onServer.keyid.slice(0, 12)}… do máy chủ giữ không được có vai trò "release" (khóa phát hành phần mềm phải giữ ngoại tuyến)`,
      );
    if (installed && policy.version === installed.version) {
      // the same policy again: nothing to store
      return this.#current as TrustPolicyRecord;
    }
    const rec: TrustPolicyRecord = {
      version: policy.version,
      policy,
      uploadedAt: new Date(this.#now()).toISOString(),
      uploadedBy: by,
    };
    await this.#store.trust.put(rec);
    this.#current = rec;
    for (const fn of this.#listeners) fn(policy);
    return rec;
  }
}
