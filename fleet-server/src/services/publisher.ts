/**
 * Bundles: compose from the content library, the approval workflow with signatures (server-held
 * per-user keys, or signatures made offline with `loa bundle sign` and uploaded), verification with
 * the protocol's verifyManifest, publication (notify the targeted devices) and the rollout view.
 */
import {
  checkSignatures,
  documentDigest,
  itemBlobs,
  LoaError,
  type Manifest,
  ManifestSchema,
  publicKeyFromRaw,
  requiredRoles,
  type Signature,
  SignatureSchema,
  type Status,
  targetMatches,
  thresholdFor,
  verifyManifest,
} from '@loa/protocol';
import type { Logger } from 'pino';
import * as flow from '../domain/approval.js';
import {
  type BundleDraft,
  type ContentLike,
  composeManifest,
  draftContentIds,
  targetUnits,
} from '../domain/bundle-compose.js';
import type { BundleRecord, ContentRecord, RolloutRecord } from '../domain/model.js';
import { inScope } from '../domain/rbac.js';
import { applyStatus, type RolloutEntry, type RolloutSummary, summarizeRollout } from '../domain/rollout.js';
import type { Store } from '../store/ports.js';
import type { BlobStore } from './blob-store.js';
import type { Notifier } from './notifier.js';
import type { Signer } from './signer.js';
import type { TrustService } from './trust-service.js';

export interface PublisherOptions {
  /** Force the two-person rule; by default it holds when the policy needs ≥ 2 content signatures. */
  twoPerson?: boolean;
}

export type PublisherEvent =
  | { type: 'bundle'; bundle: BundleRecord }
  | { type: 'rollout'; bundleId: string; entry: RolloutEntry };

interface AuditActor extends flow.Actor {
  ip?: string;
}

export function contentLike(c: ContentRecord): ContentLike {
  const out: ContentLike = { id: c.id, kind: c.kind, title: c.title, lang: c.lang };
  if (c.category) out.category = c.category;
  if (c.sha256) out.sha256 = c.sha256;
  if (c.size !== undefined) out.size = c.size;
  if (c.mediaType) out.mediaType = c.mediaType;
  if (c.text !== undefined) out.text = c.text;
  if (c.durationMs !== undefined) out.durationMs = c.durationMs;
  if (c.issuer) out.issuer = c.issuer;
  if (c.dated) out.dated = c.dated;
  return out;
}

export interface PublisherDeps {
  store: Store;
  blobs: BlobStore;
  signer: Signer;
  trust: TrustService;
  notifier: Notifier;
  logger: Logger;
  now: () => number;
  options?: PublisherOptions;
}

export class Publisher {
  readonly #d: PublisherDeps & { options: PublisherOptions };
  readonly #listeners = new Set<(e: PublisherEvent) => void>();

  constructor(d: PublisherDeps) {
    this.#d = { ...d, options: d.options ?? {} };
  }

