/**
 * Emergency broadcasts: one request → (text-to-speech through the speech service, transcoded to the
 * station format, or an uploaded audio item) → a signed emergency bundle (priority emergency,
 * rule immediate, repeated) published inline on the unit subtree's emergency topic → live
 * per-device tracking from statuses and proofs (JSON view and an event stream for SSE).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  EMERGENCY_INLINE_MAX_BYTES,
  globalTimers,
  type InlineBlob,
  LoaError,
  type Manifest,
  manifestBlobs,
  type Proof,
  type Status,
  type Timers,
  verifyManifest,
} from '@loa/protocol';
import type { Logger } from 'pino';
import {
  applyEmergencyProof,
  applyEmergencyStatus,
  composeEmergencyManifest,
  DEFAULT_ESCALATION,
  EMERGENCY_CHANNEL,
  type EmergencyDeviceState,
  type EmergencyRepeat,
  type EmergencyRequest,
  EmergencyRequestSchema,
  type EmergencySummary,
  type EscalationPolicy,
  escalationDue,
  initialEmergencyState,
  summarizeEmergency,
} from '../domain/emergency.js';
import type { BundleRecord, ContentRecord } from '../domain/model.js';
import { inScope, requireScope } from '../domain/rbac.js';
import type { Store } from '../store/ports.js';
import type { BlobStore } from './blob-store.js';
import type { Notifier } from './notifier.js';
import { contentLike } from './publisher.js';
import type { Signer } from './signer.js';
import type { SpeechService } from './speech-service.js';
import { STATION_AUDIO, type Transcoder } from './transcoder.js';
import type { TrustService } from './trust-service.js';

export interface EmergencyView {
  bundle: BundleRecord;
  devices: EmergencyDeviceState[];
  summary: EmergencySummary;
}

export type EmergencyEvent =
  | { type: 'emergency.sent'; bundleId: string; unit: string; summary: EmergencySummary }
  | { type: 'emergency.device'; bundleId: string; device: EmergencyDeviceState; summary: EmergencySummary }
  /** Stations that never confirmed it, after the re-send: the operator on duty is told (webhook). */
  | {
      type: 'emergency.unconfirmed';
      bundleId: string;
      unit: string;
      title: string;
      devices: { id: string; name: string; unit: string }[];
    };

interface Actor {
  id: string;
  username: string;
  scope: readonly string[];
  ip?: string;
}

export interface EmergencyDeps {
  store: Store;
  blobs: BlobStore;
  transcoder: Transcoder;
  /** Speaks the text the way bulletins of the unit are spoken (voice, lexicon). */
  speech: Pick<SpeechService, 'speak'>;
  signer: Signer;
  trust: TrustService;
  notifier: Notifier;
  logger: Logger;
  now: () => number;
  /** Escalation of stations that do not confirm (default: re-send at 30 s, alert at 90 s). */
  escalation?: EscalationPolicy;
  timers?: Timers;
}

