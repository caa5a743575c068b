/**
 * Ingest of device uplinks (health, proofs, statuses, presence) from the broker.
 *
 * Proofs: verified with the device's enrolled key, checked against the device's chain (seq/prev),
 * duplicates dropped, gaps counted; accepted proofs are appended to the durable proof stream
 * (fsync'd; proofs from many devices share one fsync) BEFORE the ack (AckSchema) goes back to the
 * device. Proofs of one device are handled strictly in order.
 * Health: appended to the health stream (batched fsync) and kept as the latest state in memory.
 */
import type { KeyObject } from 'node:crypto';
import {
  type Ack,
  canonicalize,
  deviceTopic,
  type Health,
  keyId,
  LoaError,
  type Proof,
  proofsOf,
  publicKeyFromRaw,
  type Status,
} from '@loa/protocol';
import type { Logger } from 'pino';
import type { HealthShare } from '../broker/cluster-shared.js';
import type { BrokerApi, DeviceMessage, PresenceInfo } from '../broker/types.js';
import { withDefaults } from '../defaults.js';
import {
  applyHealth,
  applyPresence,
  applyProof,
  type DeviceLiveState,
  emptyLiveState,
  keepInHistory,
} from '../domain/ingest.js';
import type { HealthEntry, ProofEntry } from '../domain/model.js';
import { type ChainState, type ChainVerdict, checkProofsAsync } from '../domain/proof-chain.js';
import { METRIC, type Metrics } from '../metrics.js';
import type { Store } from '../store/ports.js';

export type IngestEvent =
  | { type: 'health'; deviceId: string; health: Health; state: DeviceLiveState }
  | { type: 'proof'; deviceId: string; proof: Proof; gap?: { from: number; to: number } }
  | { type: 'proof-rejected'; deviceId: string; code: string; message: string; seq: number }
  | { type: 'status'; deviceId: string; status: Status }
  | { type: 'presence'; deviceId: string; online: boolean; state: DeviceLiveState };

/** Hooks other services plug in (alerts, rollouts, emergency tracking). */
export interface IngestHooks {
  onState?(state: DeviceLiveState): void | Promise<void>;
  onStatus?(deviceId: string, s: Status): void | Promise<void>;
  onProof?(deviceId: string, p: Proof): void | Promise<void>;
  /**
   * The first health report after the device's connection came up (it reports after it has
   * subscribed, so a catch-up notification sent now reaches it). `state.health` is that report.
   */
  onReconnected?(deviceId: string, state: DeviceLiveState): void | Promise<void>;
}

export interface ProofResult {
  verdict: ChainVerdict['kind'];
  code?: string;
  /** What was acked to the device (undefined: nothing). */
  ackUpToSeq?: number;
}

interface DeviceInfo {
  key: KeyObject;
  keyid: string;
  unit: string;
}

/** At most this many proofs of one device share an ack. */
const ACK_EVERY = 32;

/** Groups durable appends of many devices into one write and one fsync. */
class ProofBatcher {
  #queue: {
    entries: ProofEntry[];
    texts: string[];
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  #scheduled = false;
  constructor(private readonly store: Pick<Store, 'proofs'>) {}

  /**
   * Appends the entries (one device's accepted proofs of one message) durably; `texts[i]` is the
   * canonical text of `entries[i].proof`.
   */
  append(entries: ProofEntry[], texts: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entries, texts, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    try {
      if (batch.length === 1) {
        const only = batch[0] as (typeof batch)[number];
        await this.store.proofs.appendMany(only.entries, only.texts);
      } else
        await this.store.proofs.appendMany(
          batch.flatMap((b) => b.entries),
          batch.flatMap((b) => b.texts),
        );
      for (const b of batch) b.resolve();
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }
}

export const INGEST_DEFAULTS = {
  /** Seconds between two health reports of a device kept in the history (0 = keep every one). */
  healthHistoryEveryS: 0,
};

export interface IngestDeps {
  store: Store;
  broker: BrokerApi;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Clustered: every device's newest health, shared with the other nodes. */
  healthShare?: HealthShare;
}

export class IngestService {
  readonly #d: IngestDeps;
  readonly #hooks: IngestHooks[] = [];
  readonly #listeners = new Set<(e: IngestEvent) => void>();
  readonly #live = new Map<string, DeviceLiveState>();
  readonly #chains = new Map<string, ChainState>();
  readonly #devices = new Map<string, DeviceInfo>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #batcher: ProofBatcher;
  readonly #unsub: (() => void)[] = [];
  /** Proof messages received per device and not yet handled (queued behind the current one). */
  readonly #pendingProofs = new Map<string, number>();
  /** Acks owed per device: held back while more of its proofs wait, then sent once (cumulative). */
  readonly #owedAcks = new Map<string, { upToSeq: number; count: number }>();
  /** Devices whose next health report is their first since (re)connecting. */
  readonly #reconnected = new Set<string>();

