/**
 * Recalls: the signed withdrawal of a published bundle (protocol/src/recall.ts); for an emergency,
 * its cancel. A person who may publish that priority (emergency.send for an emergency,
 * bundle.publish otherwise) asks for it with a reason; the server signs the recall with their
 * server-held key. Where the trust policy wants more signatures for the bundle's role than one
 * (two-person rule), the recall waits for a second person to ask too; once it verifies, it is
 * published (QoS 1) on the recall topics of the bundle's targets, the bundle becomes `recalled`
 * (no longer offered to stations, no longer caught up) and the recall is re-sent to every targeted
 * station that reconnects until the bundle would have expired. Stations answer with a signed
 * proof `withdrawn`; the count of stations that did is kept with the bundle.
 */
import { randomBytes } from 'node:crypto';
import {
  deviceTopic,
  isLoaError,
  LoaError,
  type Proof,
  type Recall,
  type RecallBody,
  RecallNotifySchema,
  requiredRoles,
  targetMatches,
  unitTopic,
  verifyRecall,
} from '@loa/protocol';
import type { Logger } from 'pino';
import type { BrokerApi } from '../broker/types.js';
import type { BundleRecord } from '../domain/model.js';
import { can, type Principal, requirePermission, requireScope } from '../domain/rbac.js';
import { mayDropRecall, type RecallState, recallOf } from '../domain/recall.js';
import type { Store } from '../store/ports.js';
import type { Notifier } from './notifier.js';
import type { Signer } from './signer.js';
import type { TrustService } from './trust-service.js';

export interface RecallView {
  bundleId: string;
  state: 'pending' | 'published';
  reason: string;
  /** Signatures on the recall and how many the policy wants. */
  signatures: number;
  needed: number;
  targeted: number;
  withdrawn: number;
  publishedAt?: string;
}

export interface RecallDeps {
  store: Store;
  broker: BrokerApi;
  signer: Signer;
  trust: TrustService;
  notifier: Notifier;
  logger: Logger;
  now: () => number;
}

type Actor = Principal & { ip?: string };

export class RecallService {
  readonly #d: RecallDeps;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(d: RecallDeps) {
    this.#d = { ...d, logger: d.logger.child({ module: 'recall' }) };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Who may recall a bundle: the permission to publish its priority, over all of its units. A
   * second signature on a pending recall (two-person rule) may also come from an editor or an
   * approver, as the bundle's own signatures did.
   */
  static authorise(actor: Principal, b: BundleRecord, cosign = false): void {
    if (cosign && !b.emergency && (can(actor.role, 'bundle.compose') || can(actor.role, 'bundle.approve'))) {
      // co-signing a withdrawal, like signing the draft or approving it
    } else requirePermission(actor, b.emergency ? 'emergency.send' : 'bundle.publish');
    for (const u of b.units) requireScope(actor, u);
  }

  /** Asks for (or co-signs) the recall of a published bundle. */
  recall(bundleId: string, reason: string, actor: Actor): Promise<RecallView> {
    return this.#serial(() => this.#recall(bundleId, reason, actor));
  }