  on(fn: (e: PublisherEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: PublisherEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'publisher listener failed');
      }
    }
  }

  #iso(): string {
    return new Date(this.#d.now()).toISOString();
  }

  async #audit(
    actor: AuditActor,
    action: string,
    b: BundleRecord,
    details?: Record<string, unknown>,
  ): Promise<void> {
    await this.#d.store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action,
      target: { type: 'bundle', id: b.id },
      ...(b.units[0] ? { unit: b.units[0] } : {}),
      ...(actor.ip ? { ip: actor.ip } : {}),
      details: { channel: b.channel, version: b.version, state: b.state, ...details },
    });
  }

  async get(id: string): Promise<BundleRecord> {
    const b = await this.#d.store.bundles.get(id);
    if (!b) throw new LoaError('BUNDLE_NOT_FOUND', `Không tìm thấy gói tin "${id.slice(0, 128)}"`);
    return b;
  }

  /** Content outside the actor's scope is treated as absent (CONTENT_NOT_FOUND): no reuse by id. */
  async #compose(draft: BundleDraft, version: number, actor: AuditActor, id?: string) {
    const content = new Map<string, ContentLike>();
    for (const id of draftContentIds(draft)) {
      const c = await this.#d.store.content.get(id);
      if (c && inScope(actor, c.unit)) content.set(c.id, contentLike(c));
    }
    return composeManifest(draft, content, { version, now: new Date(this.#d.now()), ...(id ? { id } : {}) });
  }

  /** Creates a draft; the next version of its channel is reserved for it. */
  async createDraft(draft: BundleDraft, actor: AuditActor): Promise<BundleRecord> {
    const units = targetUnits(draft.targets);
    flow.canEdit(actor, { state: 'draft', units });
    const version = (await this.#d.store.bundles.latestVersion(draft.channel)) + 1;
    const body = await this.#compose(draft, version, actor);
    const at = this.#iso();
    const rec: BundleRecord = {
      id: body.id,
      channel: body.channel,
      version,
      state: 'draft',
      manifest: { ...body, signatures: [] },
      units,
      createdBy: actor.id,
      createdAt: at,
      updatedAt: at,
      meta: { draft },
    };
    await this.#d.store.bundles.insert(rec);
    await this.#audit(actor, 'bundle.create', rec);
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  /** Replaces a draft's (or rejected bundle's) content; signatures are dropped. */
  async updateDraft(id: string, draft: BundleDraft, actor: AuditActor): Promise<BundleRecord> {
    const b = await this.get(id);
    flow.canEdit(actor, b);
    if (draft.channel !== b.channel)
      throw new LoaError('BUNDLE_CHANNEL_CONFLICT', 'Không thể đổi kênh của gói tin đã tạo');
    const units = targetUnits(draft.targets);
    flow.canEdit(actor, { state: b.state, units });
    const body = await this.#compose(draft, b.version, actor, b.id);
    const rec = await this.#d.store.bundles.update(id, {
      manifest: { ...body, signatures: [] },
      units,
      state: 'draft',
      approvedBy: [],
      updatedAt: this.#iso(),
      meta: { ...b.meta, draft },
    });
    await this.#audit(actor, 'bundle.update', rec);
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  /** Checks that a user key may sign this manifest (delegated, role, scope) before signing. */
  #checkDelegation(keyid: string, m: Manifest): void {
    const trust = this.#d.trust.require();
    const k = trust.keys.find((x) => x.keyid === keyid);
    if (!k)
      throw new LoaError('KEY_NOT_DELEGATED', 'Khóa ký của bạn chưa có trong chính sách tin cậy của tỉnh', {
        details: { keyid },
      });
    const roles = requiredRoles(m);
    if (!roles.some((r) => k.roles.includes(r)))
      throw new LoaError('ROLE_NOT_AUTHORISED', `Khóa của bạn không có vai trò ký ${roles.join(', ')}`);
    const outside = m.targets
      .map((t) => t.unit)
      .filter((u) => !k.scope.some((s) => u === s || u.startsWith(`${s}/`)));
    if (outside.length > 0)
      throw new LoaError(
        'SCOPE_NOT_COVERED',
        `Khóa của bạn không được ủy quyền cho đơn vị ${outside.join(', ')}`,
        {
          details: { units: outside },
        },
      );
  }

  async #signWithServerKey(b: BundleRecord, actor: AuditActor): Promise<Manifest> {
    const rec = await this.#d.signer.active(actor.id);
    if (!rec) throw new LoaError('SIGNING_KEY_NOT_FOUND', 'Bạn chưa có khóa ký trên máy chủ');
    this.#checkDelegation(rec.keyid, b.manifest);
    const { doc } = await this.#d.signer.sign(actor.id, b.manifest);
    return doc as Manifest;
  }

  /** Editor sends the draft for approval, signing it with their server-held key when `sign`. */
  async submit(id: string, actor: AuditActor, opts: { sign?: boolean } = {}): Promise<BundleRecord> {
    const b = await this.get(id);
    const next = flow.submit(actor, b);
    const manifest = opts.sign ? await this.#signWithServerKey(b, actor) : b.manifest;
    const rec = await this.#d.store.bundles.update(id, {
      ...next,
      manifest,
      submittedAt: this.#iso(),
      approvedBy: [],
      updatedAt: this.#iso(),
    });
    await this.#audit(actor, 'bundle.submit', rec, { signed: opts.sign === true });
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  #workflowPolicy(): flow.WorkflowPolicy {
    const trust = this.#d.trust.current();
    const twoPerson = this.#d.options.twoPerson ?? (trust ? thresholdFor(trust, 'content') >= 2 : false);
    return { approvals: 1, twoPerson };
  }

  async approve(id: string, actor: AuditActor, opts: { sign?: boolean } = {}): Promise<BundleRecord> {
    const b = await this.get(id);
    const next = flow.approve(actor, b, this.#workflowPolicy());
    const manifest = opts.sign ? await this.#signWithServerKey(b, actor) : b.manifest;
    const rec = await this.#d.store.bundles.update(id, {
      ...next,
      manifest,
      ...(next.state === 'approved' ? { approvedAt: this.#iso() } : {}),
      updatedAt: this.#iso(),
    });
    await this.#audit(actor, 'bundle.approve', rec, { signed: opts.sign === true });
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  async reject(id: string, actor: AuditActor, reason: string): Promise<BundleRecord> {
    const b = await this.get(id);
    const next = flow.reject(actor, b, reason);
    const rec = await this.#d.store.bundles.update(id, {
      state: next.state,
      rejectedBy: actor.id,
      rejectedReason: next.reason,
      updatedAt: this.#iso(),
    });
    await this.#audit(actor, 'bundle.reject', rec, { reason: next.reason });
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  /**
   * Adds signatures made offline (`loa bundle sign`): either `{signatures: [...]}` or the whole
   * signed manifest. Each must verify against a key of the trust policy over THIS manifest.
   */
  async addSignatures(id: string, input: unknown, actor: AuditActor): Promise<BundleRecord> {
    const b = await this.get(id);
    flow.checkScope(actor, b.units);
    if (b.state === 'published' || b.state === 'withdrawn')
      throw new LoaError('BUNDLE_STATE_CONFLICT', `Không thể ký gói tin đang ở trạng thái "${b.state}"`);
    let sigs: Signature[];
    const asManifest = ManifestSchema.safeParse(input);
    if (asManifest.success) {
      if (documentDigest(asManifest.data) !== documentDigest(b.manifest))
        throw new LoaError('SIGNATURE_MISMATCH', 'Bản kê khai đã ký khác với gói tin trên máy chủ');
      sigs = asManifest.data.signatures;
    } else {
      const r = SignatureSchema.array()
        .min(1)
        .max(16)
        .safeParse((input as { signatures?: unknown })?.signatures);
      if (!r.success)
        throw new LoaError('VALIDATION_FAILED', 'Cần {signatures: [{keyid, sig}]} hoặc bản kê khai đã ký');
      sigs = r.data;
    }
    const trust = this.#d.trust.require();
    const byId = new Map(trust.keys.map((k) => [k.keyid, k] as const));
    const check = checkSignatures({ ...b.manifest, signatures: sigs }, (kid) => {
      const k = byId.get(kid);
      return k ? publicKeyFromRaw(k.publicKey) : undefined;
    });
    if (check.invalid.length > 0) throw new LoaError('SIGNATURE_INVALID', 'Chữ ký không khớp với gói tin');
    if (check.unknown.length > 0)
      throw new LoaError('KEY_UNKNOWN', 'Chữ ký bởi khóa không có trong chính sách tin cậy', {
        details: { keyids: check.unknown },
      });
    for (const kid of check.valid) this.#checkDelegation(kid, b.manifest);
    const kept = b.manifest.signatures.filter((s) => !check.valid.includes(s.keyid));
    const added = sigs.filter((s) => check.valid.includes(s.keyid));
    const unique = new Map([...kept, ...added].map((s) => [s.keyid, s] as const));
    const rec = await this.#d.store.bundles.update(id, {
      manifest: { ...b.manifest, signatures: [...unique.values()] },
      updatedAt: this.#iso(),
    });
    await this.#audit(actor, 'bundle.signature.add', rec, { keyids: check.valid });
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  /**
   * Publishes an approved bundle: verifyManifest against the installed trust policy, every blob
   * present with its signed size, the version newer than what the channel last published; then
   * notify the targeted devices and start the rollout view.
   */
  async publish(id: string, actor: AuditActor): Promise<BundleRecord> {
    const b = await this.get(id);
    const next = flow.publish(actor, b);
    const trust = this.#d.trust.require();
    verifyManifest(b.manifest, { trust, now: new Date(this.#d.now()) });
    for (const it of b.manifest.items) {
      for (const blob of itemBlobs(it)) {
        const s = await this.#d.blobs.stat(blob.sha256);
        if (!s)
          throw new LoaError('BLOB_MISSING', `Thiếu tệp ${blob.sha256.slice(0, 12)}… của mục "${it.id}"`);
        if (s.size !== blob.size)
          throw new LoaError('BLOB_SIZE_MISMATCH', `Tệp của mục "${it.id}" sai kích thước`);
      }
    }
    const newer = await this.#d.store.bundles.list(
      (x) => x.channel === b.channel && x.state === 'published' && x.version >= b.version,
    );
    if (newer.length > 0)
      throw new LoaError(
        'BUNDLE_VERSION_CONFLICT',
        `Kênh "${b.channel}" đã phát hành phiên bản ${newer[0]?.version}; hãy tạo gói mới`,
      );
    const at = this.#iso();
    const rec = await this.#d.store.bundles.update(id, {
      ...next,
      publishedBy: actor.id,
      publishedAt: at,
      updatedAt: at,
    });
    await this.#audit(actor, 'bundle.publish', rec);
    const devices = await this.#d.notifier.targetedDevices(b.manifest.targets);
    await this.#d.store.rollouts.putMany(
      devices.map((d) => ({ bundleId: b.id, deviceId: d.id, state: 'notified', updatedAt: at })),
    );
    // the published record is on disk before any station hears of it (the registry coalesces its
    // writes): a server that crashes after the notify comes back knowing this version
    await this.#d.store.flush();
    const topics = await this.#d.notifier.notifyBundle(rec.manifest);
    await this.#retireRollouts(b.channel, b.version);
    this.#d.logger.info({ bundle: b.id, devices: devices.length, topics: topics.length }, 'bundle published');
    this.#emit({ type: 'bundle', bundle: rec });
    return rec;
  }

  /**
   * A device came (back) online: notify it of the newest published, unexpired bundle of each
   * channel that targets it, unless its last health report says it already runs that version.
   * Notifications are not retained on the broker, so this is how an offline station catches up.
   */
  async catchUp(
    deviceId: string,
    installed: readonly { channel: string; version: number }[] = [],
  ): Promise<string[]> {
    const d = await this.#d.store.devices.get(deviceId);
    if (d?.status !== 'active') return [];
    const now = this.#d.now();
    const me = { unit: d.unit, deviceId: d.id, groups: d.groups };
    const latest = new Map<string, BundleRecord>();
    for (const b of await this.#d.store.bundles.list((x) => x.state === 'published')) {
      if (Date.parse(b.manifest.expires) <= now) continue;
      if (!b.manifest.targets.some((t) => targetMatches(t, me))) continue;
      const cur = latest.get(b.channel);
      if (!cur || b.version > cur.version) latest.set(b.channel, b);
    }
    const sent: string[] = [];
    for (const b of latest.values()) {
      if (installed.some((i) => i.channel === b.channel && i.version >= b.version)) continue;
      await this.#d.notifier.notifyDevice(deviceId, b.manifest);
      if (!b.emergency && !(await this.#d.store.rollouts.get(b.id, deviceId)))
        await this.#d.store.rollouts.put({
          bundleId: b.id,
          deviceId,
          state: 'notified',
          updatedAt: new Date(now).toISOString(),
        });
      sent.push(b.id);
    }
    return sent;
  }

  /**
   * Retention: a channel's rollout rows are kept for its newest published version and the one
   * before (the one stations roll back to); older versions keep only their final counts, in the
   * bundle record (meta.rolloutSummary). Without this the registry, which is rewritten whole on
   * every change, would grow by one row per device and bundle for ever (a province publishing a
   * few bulletins a day per commune adds millions of rows a year). Proofs of play, in their own
   * append-only stream, stay the complete record of what played.
   */
  async #retireRollouts(channel: string, newVersion: number): Promise<void> {
    const older = (
      await this.#d.store.bundles.list(
        (x) => x.channel === channel && x.state === 'published' && x.version < newVersion,
      )
    ).sort((a, b) => b.version - a.version);
    for (const old of older.slice(1)) {
      const entries = await this.#d.store.rollouts.forBundle(old.id);
      if (entries.length === 0) continue;
      const rolloutSummary = { ...summarizeRollout(entries), at: this.#iso() };
      await this.#d.store.bundles.update(old.id, { meta: { ...(old.meta ?? {}), rolloutSummary } });
      const n = await this.#d.store.rollouts.deleteForBundle(old.id);
      this.#d.logger.debug({ bundle: old.id, rows: n }, 'rollout rows retired; counts kept');
    }
  }

  /**
   * Per-device rollout of a bundle with a summary (devices targeted but silent count as pending).
   * For a version two or more behind the channel's newest, only the final counts remain
   * (`archived: true`, no entries).
   */
  async rollout(
    id: string,
  ): Promise<{ bundle: BundleRecord; entries: RolloutRecord[]; summary: RolloutSummary; archived?: true }> {
    const bundle = await this.get(id);
    const archived = bundle.meta?.rolloutSummary as (RolloutSummary & { at: string }) | undefined;
    if (archived) {
      const { at: _at, ...summary } = archived;
      return { bundle, entries: [], summary, archived: true };
    }
    const entries = await this.#d.store.rollouts.forBundle(id);
    const targeted =
      bundle.state === 'published'
        ? (await this.#d.notifier.targetedDevices(bundle.manifest.targets)).length
        : 0;
    return { bundle, entries, summary: summarizeRollout(entries, targeted) };
  }

  /** A device's status report (from ingest): updates its rollout entry. */
  async applyStatus(deviceId: string, s: Status): Promise<RolloutEntry | undefined> {
    const b = await this.#d.store.bundles.get(s.bundleId);
    // retired versions keep their final counts only (see #retireRollouts)
    if (!b || b.emergency || b.meta?.rolloutSummary) return undefined;
    const cur = await this.#d.store.rollouts.get(b.id, deviceId);
    const next = applyStatus(
      cur,
      s,
      { id: b.id, channel: b.channel, version: b.version },
      deviceId,
      new Date(this.#d.now()),
    );
    if (!next) return undefined;
    await this.#d.store.rollouts.put(next);
    this.#emit({ type: 'rollout', bundleId: b.id, entry: next });
    return next;
  }
}