export class EmergencyService {
  /** bundleId → escalation progress of a recent emergency. */
  readonly #escalations = new Map<string, { resent: boolean; alerted: boolean; timer?: unknown }>();
  readonly #d: EmergencyDeps;
  /** bundleId → deviceId → state (recent emergencies, in memory). */
  readonly #tracking = new Map<string, Map<string, EmergencyDeviceState>>();
  /**
   * bundleId → the counts by stage of its tracking, kept as each device changes: every station's
   * confirmation would otherwise count all the targeted stations again (a thousand statuses of a
   * thousand stations each).
   */
  readonly #summaries = new Map<string, EmergencySummary>();
  /** Rebuilds in progress (after a restart), so concurrent views and hooks share one. */
  readonly #rebuilding = new Map<string, Promise<Map<string, EmergencyDeviceState> | undefined>>();
  readonly #listeners = new Set<(e: EmergencyEvent) => void>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(d: EmergencyDeps) {
    this.#d = { ...d, logger: d.logger.child({ module: 'emergency' }) };
  }

  on(fn: (e: EmergencyEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: EmergencyEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'emergency listener failed');
      }
    }
  }

  /** Speaks the text into the station format and stores it as an audio content item. */
  async #speak(req: EmergencyRequest, actor: Actor): Promise<ContentRecord> {
    const { blobs, transcoder } = this.#d;
    const wav = blobs.tempPath('.wav');
    const out = blobs.tempPath(`.${STATION_AUDIO.extension}`);
    try {
      const how = await this.#d.speech.speak(req.text as string, { unit: req.unit, lang: req.lang }, wav);
      // speech-grade, so that a short alert travels inside the emergency message
      const r = await transcoder.transcodeAudio(wav, out, { speech: true });
      const stored = await blobs.importFile(out);
      const rec: ContentRecord = {
        id: `c-${randomBytes(8).toString('hex')}`,
        kind: 'audio',
        title: req.title,
        lang: req.lang,
        category: 'emergency',
        unit: req.unit,
        sha256: stored.sha256,
        size: stored.size,
        mediaType: STATION_AUDIO.mediaType,
        durationMs: r.durationMs,
        loudnessLufs: r.integratedLufs,
        truePeakDbfs: r.truePeakDbfs,
        createdBy: actor.id,
        createdAt: new Date(this.#d.now()).toISOString(),
        meta: { tts: how },
      };
      await this.#d.store.content.insert(rec);
      return rec;
    } finally {
      await blobs.removeTemp(wav);
      await blobs.removeTemp(out);
    }
  }

  /** Sends an emergency. Serialised so that versions on the emergency channel stay monotonic. */
  send(req: EmergencyRequest, actor: Actor): Promise<EmergencyView> {
    const run = this.#queue.then(() => this.#send(req, actor));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #send(req: EmergencyRequest, actor: Actor): Promise<EmergencyView> {
    const { store, signer, trust, notifier } = this.#d;
    requireScope(actor, req.unit);
    const policy = trust.require();
    const key = await signer.active(actor.id);
    if (!key)
      throw new LoaError('SIGNING_KEY_NOT_FOUND', 'Bạn chưa có khóa ký trên máy chủ để phát khẩn cấp');
    const delegated = policy.keys.find((k) => k.keyid === key.keyid);
    if (!delegated?.roles.includes('emergency'))
      throw new LoaError('ROLE_NOT_AUTHORISED', 'Khóa của bạn chưa được tỉnh ủy quyền phát khẩn cấp');
    let audio: ContentRecord | undefined;
    if (req.content) {
      audio = await store.content.get(req.content);
      // content outside the sender's scope answers as absent
      if (!audio || !inScope(actor, audio.unit))
        throw new LoaError('CONTENT_NOT_FOUND', `Không tìm thấy nội dung "${req.content}"`);
      if (audio.kind !== 'audio') throw new LoaError('CONTENT_KIND', 'Nội dung khẩn cấp phải là âm thanh');
    } else if (req.text) {
      audio = await this.#speak(req, actor);
    }
    const now = new Date(this.#d.now());
    const version = (await store.bundles.latestVersion(EMERGENCY_CHANNEL)) + 1;
    const body = composeEmergencyManifest(req, audio ? contentLike(audio) : undefined, { version, now });
    const { doc } = await signer.sign(actor.id, { ...body, signatures: [] });
    const manifest = doc as Manifest;
    verifyManifest(manifest, { trust: policy, now });
    const at = now.toISOString();
    const bundle: BundleRecord = {
      id: manifest.id,
      channel: EMERGENCY_CHANNEL,
      version,
      state: 'published',
      manifest,
      units: [req.unit],
      createdBy: actor.id,
      createdAt: at,
      updatedAt: at,
      submittedBy: actor.id,
      submittedAt: at,
      approvedBy: [actor.id],
      approvedAt: at,
      publishedBy: actor.id,
      publishedAt: at,
      emergency: true,
      meta: { request: req },
    };
    await store.bundles.insert(bundle);
    // Stored durably, and audited, before any station hears of it: a server that crashes after
    // the publish must come back knowing this emergency (its version, so that the next one is
    // newer and not refused by the stations that played this one as a conflicting version; its
    // tracking, escalation and cancel; who sent it). The registry coalesces its writes, so its
    // write is asked for now, beside the audit's: the two fsyncs overlap instead of queueing.
    await Promise.all([
      store.flush(),
      store.audit.append({
        actor: { type: 'user', id: actor.id, name: actor.username },
        action: 'emergency.send',
        target: { type: 'bundle', id: bundle.id },
        unit: req.unit,
        ...(actor.ip ? { ip: actor.ip } : {}),
        details: { title: req.title, repeat: req.repeat, content: audio?.id },
      }),
    ]);
    const devices = await notifier.targetedDevices(manifest.targets);
    const states = new Map(devices.map((d) => [d.id, initialEmergencyState(d.id, d.unit, now)] as const));
    this.#track(bundle.id, states);
    await notifier.sendEmergency(manifest, await this.#inlineAudio(manifest));
    this.#escalate(bundle.id, now.getTime());
    const summary = summarizeEmergency(states.values());
    this.#d.logger.info({ bundle: bundle.id, unit: req.unit, devices: devices.length }, 'emergency sent');
    this.#emit({ type: 'emergency.sent', bundleId: bundle.id, unit: req.unit, summary });
    return { bundle, devices: [...states.values()], summary };
  }

  /**
   * Escalation of the stations that have not confirmed (nothing heard, or refused): at
   * `resendAfterMs` the emergency is sent again on each one's own topic; at `alertAfterMs` the
   * stations still unconfirmed are named to the operator on duty (event `emergency.unconfirmed`,
   * a webhook, the audit log). A cancelled emergency is not escalated.
   */
  #escalate(bundleId: string, sentAt: number): void {
    const timers = this.#d.timers ?? globalTimers;
    const e = this.#escalations.get(bundleId) ?? { resent: false, alerted: false };
    this.#escalations.set(bundleId, e);
    while (this.#escalations.size > 50) {
      const [oldest, old] = this.#escalations.entries().next().value as [string, { timer?: unknown }];
      timers.clearTimeout(old.timer);
      this.#escalations.delete(oldest);
    }
    const states = this.#tracking.get(bundleId);
    if (!states) return;
    const now = this.#d.now();
    const due = escalationDue(states.values(), sentAt, now, e, this.#d.escalation ?? DEFAULT_ESCALATION);
    if (due.resend.length) e.resent = true;
    if (due.alert.length) e.alerted = true;
    if (due.resend.length || due.alert.length)
      void this.#escalateNow(bundleId, due.resend, due.alert).catch((err) =>
        this.#d.logger.error({ err, bundle: bundleId }, 'emergency escalation failed'),
      );
    if (due.next !== undefined)
      e.timer = timers.setTimeout(() => this.#escalate(bundleId, sentAt), Math.max(0, due.next - now));
  }

  async #escalateNow(bundleId: string, resend: string[], alert: string[]): Promise<void> {
    const { store, notifier } = this.#d;
    const b = await store.bundles.get(bundleId);
    if (!b?.emergency || b.state !== 'published') return;
    const inline = resend.length ? await this.#inlineAudio(b.manifest) : [];
    for (const id of resend) await notifier.sendEmergencyTo(id, b.manifest, inline);
    if (resend.length)
      this.#d.logger.warn(
        { bundle: bundleId, devices: resend.length },
        'emergency re-sent to unconfirmed stations',
      );
    if (alert.length === 0) return;
    const devices = [];
    for (const id of alert) {
      const d = await store.devices.get(id);
      devices.push({ id, name: d?.name ?? id, unit: d?.unit ?? b.units[0] ?? '' });
    }
    const unit = b.units[0] ?? '';
    await store.audit.append({
      actor: { type: 'system', id: 'emergency' },
      action: 'emergency.unconfirmed',
      target: { type: 'bundle', id: bundleId },
      unit,
      details: {
        devices: devices
          .map((d) => d.name)
          .join(', ')
          .slice(0, 2000),
        count: devices.length,
      },
    });
    this.#d.logger.warn({ bundle: bundleId, devices: devices.length }, 'emergency unconfirmed by stations');
    this.#emit({
      type: 'emergency.unconfirmed',
      bundleId,
      unit,
      title: b.manifest.description ?? bundleId,
      devices,
    });
  }

  /**
   * Repeats (sends again) or extends (more repeats, a longer validity) an emergency in progress:
   * a new emergency bundle from the original request with the changes, signed by the person like
   * the original. A cancelled emergency cannot be repeated.
   */
  async repeat(bundleId: string, change: EmergencyRepeat, actor: Actor): Promise<EmergencyView> {
    const b = await this.#d.store.bundles.get(bundleId);
    if (!b?.emergency) throw new LoaError('EMERGENCY_NOT_FOUND', 'Không tìm thấy bản tin khẩn cấp');
    for (const u of b.units) requireScope(actor, u);
    if (b.state === 'recalled')
      throw new LoaError('EMERGENCY_CANCELLED', 'Bản tin khẩn cấp này đã bị huỷ, không phát lại được');
    const original = EmergencyRequestSchema.safeParse(b.meta?.request);
    if (!original.success)
      throw new LoaError('EMERGENCY_NOT_REPEATABLE', 'Không đọc được yêu cầu gốc của bản tin khẩn cấp này');
    // the audio the original played (uploaded or synthesised) is played again, not spoken anew
    const audio = b.manifest.items.find((i) => i.id === 'alert-audio');
    const content = audio?.blob
      ? (await this.#d.store.content.list((c) => c.sha256 === audio.blob?.sha256 && c.kind === 'audio'))[0]
      : undefined;
    const req = {
      ...original.data,
      ...change,
      ...(content ? { content: content.id } : {}),
    };
    const view = await this.send(req, actor);
    await this.#d.store.bundles.update(view.bundle.id, {
      meta: { ...(view.bundle.meta ?? {}), repeatOf: bundleId },
    });
    return view;
  }

  /**
   * The manifest's blobs to carry in the message: all of them when together they fit in
   * EMERGENCY_INLINE_MAX_BYTES (a short spoken alert), none otherwise (stations download them).
   */
  async #inlineAudio(manifest: Manifest): Promise<InlineBlob[]> {
    const refs = manifestBlobs(manifest);
    const total = refs.reduce((n, b) => n + b.size, 0);
    if (refs.length === 0 || total > EMERGENCY_INLINE_MAX_BYTES) return [];
    const out: InlineBlob[] = [];
    for (const b of refs) {
      const data = await readFile(this.#d.blobs.path(b.sha256));
      out.push({ sha256: b.sha256, data: data.toString('base64') });
    }
    return out;
  }

  async view(bundleId: string): Promise<EmergencyView> {
    const bundle = await this.#d.store.bundles.get(bundleId);
    if (!bundle?.emergency) throw new LoaError('EMERGENCY_NOT_FOUND', 'Không tìm thấy bản tin khẩn cấp');
    const states = [...((await this.#tracked(bundleId))?.values() ?? [])];
    return { bundle, devices: states, summary: summarizeEmergency(states) };
  }

  #track(bundleId: string, states: Map<string, EmergencyDeviceState>): void {
    this.#tracking.set(bundleId, states);
    this.#summaries.set(bundleId, summarizeEmergency(states.values()));
    while (this.#tracking.size > 50) {
      const oldest = this.#tracking.keys().next().value as string;
      this.#tracking.delete(oldest);
      this.#summaries.delete(oldest);
    }
  }

  /** The live tracking of an emergency, rebuilt from the stored proofs when it is not in memory. */
  #tracked(bundleId: string): Promise<Map<string, EmergencyDeviceState> | undefined> {
    const t = this.#tracking.get(bundleId);
    if (t) return Promise.resolve(t);
    let p = this.#rebuilding.get(bundleId);
    if (!p) {
      p = this.#rebuild(bundleId).finally(() => this.#rebuilding.delete(bundleId));
      this.#rebuilding.set(bundleId, p);
    }
    return p;
  }

  /**
   * After a restart (or once an emergency has left the in-memory window of 50): the targeted
   * devices as the registry has them now, advanced by every stored proof of this emergency.
   * Proofs are durable, so "playing" and "completed" (and the play count) come back exactly;
   * the "received" and "failed" status reports are not stored and show again only when sent again.
   */
  async #rebuild(bundleId: string): Promise<Map<string, EmergencyDeviceState> | undefined> {
    const { store, notifier } = this.#d;
    const bundle = await store.bundles.get(bundleId);
    if (!bundle?.emergency) return undefined;
    const sentAt = bundle.publishedAt ?? bundle.createdAt;
    const devices = await notifier.targetedDevices(bundle.manifest.targets);
    const states = new Map(
      devices.map((d) => [d.id, initialEmergencyState(d.id, d.unit, new Date(sentAt))] as const),
    );
    // an emergency's proofs: a few per targeted device (started, completed, each repeat)
    const limit = Math.max(1000, devices.length * 20);
    for (const e of await store.proofs.query({ from: sentAt, bundleId, limit })) {
      const cur = states.get(e.deviceId);
      const next = cur && applyEmergencyProof(cur, e.proof, bundleId, new Date(e.receivedAt));
      if (next) states.set(e.deviceId, next);
    }
    this.#track(bundleId, states);
    this.#d.logger.info({ bundle: bundleId, devices: states.size }, 'emergency tracking rebuilt from proofs');
    return states;
  }

  async list(limit = 20): Promise<BundleRecord[]> {
    const all = await this.#d.store.bundles.list((b) => b.emergency === true);
    return all.sort((a, b) => b.version - a.version).slice(0, limit);
  }

  #update(
    bundleId: string,
    deviceId: string,
    fn: (s: EmergencyDeviceState) => EmergencyDeviceState | undefined,
  ): void {
    const states = this.#tracking.get(bundleId);
    const cur = states?.get(deviceId);
    if (!states || !cur) return;
    const next = fn(cur);
    if (!next) return;
    states.set(deviceId, next);
    let summary = this.#summaries.get(bundleId);
    if (!summary) {
      summary = summarizeEmergency(states.values());
      this.#summaries.set(bundleId, summary);
    } else if (next.stage !== cur.stage) {
      summary[cur.stage]--;
      summary[next.stage]++;
    }
    this.#emit({ type: 'emergency.device', bundleId, device: next, summary: { ...summary } });
  }

  /** Ingest hook: a status report (verified/active = received, playing = started). */
  async applyStatus(deviceId: string, s: Status): Promise<void> {
    if (!this.#tracking.has(s.bundleId)) {
      // not tracked in memory: an emergency sent before a restart, or not an emergency at all
      if (s.channel !== EMERGENCY_CHANNEL || !(await this.#tracked(s.bundleId))) return;
    }
    this.#update(s.bundleId, deviceId, (cur) =>
      applyEmergencyStatus(cur, s, s.bundleId, new Date(this.#d.now())),
    );
  }

  /** Ingest hook: a proof with priority emergency (called once the proof is stored). */
  async applyProof(deviceId: string, p: Proof): Promise<void> {
    if (!p.bundleId) return;
    const bundleId = p.bundleId;
    // a rebuild reads the stored proofs, this one included: apply it only to a tracking that
    // was already in memory
    if (!this.#tracking.has(bundleId)) {
      await this.#tracked(bundleId);
      // tell the listeners where the rebuilt tracking has this device (the proof is in it)
      this.#update(bundleId, deviceId, (cur) => cur);
      return;
    }
    this.#update(bundleId, deviceId, (cur) => applyEmergencyProof(cur, p, bundleId, new Date(this.#d.now())));
  }
}