  async #recall(bundleId: string, reasonIn: string, actor: Actor): Promise<RecallView> {
    const { store, signer, trust } = this.#d;
    const b = await store.bundles.get(bundleId);
    if (!b) throw new LoaError('BUNDLE_NOT_FOUND', `Không tìm thấy gói tin "${bundleId.slice(0, 128)}"`);
    const pending = recallOf(b);
    RecallService.authorise(actor, b, pending?.state === 'pending');
    if (b.state === 'recalled') return this.#view(b);
    if (b.state !== 'published')
      throw new LoaError('BUNDLE_STATE_CONFLICT', `Chỉ gỡ được gói tin đã phát hành (đang là "${b.state}")`);
    const reason = reasonIn.trim();
    if (!reason) throw new LoaError('REASON_REQUIRED', 'Cần ghi lý do gỡ chương trình');
    const policy = trust.require();
    const key = await signer.active(actor.id);
    if (!key) throw new LoaError('SIGNING_KEY_NOT_FOUND', 'Bạn chưa có khóa ký trên máy chủ');
    const roles = requiredRoles(b.manifest);
    const delegated = policy.keys.find((k) => k.keyid === key.keyid);
    const missing = roles.filter((r) => !delegated?.roles.includes(r));
    if (missing.length > 0)
      throw new LoaError(
        'ROLE_NOT_AUTHORISED',
        `Khóa của bạn chưa được tỉnh ủy quyền vai trò ${missing.join(', ')} để gỡ gói tin này`,
      );
    const at = new Date(this.#d.now()).toISOString();
    const body: RecallBody = pending
      ? (({ signatures: _s, ...rest }) => rest)(pending.document)
      : {
          type: 'loa-recall',
          format: 1,
          id: `r-${randomBytes(8).toString('hex')}`,
          bundleId: b.id,
          channel: b.channel,
          version: b.version,
          roles,
          targets: b.manifest.targets,
          reason: reason.slice(0, 500),
          issued: at,
          expires: b.manifest.expires,
        };
    const kept = (pending?.document.signatures ?? []).filter((s) => s.keyid !== key.keyid);
    const { doc } = await signer.sign(actor.id, { ...body, signatures: kept });
    const document = doc as Recall;
    const requestedBy = [...new Set([...(pending?.requestedBy ?? []), actor.id])];
    let complete = true;
    try {
      verifyRecall(document, { trust: policy, now: new Date(this.#d.now()), manifest: b.manifest });
    } catch (e) {
      if (!isLoaError(e) || e.code !== 'THRESHOLD_UNMET') throw e;
      complete = false;
    }
    const state: RecallState = complete
      ? {
          document,
          state: 'published',
          requestedBy,
          requestedAt: pending?.requestedAt ?? at,
          publishedAt: at,
          targeted: (await this.#d.notifier.targetedDevices(b.manifest.targets)).map((d) => d.id),
          withdrawn: [],
        }
      : {
          document,
          state: 'pending',
          requestedBy,
          requestedAt: pending?.requestedAt ?? at,
          targeted: [],
          withdrawn: [],
        };
    const rec = await store.bundles.update(b.id, {
      ...(complete ? { state: 'recalled' as const } : {}),
      meta: { ...(b.meta ?? {}), recall: state },
      updatedAt: at,
    });
    await store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action: complete ? 'bundle.recall' : 'bundle.recall.sign',
      target: { type: 'bundle', id: b.id },
      ...(b.units[0] ? { unit: b.units[0] } : {}),
      ...(actor.ip ? { ip: actor.ip } : {}),
      details: {
        channel: b.channel,
        version: b.version,
        reason: document.reason,
        recall: document.id,
        emergency: b.emergency === true,
        signatures: document.signatures.length,
      },
    });
    if (complete) {
      const topics = await this.#publish(document);
      this.#d.logger.warn(
        { bundle: b.id, channel: b.channel, version: b.version, topics: topics.length },
        'bundle recalled',
      );
    }
    return this.#view(rec);
  }

  /**
   * Drops a pending recall (not yet signed by enough people): the person who asked for it, or
   * someone who may approve that priority, changes their mind. Audited.
   */
  drop(bundleId: string, actor: Actor): Promise<void> {
    return this.#serial(async () => {
      const { store } = this.#d;
      const b = await store.bundles.get(bundleId);
      if (!b) throw new LoaError('BUNDLE_NOT_FOUND', `Không tìm thấy gói tin "${bundleId.slice(0, 128)}"`);
      for (const u of b.units) requireScope(actor, u);
      const r = recallOf(b);
      if (r?.state !== 'pending')
        throw new LoaError(
          'RECALL_CONFLICT',
          r
            ? 'Lệnh gỡ đã đủ chữ ký và đã gửi tới các trạm, không huỷ được'
            : 'Chương trình này không có yêu cầu gỡ nào đang chờ',
        );
      if (!mayDropRecall(actor, b, r))
        throw new LoaError(
          'FORBIDDEN_ROLE',
          'Chỉ người đã yêu cầu gỡ hoặc người có quyền phê duyệt mới huỷ được yêu cầu gỡ',
        );
      const { recall: _r, ...meta } = b.meta ?? {};
      await store.bundles.update(b.id, { meta, updatedAt: new Date(this.#d.now()).toISOString() });
      await store.audit.append({
        actor: { type: 'user', id: actor.id, name: actor.username },
        action: 'bundle.recall.drop',
        target: { type: 'bundle', id: b.id },
        ...(b.units[0] ? { unit: b.units[0] } : {}),
        ...(actor.ip ? { ip: actor.ip } : {}),
        details: {
          channel: b.channel,
          version: b.version,
          recall: r.document.id,
          recallReason: r.document.reason,
          signatures: r.document.signatures.length,
          requestedBy: r.requestedBy,
        },
      });
    });
  }

  async #publish(r: Recall): Promise<string[]> {
    // the recall's record is on disk before any station hears of it (the registry coalesces writes)
    await this.#d.store.flush();
    const msg = this.#message(r);
    const topics = new Set<string>();
    for (const t of r.targets) {
      if (!t.devices && !t.groups) topics.add(unitTopic(t.unit, 'recall'));
      else
        for (const d of await this.#d.notifier.targetedDevices([t])) topics.add(deviceTopic(d.id, 'recall'));
    }
    await Promise.all([...topics].map((t) => this.#d.broker.publish(t, msg, { qos: 1 })));
    return [...topics];
  }

  #message(r: Recall) {
    return RecallNotifySchema.parse({ recall: r, serverTime: new Date(this.#d.now()).toISOString() });
  }

  /** The recall of a bundle as the dashboard shows it ("đã gỡ trên N/M trạm"). */
  async view(bundleId: string): Promise<RecallView | undefined> {
    const b = await this.#d.store.bundles.get(bundleId);
    return b && recallOf(b) ? this.#view(b) : undefined;
  }

  #view(b: BundleRecord): RecallView {
    const r = recallOf(b);
    if (!r) throw new LoaError('RECALL_NOT_FOUND', `Gói tin "${b.id}" chưa có lệnh gỡ`);
    const trust = this.#d.trust.current();
    const needed = Math.max(1, ...r.document.roles.map((role) => trust?.thresholds[role] ?? 1));
    return {
      bundleId: b.id,
      state: r.state,
      reason: r.document.reason,
      signatures: r.document.signatures.length,
      needed,
      targeted: r.targeted.length,
      withdrawn: r.withdrawn.filter((id) => r.targeted.includes(id)).length,
      ...(r.publishedAt ? { publishedAt: r.publishedAt } : {}),
    };
  }

  /** A station's `withdrawn` proof: counts it once. */
  applyProof(deviceId: string, p: Proof): Promise<void> {
    if (p.outcome !== 'withdrawn' || !p.bundleId) return Promise.resolve();
    const bundleId = p.bundleId;
    return this.#serial(async () => {
      const b = await this.#d.store.bundles.get(bundleId);
      const r = b && recallOf(b);
      if (!b || !r || r.withdrawn.includes(deviceId)) return;
      await this.#d.store.bundles.update(b.id, {
        meta: { ...(b.meta ?? {}), recall: { ...r, withdrawn: [...r.withdrawn, deviceId] } },
      });
    });
  }

  /**
   * A station came (back) online: re-send it every live recall of a bundle that targets it (it
   * may have been offline, or have lost its list); a station that already obeyed ignores it.
   */
  async catchUp(deviceId: string): Promise<string[]> {
    const d = await this.#d.store.devices.get(deviceId);
    if (d?.status !== 'active') return [];
    const now = this.#d.now();
    const me = { unit: d.unit, deviceId: d.id, groups: d.groups };
    const sent: string[] = [];
    for (const b of await this.#d.store.bundles.list((x) => x.state === 'recalled')) {
      const r = recallOf(b);
      if (r?.state !== 'published' || Date.parse(r.document.expires) <= now) continue;
      if (!r.document.targets.some((t) => targetMatches(t, me))) continue;
      await this.#d.broker.publish(deviceTopic(deviceId, 'recall'), this.#message(r.document), { qos: 1 });
      sent.push(b.id);
    }
    return sent;
  }
}