  /** The last health report written to the history, per device (see keepInHistory). */
  readonly #lastKept = new Map<string, { atMs: number; health: Health }>();
  readonly #healthEveryMs: number;

  constructor(d: IngestDeps, opts: { healthHistoryEveryS?: number } = {}) {
    this.#d = { ...d, logger: d.logger.child({ module: 'ingest' }) };
    this.#batcher = new ProofBatcher(d.store);
    this.#healthEveryMs = withDefaults(INGEST_DEFAULTS, opts).healthHistoryEveryS * 1000;
  }

  addHooks(h: IngestHooks): void {
    this.#hooks.push(h);
  }

  on(fn: (e: IngestEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: IngestEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'ingest listener failed');
      }
    }
  }

  /** Rebuilds the latest state from the streams and subscribes to the broker. */
  async start(): Promise<void> {
    const now = this.#d.now();
    const { store, metrics } = this.#d;
    metrics.define('loa_proofs_accepted_total', 'counter', 'Proofs stored');
    metrics.define('loa_proofs_duplicate_total', 'counter', 'Proofs dropped as duplicates');
    metrics.define('loa_proofs_rejected_total', 'counter', 'Proofs rejected (forged, foreign, chain broken)');
    metrics.define('loa_proof_gaps_total', 'counter', 'Proof seqs that never arrived');
    metrics.define('loa_health_ingested_total', 'counter', 'Health reports ingested');
    metrics.define(
      'loa_health_history_skipped_total',
      'counter',
      'Health reports not written to the history (nothing notable changed within the interval)',
    );
    const share = this.#d.healthShare;
    if (share) {
      // what the other nodes received (newer than this node's own store wins)
      for (const e of await share.all()) store.health.remember(e);
      this.#unsub.push(share.on((e) => void this.#remoteHealth(e)));
    }
    for (const d of await store.devices.list((x) => x.status === 'active' || x.status === 'pending')) {
      let s = emptyLiveState(d.id, d.unit, now);
      const h = store.health.latest(d.id);
      if (h)
        s = {
          ...s,
          health: h.health,
          healthAtMs: Date.parse(h.receivedAt),
          lastSeenMs: Date.parse(h.receivedAt),
        };
      const p = this.#d.broker.presence(d.id);
      if (p) s = applyPresence(s, p.connected, p.since);
      else s = { ...s, offlineSinceMs: s.lastSeenMs };
      this.#live.set(d.id, s);
    }
    this.#unsub.push(this.#d.broker.onDeviceMessage((m) => this.handle(m)));
    this.#unsub.push(this.#d.broker.onPresence((p) => this.#presence(p)));
  }

  async stop(): Promise<void> {
    for (const u of this.#unsub.splice(0)) u();
    await Promise.allSettled([...this.#queues.values()]);
  }

  live(deviceId: string): DeviceLiveState | undefined {
    return this.#live.get(deviceId);
  }

  liveAll(): ReadonlyMap<string, DeviceLiveState> {
    return this.#live;
  }

  async #device(deviceId: string): Promise<DeviceInfo | undefined> {
    const cached = this.#devices.get(deviceId);
    if (cached) return cached;
    const rec = await this.#d.store.devices.get(deviceId);
    if (!rec || (rec.status !== 'active' && rec.status !== 'pending')) return undefined;
    const key = publicKeyFromRaw(rec.publicKey);
    const info = { key, keyid: keyId(key), unit: rec.unit };
    this.#devices.set(deviceId, info);
    return info;
  }

  /** Forget cached keys (after a revoke or re-enrolment). */
  forgetDevice(deviceId: string): void {
    this.#devices.delete(deviceId);
  }

  #state(deviceId: string, unit: string): DeviceLiveState {
    let s = this.#live.get(deviceId);
    if (!s) {
      s = emptyLiveState(deviceId, unit, this.#d.now());
      this.#live.set(deviceId, s);
    }
    return s;
  }

  /**
   * Runs a callback of every hook in order. A hook without this callback, or one that answers
   * synchronously, costs no promise and no extra turn: undefined is returned when every hook
   * answered synchronously, otherwise a promise of the rest.
   */
  #runHooks(fn: (h: IngestHooks) => void | Promise<void> | undefined): Promise<void> | undefined {
    const hooks = this.#hooks;
    for (let i = 0; i < hooks.length; i++) {
      try {
        const r = fn(hooks[i] as IngestHooks);
        if (r !== undefined) return this.#finishHooks(r, i + 1, fn);
      } catch (err) {
        this.#d.logger.warn({ err }, 'ingest hook failed');
      }
    }
    return undefined;
  }

  async #finishHooks(
    pending: Promise<void>,
    from: number,
    fn: (h: IngestHooks) => void | Promise<void> | undefined,
  ): Promise<void> {
    try {
      await pending;
    } catch (err) {
      this.#d.logger.warn({ err }, 'ingest hook failed');
    }
    const hooks = this.#hooks;
    for (let i = from; i < hooks.length; i++) {
      try {
        const r = fn(hooks[i] as IngestHooks);
        if (r !== undefined) await r;
      } catch (err) {
        this.#d.logger.warn({ err }, 'ingest hook failed');
      }
    }
  }

  /** Entry point for broker messages. Never throws. */
  async handle(m: DeviceMessage): Promise<void> {
    try {
      switch (m.kind) {
        case 'proof':
          await this.ingestProofs(m.deviceId, proofsOf(m.payload));
          break;
        case 'health':
          await this.ingestHealth(m.deviceId, m.payload, m.receivedAt, m.json);
          break;
        case 'status':
          await this.ingestStatus(m.deviceId, m.payload);
          break;
        default:
          break;
      }
    } catch (err) {
      this.#d.logger.error({ err, deviceId: m.deviceId, kind: m.kind }, 'ingest failed');
    }
  }

  /**
   * A health report (validated by the broker). `json` is its text as received: the history
   * stores it as it came rather than serialising the report again.
   */
  async ingestHealth(deviceId: string, h: Health, receivedAt = this.#d.now(), json?: string): Promise<void> {
    // the device's key is cached after its first message: no extra await on the hot path
    const dev = this.#devices.get(deviceId) ?? (await this.#device(deviceId));
    if (!dev) return;
    const now = this.#d.now();
    let last = this.#lastKept.get(deviceId);
    if (!last && this.#healthEveryMs > 0) {
      const stored = this.#d.store.health.latest(deviceId);
      if (stored) last = { atMs: Date.parse(stored.receivedAt), health: stored.health };
    }
    const entry: HealthEntry = { deviceId, receivedAt: new Date(receivedAt).toISOString(), health: h };
    if (keepInHistory(last, h, receivedAt, this.#healthEveryMs)) {
      if (this.#healthEveryMs > 0) this.#lastKept.set(deviceId, { atMs: receivedAt, health: h });
      await this.#d.store.health.append(entry, json);
    } else this.#d.metrics.inc('loa_health_history_skipped_total');
    this.#d.healthShare?.put(entry);
    let s = applyHealth(this.#state(deviceId, dev.unit), h, now);
    let reconnected = this.#reconnected.delete(deviceId);
    if (!s.online && this.#d.broker.presence(deviceId)?.connected) {
      // the connection event has not reached the live state yet: this report is the first one
      s = applyPresence(s, true, now);
      reconnected = true;
    }
    this.#live.set(deviceId, s);
    this.#d.metrics.inc('loa_health_ingested_total');
    this.#d.metrics.set(METRIC.ingestLagSeconds, Math.max(0, (now - receivedAt) / 1000));
    this.#emit({ type: 'health', deviceId, health: h, state: s });
    await this.#runHooks((k) => k.onState?.(s));
    if (reconnected) {
      const state = s;
      await this.#runHooks((k) => k.onReconnected?.(deviceId, state));
    }
  }

  /**
   * A health report another node of the cluster received: the newest health and the live state
   * take it (when newer than what is held); its history and hooks (alert rules) were handled by
   * that node.
   */
  async #remoteHealth(e: HealthEntry): Promise<void> {
    try {
      const dev = await this.#device(e.deviceId);
      if (!dev) return;
      this.#d.store.health.remember(e);
      const at = Date.parse(e.receivedAt);
      const cur = this.#state(e.deviceId, dev.unit);
      if (cur.healthAtMs !== undefined && cur.healthAtMs > at) return;
      const s = applyHealth(cur, e.health, at);
      this.#live.set(e.deviceId, s);
      this.#emit({ type: 'health', deviceId: e.deviceId, health: e.health, state: s });
    } catch (err) {
      this.#d.logger.warn({ err, deviceId: e.deviceId }, 'health from another node not applied');
    }
  }

  /** A bundle status report; handled in order with the device's proofs. */
  ingestStatus(deviceId: string, s: Status): Promise<void> {
    return this.#serial(deviceId, async () => {
      if (!(await this.#device(deviceId))) return;
      this.#emit({ type: 'status', deviceId, status: s });
      await this.#runHooks((k) => k.onStatus?.(deviceId, s));
    });
  }

  /** Runs `fn` after everything queued for the device (proofs, statuses), in arrival order. */
  #serial<T>(deviceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(deviceId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tailP = run.catch(() => undefined);
    this.#queues.set(deviceId, tailP);
    void tailP.then(() => {
      if (this.#queues.get(deviceId) === tailP) this.#queues.delete(deviceId);
    });
    return run;
  }

  #presence(p: PresenceInfo): void {
    const cur = this.#live.get(p.deviceId);
    const online = p.connected && p.presence?.state !== 'offline';
    const base =
      cur ??
      (this.#devices.get(p.deviceId)
        ? this.#state(p.deviceId, this.#devices.get(p.deviceId)?.unit ?? '')
        : undefined);
    if (!base) {
      void this.#device(p.deviceId).then((d) => {
        if (d) this.#presence(p);
      });
      return;
    }
    const wasOnline = cur?.online === true;
    const s = applyPresence(base, online, this.#d.now());
    this.#live.set(p.deviceId, s);
    this.#emit({ type: 'presence', deviceId: p.deviceId, online, state: s });
    // a change seen by another node of a cluster ran its hooks (alert rules) there
    if (!p.remote) void this.#runHooks((k) => k.onState?.(s));
    if (online && !wasOnline) this.#reconnected.add(p.deviceId);
  }

  /** Verifies, chains, stores (durably) and acks one proof; per device strictly in order. */
  async ingestProof(deviceId: string, proof: Proof): Promise<ProofResult> {
    const [r] = await this.ingestProofs(deviceId, [proof]);
    return r as ProofResult;
  }

  /**
   * Several proofs of one device (a batch message, the HTTP upload): each is judged as if it had
   * come alone, in the given order (a bad one is refused, the others stand on their own); the
   * accepted ones are stored in one durable append, then one cumulative ack covers them.
   * Messages of one device are handled strictly in order.
   */
  ingestProofs(deviceId: string, proofs: readonly Proof[]): Promise<ProofResult[]> {
    this.#pendingProofs.set(deviceId, (this.#pendingProofs.get(deviceId) ?? 0) + 1);
    return this.#serial(deviceId, async () => {
      try {
        return await this.#proofs(deviceId, proofs);
      } finally {
        const left = (this.#pendingProofs.get(deviceId) ?? 1) - 1;
        if (left > 0) this.#pendingProofs.set(deviceId, left);
        else {
          this.#pendingProofs.delete(deviceId);
          this.#sendOwedAck(deviceId);
        }
      }
    });
  }

  /**
   * Acks are cumulative (upToSeq), so while more proofs of the same device wait in its queue the
   * ack is held and one ack covers them all: a device that sends a window of 8 proofs gets one ack,
   * not 8 (fewer downlink messages over 4G, fewer journal writes on the station's SD card). An ack
   * is never held past the device's queue draining, nor for more than ACK_EVERY proofs.
   */
  #owe(deviceId: string, upToSeq: number): void {
    const owed = this.#owedAcks.get(deviceId);
    const next = { upToSeq: Math.max(upToSeq, owed?.upToSeq ?? 0), count: (owed?.count ?? 0) + 1 };
    this.#owedAcks.set(deviceId, next);
    const more = (this.#pendingProofs.get(deviceId) ?? 1) > 1;
    if (!more || next.count >= ACK_EVERY) this.#sendOwedAck(deviceId);
  }

  #sendOwedAck(deviceId: string): void {
    const owed = this.#owedAcks.get(deviceId);
    if (!owed) return;
    this.#owedAcks.delete(deviceId);
    void this.#ack(deviceId, owed.upToSeq);
  }

  async #proofs(deviceId: string, proofs: readonly Proof[]): Promise<ProofResult[]> {
    const { store, metrics } = this.#d;
    // the device's key is cached after its first message: no extra await on the hot path
    const dev = this.#devices.get(deviceId) ?? (await this.#device(deviceId));
    if (!dev) {
      metrics.inc('loa_proofs_rejected_total', proofs.length);
      return proofs.map(() => ({ verdict: 'reject', code: 'DEVICE_UNKNOWN' }));
    }
    let chain = this.#chains.get(deviceId);
    if (!chain) {
      const last = store.proofs.last(deviceId);
      if (last) chain = { seq: last.seq, hash: last.hash };
    }
    // the signatures are checked in the thread pool; this device's chain cannot move meanwhile
    // (its messages are handled one at a time)
    const verdicts = await checkProofsAsync(proofs, deviceId, dev.key, () => chain, dev.keyid);
    const now = this.#d.now();
    const receivedAt = new Date(now).toISOString();
    const entries: ProofEntry[] = [];
    const texts: string[] = [];
    for (let i = 0; i < verdicts.length; i++) {
      const v = verdicts[i] as ChainVerdict;
      if (v.kind !== 'accept') continue;
      const proof = proofs[i] as Proof;
      entries.push({ deviceId, receivedAt, hash: v.hash, proof });
      texts.push(v.canonical ?? canonicalize(proof));
    }
    // one durable write for the accepted proofs of the message, before anything is acked
    if (entries.length > 0) await this.#batcher.append(entries, texts);
    const results: ProofResult[] = [];
    const accepted: { proof: Proof; gap?: { from: number; to: number } }[] = [];
    let s = this.#state(deviceId, dev.unit);
    let cur = chain;
    let ackUpTo: number | undefined;
    let rejected = false;
    let duplicates = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const v = verdicts[i] as ChainVerdict;
      const proof = proofs[i] as Proof;
      if (v.kind === 'reject') {
        rejected = true;
        metrics.inc('loa_proofs_rejected_total');
        s = { ...s, proofsRejected: s.proofsRejected + 1 };
        this.#d.logger.warn({ deviceId, seq: proof.seq, code: v.code }, v.message);
        this.#emit({ type: 'proof-rejected', deviceId, code: v.code, message: v.message, seq: proof.seq });
        results.push({ verdict: 'reject', code: v.code });
        continue;
      }
      if (v.kind === 'duplicate') {
        duplicates++;
        const upTo = cur?.seq ?? v.seq;
        ackUpTo = Math.max(ackUpTo ?? 0, upTo);
        results.push({ verdict: 'duplicate', ackUpToSeq: upTo });
        continue;
      }
      cur = v.state;
      if (v.gap) {
        metrics.inc('loa_proof_gaps_total', v.gap.to - v.gap.from + 1);
        s = { ...s, proofGaps: s.proofGaps + (v.gap.to - v.gap.from + 1) };
        this.#d.logger.warn({ deviceId, gap: v.gap }, 'proof gap: seqs never arrived');
      }
      ackUpTo = Math.max(ackUpTo ?? 0, v.state.seq);
      accepted.push(v.gap ? { proof, gap: v.gap } : { proof });
      results.push({ verdict: 'accept', ackUpToSeq: v.state.seq });
    }
    if (accepted.length > 0) {
      metrics.inc('loa_proofs_accepted_total', accepted.length);
      // in order; a refusal or a gap above touched other fields of the live state
      for (const a of accepted) s = applyProof(s, a.proof, now);
    }
    if (duplicates > 0) metrics.inc('loa_proofs_duplicate_total', duplicates);
    if (cur) this.#chains.set(deviceId, cur);
    this.#live.set(deviceId, s);
    // durable already; the ack is not awaited so a slow broker does not hold this device's next message
    if (ackUpTo !== undefined) this.#owe(deviceId, ackUpTo);
    for (const a of accepted) {
      this.#emit(
        a.gap
          ? { type: 'proof', deviceId, proof: a.proof, gap: a.gap }
          : { type: 'proof', deviceId, proof: a.proof },
      );
      const r = this.#runHooks((k) => k.onProof?.(deviceId, a.proof));
      if (r) await r;
    }
    if (accepted.length > 0 || rejected) {
      const state = s;
      const r = this.#runHooks((k) => k.onState?.(state));
      if (r) await r;
    }
    return results;
  }

  async #ack(deviceId: string, upToSeq: number): Promise<void> {
    const ack: Ack = { upToSeq, serverTime: new Date(this.#d.now()).toISOString() };
    try {
      await this.#d.broker.publish(deviceTopic(deviceId, 'ack'), ack, { qos: 1 });
    } catch (cause) {
      // stored durably already: the device re-sends, the duplicate is re-acked
      if (cause instanceof LoaError && cause.code === 'BROKER_STOPPED') {
        this.#d.logger.debug({ deviceId, upToSeq }, 'ack not sent: the server is stopping');
        return;
      }
      this.#d.logger.warn(
        { err: new LoaError('ACK_FAILED', 'ack publish failed', { cause }), deviceId },
        'ack failed',
      );
    }
  }
}
